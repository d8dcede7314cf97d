from django.urls import path

from incidents import views

urlpatterns = [
    path("", views.report_list, name="report-list"),
    path("imports/", views.import_list, name="import-batch-list"),
    path("imports/<int:pk>/", views.import_detail, name="import-batch-detail"),
    path("imports/<int:pk>/status/", views.import_status, name="import-batch-status"),
    path("imports/<int:pk>/rejects/", views.import_rejects, name="import-batch-rejects"),
    path("imports/<int:pk>/retry/", views.import_retry, name="import-batch-retry"),
]
