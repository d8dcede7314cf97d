"""The reports API: a force's use-of-force reports, record by record, in JSON or CSV."""

import operator

from django.db import connections
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import pagination, permissions, serializers, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from forces.authentication import TokenAccess, scope_force_id
from forces.roles import HasRecordAccess
from incidents import canonical
from incidents.filters import (
    CED_LEVEL_NAMES,
    LEVEL_NAMES,
    LOCATION_GROUP_NAMES,
    OPTION_LISTS,
    OPTIONS,
    OUTCOME_NAMES,
    ReportFilter,
    option_choices,
)
from incidents.models import (
    LADDER,
    CedLevel,
    CedUse,
    UseOfForceReport,
)
from incidents.queries import (
    reports_visible_to,
)
from oversight.api import (
    CsvListMixin,
    FilterBackend,
    checked_paging,
    copied_csv,
    download,
    id_halves,
    paging_parameters,
    streamed_csv,
)


@extend_schema_field({"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "01:16"})
class ClockTimeField(serializers.CharField):
    """A report's time as the hour and minute the form records."""


# --- reports ----------------------------------------------------------------------------------

# Reports are read as .values() rows and turned into JSON by the getters below, in the order of
# the serializers' fields: DRF's per-field machinery took longer than the query itself. The
# serializers' declared fields remain what the schema shows; the contract test holds the two
# together.
REPORT_COLUMNS = [field.attname for field in UseOfForceReport._meta.concrete_fields] + ["area__code", "area__name"]
DEVICE_COLUMNS = [field.attname for field in CedUse._meta.concrete_fields]


def levels_of(row):
    return [LEVEL_NAMES[level] for level, flag in LADDER if row[flag]]


def ticked(list_name):
    prefix = dict(OPTION_LISTS)[list_name]
    columns = [(column, column.removeprefix(prefix)) for column, _ in OPTIONS[list_name]]
    return lambda row: [name for column, name in columns if row[column]]


def from_row(fields, getters):
    """to_representation for .values() rows: each field by its getter, else the column of its name."""
    getters = [(name, getters.get(name, operator.itemgetter(name))) for name in fields]

    def to_representation(self, row):
        return {name: get(row) for name, get in getters}

    return to_representation


class CedUseSerializer(serializers.ModelSerializer):
    levels = serializers.SerializerMethodField(help_text="Ladder levels used with this device, highest first")

    class Meta:
        model = CedUse
        fields = [
            "device_number", "device_model", "serial_number", "levels", "drive_stun_repeated", "cartridge_number",
            "cycle_interrupted", "repeat_cycle_same_cartridge", "cycles", "cycle_extended", "missed_one_probe",
            "missed_both_probes", "probe_zones",
        ]  # fmt: skip

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(CED_LEVEL_NAMES)))
    def get_levels(self, use):
        return levels_of(use)

    to_representation = from_row(Meta.fields, {"levels": levels_of})


def level_name(level):
    return None if level is None else LEVEL_NAMES[CedLevel(level)]


def clock_time(time):
    return None if time is None else time.strftime("%H:%M")


class ReportSerializer(serializers.ModelSerializer):
    """One report. Multi-select groups come as lists of the options ticked; levels by name."""

    force = serializers.CharField(source="force_id", help_text="data.police.uk force id")
    area = serializers.CharField(allow_null=True, help_text="Area code; empty when not recorded")
    area_name = serializers.CharField(allow_null=True)
    occurred_at = ClockTimeField(allow_null=True, read_only=True, help_text="Time of day, HH:MM; empty if not recorded")
    highest_ced_level = serializers.ChoiceField(
        CED_LEVEL_NAMES, allow_null=True, read_only=True, help_text="By the ladder rule; empty without Taser"
    )
    ced_levels = serializers.ListField(
        child=serializers.ChoiceField(CED_LEVEL_NAMES),
        help_text="Every ladder level used, highest first",
        read_only=True,
    )
    ced_uses = CedUseSerializer(many=True, read_only=True)
    locations = serializers.ListField(
        child=serializers.ChoiceField(option_choices("locations", "location_")), read_only=True
    )
    location_groups = serializers.ListField(child=serializers.ChoiceField(list(LOCATION_GROUP_NAMES)), read_only=True)
    impact_factors = serializers.ListField(
        child=serializers.ChoiceField(option_choices("impact_factors", "impact_")), read_only=True
    )
    reasons = serializers.ListField(child=serializers.ChoiceField(option_choices("reasons", "reason_")), read_only=True)
    outcomes = serializers.ListField(child=serializers.ChoiceField(OUTCOME_NAMES), read_only=True)

    class Meta:
        model = UseOfForceReport
        fields = [
            "id", "force", "area", "area_name", "occurred_on", "occurred_at", "incident_reference",
            "officer_reference", "subject_age", "subject_gender", "subject_ethnicity", "subject_ethnicity_source",
            "subject_health", "subject_conduct", "locations", "location_groups", "impact_factors", "reasons",
            "officer_single_crewed", "officer_ced_trained", "officer_carrying_ced", "officer_assaulted",
            "officer_threatened_with_weapon", "officer_main_duty", "body_worn_video", "outcomes", "officer_injury",
            "subject_injury", "ced_used", "highest_ced_level", "ced_levels", "ced_uses", "data_version",
            "source_key", "source_row",
        ]  # fmt: skip

    to_representation = from_row(
        Meta.fields,
        {
            "force": operator.itemgetter("force_id"),
            "area": operator.itemgetter("area__code"),
            "area_name": operator.itemgetter("area__name"),
            "occurred_at": lambda row: clock_time(row["occurred_at"]),
            "highest_ced_level": lambda row: level_name(row["highest_ced_level"]),
            "ced_levels": levels_of,
            "ced_uses": lambda row: [CedUseSerializer.to_representation(None, use) for use in row["ced_uses"]],
            "location_groups": lambda row: [
                name for name, flags in LOCATION_GROUP_NAMES.items() if any(row[f] for f in flags)
            ],
            **{name: ticked(name) for name, _ in OPTION_LISTS},
        },
    )


def with_ced_uses(rows):
    """The .values() rows of reports, each with the rows of its CED uses, in one query."""
    uses = {}
    ids = [row["id"] for row in rows]
    # Ordered by the columns themselves: CedUse's default ordering would join the reports.
    for use in CedUse.objects.filter(report_id__in=ids).order_by("report_id", "device_number").values(*DEVICE_COLUMNS):
        uses.setdefault(use["report_id"], []).append(use)
    for row in rows:
        row["ced_uses"] = uses.get(row["id"], [])
    return rows


class ReportPagination(pagination.CursorPagination):
    """Cursor paging: steady on millions of rows, and no page shifts while new reports arrive."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = ("-occurred_on", "-id")

    def paginate_queryset(self, queryset, request, view=None):
        checked_paging(request, page_query_param=None)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        return paging_parameters(super().get_schema_operation_parameters(view), max_page_size=self.max_page_size)


@extend_schema_view(
    list=extend_schema(
        summary="Your force's use-of-force reports, filtered; ?format=csv gives them all in the canonical format"
    ),
    retrieve=extend_schema(summary="One report with its CED uses"),
)
class ReportViewSet(CsvListMixin, viewsets.ReadOnlyModelViewSet):
    """Record-level reports of the caller's force (current ones: withdrawn records are left out)."""

    serializer_class = ReportSerializer
    permission_classes = [permissions.IsAuthenticated, HasRecordAccess, TokenAccess]
    pagination_class = ReportPagination
    filter_backends = [FilterBackend, OrderingFilter]
    filterset_class = ReportFilter
    ordering_fields = ["occurred_on", "id"]
    ordering = ["-occurred_on", "-id"]

    def get_queryset(self):
        reports = reports_visible_to(self.request.user)
        force = scope_force_id(self.request)
        if force:
            reports = reports.filter(force=force)
        return reports.values(*REPORT_COLUMNS)

    def list(self, request, *args, **kwargs):
        if request.accepted_renderer.format == "csv":
            checked_paging(request, page_query_param=None)
            return self.csv_download(self.filter_queryset(self.get_queryset()))
        page = with_ced_uses(self.paginate_queryset(self.filter_queryset(self.get_queryset())))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(self.get_serializer(with_ced_uses([self.get_object()])[0]).data)

    def csv_download(self, queryset, filename=None):
        filename = f"{scope_force_id(self.request) or 'all-forces'}-reports.csv"
        if connections[queryset.db].vendor == "postgresql":
            parts = [canonical.copy_query(part) for part in id_halves(queryset)]
            return download(copied_csv(parts, canonical.HEADER), filename)
        return streamed_csv(canonical.rows(queryset), filename)
