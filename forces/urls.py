from django.urls import path

from forces import views

urlpatterns = [
    path("", views.home, name="home"),
    path("account/tokens/", views.api_tokens, name="api-tokens"),
    path("healthz", views.healthz, name="healthz"),
]
