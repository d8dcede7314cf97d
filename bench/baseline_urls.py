"""The application's URLs plus a bare summaries view: the baseline of bench/api.py, never part of the app.

`/bench/summaries/?force=ID&from=YYYY-MM&to=YYYY-MM` answers the monthly rows that a naive view
would: one `.values()` query over the monthly summaries, as `JsonResponse`, no serializer, no
suppression, no population rates.
"""

from django.db.models import Sum
from django.http import JsonResponse
from django.urls import include, path

from incidents.models import MonthlySummary
from incidents.queries import API_MEASURES


def bare_summaries(request):
    rows = (
        MonthlySummary.objects.filter(
            force=request.GET["force"], month__gte=request.GET["from"] + "-01", month__lte=request.GET["to"] + "-01"
        )
        .values("month")
        .annotate(**{name: Sum(name) for name in API_MEASURES})
        .order_by("month")
    )
    return JsonResponse({"results": list(rows)})


urlpatterns = [path("bench/summaries/", bare_summaries), path("", include("oversight.urls"))]
