from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import permissions, routers
from rest_framework.routers import DefaultRouter

from forces.api import CapabilityViewSet, ForceViewSet, PublishedFigureViewSet, UpliftDecisionViewSet
from incidents.api.imports import ImportViewSet
from incidents.api.reports import ReportViewSet
from incidents.api.summaries import SummaryViewSet
from scrutiny.api import (
    ActionViewSet,
    FindingViewSet,
    PublishedFindingViewSet,
    ResponseViewSet,
    ReviewViewSet,
    SampleViewSet,
)


# Every API resource, under /api/v1/: plural nouns, one router.
class ApiRoot(routers.APIRootView):
    """The resources of the API. Public ones need no sign-in; see /api/docs/."""

    permission_classes = [permissions.AllowAny]


router = DefaultRouter()
router.APIRootView = ApiRoot
router.register("forces", ForceViewSet, basename="api-force")
router.register("summaries", SummaryViewSet, basename="api-summary")
router.register("published-figures", PublishedFigureViewSet, basename="api-published-figure")
router.register("capability", CapabilityViewSet, basename="api-capability")
router.register("uplift-decisions", UpliftDecisionViewSet, basename="api-uplift-decision")
router.register("published-findings", PublishedFindingViewSet, basename="api-published-finding")
router.register("reports", ReportViewSet, basename="api-report")
router.register("imports", ImportViewSet, basename="api-import")
router.register("samples", SampleViewSet, basename="api-sample")
router.register("reviews", ReviewViewSet, basename="api-review")
router.register("findings", FindingViewSet, basename="api-finding")
router.register("force-responses", ResponseViewSet, basename="api-force-response")
router.register("actions", ActionViewSet, basename="api-action")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("forces.urls")),
    path("", include("dashboards.urls")),
    path("reports/", include("incidents.urls")),
    path("scrutiny/", include("scrutiny.urls")),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file (?script): no inline script for the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("audit/", include("audit.urls")),
]

handler404 = "oversight.api.not_found"
handler403 = "oversight.errors.forbidden"
