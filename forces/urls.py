from django.urls import path

from forces import views

urlpatterns = [
    path("", views.home, name="home"),
    path("forces/<slug:force_id>/", views.force_dashboard, name="force-dashboard"),
    path("forces/<slug:force_id>/reconciliation/", views.force_reconciliation, name="force-reconciliation"),
    path("forces/<slug:force_id>/quarterly/", views.quarterly_reports, name="quarterly-reports"),
    path("forces/<slug:force_id>/quarterly/<int:pk>/", views.quarterly_report, name="quarterly-report"),
    path("account/tokens/", views.api_tokens, name="api-tokens"),
    path("healthz", views.healthz, name="healthz"),
]
