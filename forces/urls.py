from django.urls import path

from forces import views

urlpatterns = [
    path("", views.home, name="home"),
    path("forces/<slug:force_id>/", views.force_dashboard, name="force-dashboard"),
    path("healthz", views.healthz, name="healthz"),
]
