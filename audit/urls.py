from django.urls import path

from audit import views

urlpatterns = [
    path("reports/<int:pk>/export/", views.report_export, name="audit-report-export"),
    path("<slug:kind>/<int:pk>/", views.record_trail, name="audit-trail"),
]
