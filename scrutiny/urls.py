from django.urls import path

from scrutiny import views

urlpatterns = [
    path("", views.index, name="scrutiny"),
    path("start/", views.start, name="scrutiny-start"),
    path("cases/", views.my_cases, name="scrutiny-my-cases"),
    path("cases/<int:pk>/", views.case_review, name="scrutiny-case"),
    path("cases/<int:pk>/meeting/", views.case_meeting, name="scrutiny-case-meeting"),
    path("cases/<int:pk>/footage/", views.case_footage_page, name="scrutiny-case-footage"),
    path("meetings/<int:pk>/", views.meeting_detail, name="scrutiny-meeting"),
    path("samples/<int:pk>/", views.sample_detail, name="scrutiny-sample"),
    path("panels/", views.panel_list, name="scrutiny-panels"),
    path("panels/<int:pk>/", views.panel_detail, name="scrutiny-panel"),
    path("panels/<int:pk>/quarterly/<str:quarter>/", views.panel_quarterly, name="scrutiny-quarterly"),
    path("panels/<int:pk>/annual/<int:year>/", views.panel_annual, name="scrutiny-annual"),
    path("forces/<slug:force_id>/annual/<int:year>/", views.force_annual, name="scrutiny-force-annual"),
    path("members/<int:pk>/", views.member_edit, name="scrutiny-member"),
    path("findings/<int:pk>/", views.finding_detail, name="scrutiny-finding"),
    path("responses/", views.responses, name="scrutiny-responses"),
    path("notifications/", views.notifications, name="scrutiny-notifications"),
    path("actions/", views.action_list, name="scrutiny-actions"),
    path("actions/<int:pk>/", views.action_detail, name="scrutiny-action"),
    path("public/<slug:force_id>/", views.public_summary, name="scrutiny-public"),
    path("public/<slug:force_id>/annual/<int:year>/", views.public_force_annual, name="scrutiny-public-force-annual"),
    path("public/<slug:force_id>/panels/<int:pk>/<int:year>/", views.public_annual, name="scrutiny-public-annual"),
]
