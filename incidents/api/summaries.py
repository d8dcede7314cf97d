"""The summaries API: monthly, quarterly and yearly figures, public where small numbers are suppressed."""

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer

from forces.api import PUBLIC
from forces.authentication import scope_force_id, token_of
from forces.models import Force
from forces.roles import RECORD_ROLES, may
from forces.versions import figures_version
from incidents.disclosure import hidden_names, hide_in_row, public_summary_rows
from incidents.models import (
    SUMMARY_MEASURES,
)
from incidents.queries import (
    ADDITIVE_GROUPS,
    API_MEASURES,
    RATE_FIELDS,
    RATIO_FIELDS,
    UNIT_OF_COUNT,
    group_rates,
    summary_lags,
    summary_rows,
    summary_state,
)
from oversight.api import (
    PagePagination,
    cell,
    checked_paging,
    streamed_csv,
)
from oversight.cache import answer_key, http_seconds
from oversight.police_calendar import FIRST_DAY, LAST_DAY, PERIODS


class MonthField(serializers.DateField):
    """A day (YYYY-MM-DD) or a month (YYYY-MM, its first day)."""

    def to_internal_value(self, value):
        if isinstance(value, str) and len(value) == 7:
            value += "-01"
        return super().to_internal_value(value)


class SummaryQuery(serializers.Serializer):
    # Checked against the forces in the view, and only where no summaries answer for it: a query saved.
    force = serializers.CharField(required=False, help_text="data.police.uk force id")
    area = serializers.CharField(required=False, allow_blank=True, help_text="Area code: one area's rows only")
    by_area = serializers.BooleanField(default=False, help_text="One row per area and period, not per force")
    period = serializers.ChoiceField(PERIODS, default="month", help_text="Calendar month, quarter or financial year")
    date_from = MonthField(required=False, help_text="From the period holding this day (YYYY-MM or YYYY-MM-DD)")
    date_to = MonthField(required=False, help_text="To the period holding this day (YYYY-MM or YYYY-MM-DD)")

    def to_internal_value(self, data):
        # `from` and `to` are Python keywords: the fields carry other names.
        data = {"date_from" if k == "from" else "date_to" if k == "to" else k: v for k, v in data.items()}
        return super().to_internal_value(data)

    def validate(self, query):
        for name, key in (("from", "date_from"), ("to", "date_to")):
            if query.get(key) and not FIRST_DAY <= query[key] <= LAST_DAY:
                raise serializers.ValidationError({name: f"{query[key]} is outside {FIRST_DAY} to {LAST_DAY}."})
        if query.get("date_from") and query.get("date_to") and query["date_from"] > query["date_to"]:
            raise serializers.ValidationError({"from": "is after to."})
        return query


# A day (YYYY-MM-DD) or a month (YYYY-MM) from FIRST_DAY to LAST_DAY: the schema says which, as MonthField reads.
DAY_PARAMETER = {
    "type": "string",
    "pattern": (
        "^(19|2[0-9])[0-9]{2}-((0[1-9]|1[0-2])(-(0[1-9]|1[0-9]|2[0-8]))?|(01|0[3-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)$"
    ),
    "example": "2024-04",
}
DAY_DESCRIPTION = f"YYYY-MM or YYYY-MM-DD, {FIRST_DAY} to {LAST_DAY} (and 29 February of a leap year)"
SUMMARY_QUERY_PARAMETERS = [
    OpenApiParameter("force", str, description="data.police.uk force id"),
    OpenApiParameter("area", str, description="Area code: one area's rows only"),
    OpenApiParameter("by_area", bool, description="One row per area and period, not per force"),
    OpenApiParameter(
        "period", str, enum=list(PERIODS), description="Calendar month (default), quarter or financial year"
    ),
    OpenApiParameter("from", DAY_PARAMETER, description="From the period holding this day: " + DAY_DESCRIPTION),
    OpenApiParameter("to", DAY_PARAMETER, description="To the period holding this day: " + DAY_DESCRIPTION),
]


def _count(help_text):
    return serializers.IntegerField(allow_null=True, help_text=help_text + "; empty when suppressed")


def _rate(help_text):
    return serializers.FloatField(allow_null=True, help_text=help_text)


class SummarySerializer(serializers.Serializer):
    """One period of one force (or one area): counts of reports, Taser reports by level and group, rates."""

    force = serializers.CharField(help_text="data.police.uk force id")
    area = serializers.CharField(allow_null=True, help_text="Area code with by_area or area; else empty")
    area_name = serializers.CharField(allow_null=True)
    period = serializers.ChoiceField(PERIODS)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    population = serializers.IntegerField(allow_null=True, help_text="Census 2021 residents; empty without a baseline")
    suppressed = serializers.ListField(child=serializers.CharField(), help_text="The counts suppressed in this row")

    def get_fields(self):
        fields = super().get_fields()
        labels = {name: label for name, (label, _) in SUMMARY_MEASURES.items()}
        labels["incidents"] = "Distinct incidents"
        for name in API_MEASURES:
            fields[name] = _count(labels[name])
        for name in RATE_FIELDS:
            fields[name] = _rate("Taser reports per 1,000 residents of the group (perceived vs self-identified)")
        for name in RATIO_FIELDS:
            fields[name] = _rate("Rate ratio against White, or the bound of its 95% interval")
        return fields


# How long a computed summaries answer is kept; a new data version makes a new one anyway.
ANSWER_SECONDS = 3600
SUPPRESSION_RULE = (
    "Public figures: counts from 1 to {threshold} are suppressed (empty, or [c] in CSV), and so are further "
    "counts wherever what is shown (totals, areas, other periods) would let a suppressed count be worked out; "
    "rates and ratios from suppressed counts are suppressed too. The same cells are suppressed in every answer "
    "and on the public pages. Signed-in staff of a force see its exact figures."
)


class SummaryPagination(PagePagination):
    """Pages of summary rows, headed by what they count, their data version and the suppression applied."""

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data = {**self.about, **response.data}
        return response

    def get_paginated_response_schema(self, schema):
        paged = super().get_paginated_response_schema(schema)
        paged["properties"] = {
            "unit_of_count": {"type": "string", "example": UNIT_OF_COUNT},
            "data_version": {
                "type": "object", "additionalProperties": {"type": "integer"},
                "description": "Each force's data version the figures come from", "example": {"thames-valley": 7},
            },
            "being_summarised": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "properties": {"figures_of_version": {"type": "integer"}, "data_version": {"type": "integer"}},
                },
                "description": "Forces whose summaries are older than their data: the figures are of "
                "figures_of_version while data_version is being summarised (within minutes)",
                "example": {"thames-valley": {"figures_of_version": 7, "data_version": 8}},
            },
            "suppression": {
                "type": "object",
                "properties": {
                    "threshold": {"type": "integer", "example": 5},
                    "applied": {"type": "boolean", "example": True},
                    "rule": {"type": "string", "example": SUPPRESSION_RULE.format(threshold=5)},
                },
            },
            **paged["properties"],
        }  # fmt: skip
        paged["required"] = ["unit_of_count", "data_version", "suppression", *paged.get("required", [])]
        return paged


def _summary_example():
    """One public month of a force, computed by the same rules as a real answer."""
    counts = dict(
        zip(API_MEASURES, [1912, 1530, 187, 0, 14, 3, 2, 61, 8, 99, 0, 17, 170, 121, 38, 14, 9, 0, 5], strict=True)
    )
    population = {
        "total": 2_426_400,
        "white": 1_950_000,
        "black": 62_000,
        "asian": 230_000,
        "mixed": 84_000,
        "other": 30_000,
    }
    row = {
        "force": "thames-valley", "area": None, "area_name": None, "period": "month", "period_start": "2024-07-01",
        "period_end": "2024-07-31", **counts, "population": population["total"], **group_rates(counts, population),
    }  # fmt: skip
    return hide_in_row(row, hidden_names(counts, ADDITIVE_GROUPS, threshold=5))


def exact_figures_for(request):
    """The forces whose exact figures the caller may see: None for all, else a set of force ids."""
    if request.user.is_superuser and not token_of(request):
        return None
    if may(request.user, RECORD_ROLES):
        force = scope_force_id(request)
        return {force} if force else set()
    return set()


@extend_schema_view(
    list=extend_schema(
        summary="Counts by period: reports, Taser reports by CED level and ethnic group, rates and ratios",
        parameters=SUMMARY_QUERY_PARAMETERS,
        examples=[OpenApiExample("One public month of a force", value=_summary_example(), response_only=True)],
        description=(
            "Built from the monthly summaries; quarters and financial years are sums of months. "
            "Answers carry ETag and Last-Modified: send If-None-Match or If-Modified-Since to get 304 "
            "when the data version has not changed."
        ),
    )
)
class SummaryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = SummarySerializer
    permission_classes = PUBLIC
    pagination_class = SummaryPagination
    filter_backends = []

    def list(self, request, *args, **kwargs):
        checked_paging(request)
        query = SummaryQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        query = query.validated_data
        force_ids = [query["force"]] if "force" in query else None
        # Read before the figures: an answer kept under this version is never older than it.
        figures, figures_changed_at = figures_version(force_id=force_ids[0] if force_ids else None)
        state = summary_state(force_ids=force_ids)
        if force_ids and not state and not Force.objects.filter(pk=force_ids[0]).exists():
            raise ValidationError({"force": [f"Object with id={force_ids[0]} does not exist."]})
        exact_for = exact_figures_for(request)
        threshold = settings.SUPPRESSION_THRESHOLD
        versions = {force: version for force, (version, _) in state.items()}
        built = max((built for _, built in state.values()), default=None)
        changed_at = max((moment for moment in (built, figures_changed_at) if moment), default=None)
        # A force whose summaries are older than its data says so, and which version is on its way.
        lags = summary_lags(force_ids=force_ids, state=state)
        being_summarised = {
            force: {"figures_of_version": old, "data_version": new} for force, (old, new) in lags.items()
        }
        tag = answer_tag(request, versions, built, exact_for, lags, figures)
        etag = f'"{tag}"'
        last_modified = http_seconds(changed_at)
        not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
        if not_modified is not None:
            return not_modified

        # Answers change only with the data: one computed is kept under its validator.
        csv = request.accepted_renderer.format == "csv"
        cached = None if csv else cache.get(f"summaries:{tag}")
        if cached is not None:
            response = HttpResponse(cached, content_type="application/json")
        else:
            rows = summary_rows(
                force_ids=force_ids, area_code=query.get("area"), by_area=query["by_area"], period=query["period"],
                start=query.get("date_from"), end=query.get("date_to"),
            )  # fmt: skip
            applied = public_summary_rows(
                rows, exact_for=exact_for, by_area=query["by_area"] or bool(query.get("area")),
                forces=Force.objects.in_bulk({row["force"] for row in rows}),
            )  # fmt: skip
            if csv:
                response = streamed_csv(summary_csv(rows), "summaries.csv")
                # A CSV has no room above its header: what the JSON says about the rows goes in headers.
                response["X-Unit-Of-Count"] = UNIT_OF_COUNT
                response["X-Data-Version"] = ", ".join(f"{force}={version}" for force, version in versions.items())
                response["X-Suppression"] = f"threshold {threshold}, {'applied' if applied else 'not applied'}"
                if lags:
                    response["X-Being-Summarised"] = ", ".join(
                        f"{f}={new} (figures of {old})" for f, (old, new) in lags.items()
                    )
            else:
                self.paginator.about = {
                    "unit_of_count": UNIT_OF_COUNT,
                    "data_version": versions,
                    "being_summarised": being_summarised,
                    "suppression": {
                        "threshold": threshold,
                        "applied": applied,
                        "rule": SUPPRESSION_RULE.format(threshold=threshold),
                    },
                }
                body = JSONRenderer().render(self.get_paginated_response(self.paginate_queryset(rows)).data)
                cache.set(f"summaries:{tag}", body, ANSWER_SECONDS)
                response = HttpResponse(body, content_type="application/json")
        response["ETag"] = etag
        if last_modified:
            response["Last-Modified"] = http_date(last_modified)
        response["Cache-Control"] = "private, no-cache" if exact_for != set() else "public, no-cache"
        patch_vary_headers(response, ["Authorization", "Cookie"])
        return response


def answer_tag(request, versions, built, exact_for, lags, figures):
    """What a summaries answer depends on, as a digest: its ETag and its key in the cache.

    `figures`: the figures version, which moves on with the populations the rates are per.
    """
    return answer_key(
        "summaries", request, sorted(versions.items()), built, request.accepted_renderer.format, exact_for,
        sorted(lags.items()), figures,
    )  # fmt: skip


def summary_csv(rows):
    """Summary rows as CSV: the fields of SummarySerializer, suppressed counts written [c]."""
    names = list(SummarySerializer().fields)
    yield names
    for row in rows:
        hidden = set(row["suppressed"])
        yield ["[c]" if name in hidden else cell(row[name]) for name in names]
