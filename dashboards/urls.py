from django.urls import path

from dashboards import views

urlpatterns = [
    path("forces/<slug:force_id>/", views.force_dashboard, name="force-dashboard"),
    path("forces/<slug:force_id>/areas/", views.area_comparison, name="area-comparison"),
    path("forces/<slug:force_id>/areas/<str:area_code>/", views.force_dashboard, name="area-dashboard"),
    path("forces/<slug:force_id>/reconciliation/", views.force_reconciliation, name="force-reconciliation"),
    path("forces/<slug:force_id>/quarterly/", views.quarterly_reports, name="quarterly-reports"),
    path("forces/<slug:force_id>/quarterly/<int:pk>/", views.quarterly_report, name="quarterly-report"),
    path("compare/", views.compare, name="compare"),
    path("counting-rules/", views.counting_rules, name="counting-rules"),
    path("public/", views.public_index, name="public-index"),
    path("public/<slug:force_id>/", views.public_force, name="public-force"),
    path("reports/<int:pk>/", views.report_detail, name="report-detail"),
]
