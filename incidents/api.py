import hashlib
import operator

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections
from django.http import HttpResponse
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, pagination, permissions, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from forces.api import FORCE_IDS, PUBLIC
from forces.authentication import TokenAccess, scope_force_id, token_of
from forces.models import Force
from forces.roles import RECORD_ROLES, HasRecordAccess, force_of, may
from incidents import canonical
from incidents.disclosure import hidden_names, hide_in_row, public_summary_rows
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
from incidents.forms import check_upload
from incidents.imports.uploads import has_rejects, store_upload
from incidents.models import (
    LADDER,
    SUMMARY_MEASURES,
    CedLevel,
    CedUse,
    ImportBatch,
    UseOfForceReport,
)
from incidents.queries import (
    ADDITIVE_GROUPS,
    API_MEASURES,
    RATE_FIELDS,
    RATIO_FIELDS,
    UNIT_OF_COUNT,
    batches_visible_to,
    group_rates,
    may_upload,
    may_view_imports,
    reports_visible_to,
    summary_lags,
    summary_rows,
    summary_state,
)
from incidents.tasks import NOT_QUEUED, QUEUE_RETRY_SECONDS, enqueue_import, rows_read_so_far
from oversight.api import (
    CsvListMixin,
    FilterBackend,
    PagePagination,
    cell,
    checked_paging,
    copied_csv,
    download,
    id_halves,
    paging_parameters,
    streamed_csv,
)
from oversight.police_calendar import FIRST_DAY, LAST_DAY, PERIODS


@extend_schema_field(OpenApiTypes.BINARY)
class UploadField(serializers.FileField):
    """The file's bytes, sent as multipart/form-data: what a generated client or the docs page can send."""


@extend_schema_field({"type": "string", "enum": FORCE_IDS})
class ForceIdField(serializers.SlugRelatedField):
    """A force by its data.police.uk id: the schema lists the ids."""


@extend_schema_field({"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "01:16"})
class ClockTimeField(serializers.CharField):
    """A report's time as the hour and minute the form records."""


class UnrecognisedValueSerializer(serializers.Serializer):
    column = serializers.CharField(help_text="The file's column")
    value = serializers.CharField(help_text="The value as published, kept on the records")
    rows = serializers.IntegerField(help_text="Rows holding it")
    counted_as = serializers.CharField(help_text="What the product counts it as")


class ImportBatchSerializer(serializers.ModelSerializer):
    force = serializers.CharField(source="force_id", help_text="data.police.uk force id")
    rows_read = serializers.SerializerMethodField(help_text="Rows read so far while running; all rows after")
    unit_of_count = serializers.SerializerMethodField(help_text="What one row of the file counts")
    status_url = serializers.SerializerMethodField(help_text="Poll this until status is succeeded or failed")
    rejects_url = serializers.SerializerMethodField(help_text="The rows left out by skip_invalid, if any")
    unrecognised = UnrecognisedValueSerializer(
        many=True, read_only=True, help_text="Values outside the national form's vocabularies, by column and value"
    )

    class Meta:
        model = ImportBatch
        fields = [
            "id", "force", "status", "source_name", "source_format", "data_version", "created_at", "finished_at",
            "rows_read", "rows_added", "rows_changed", "rows_unchanged", "rows_withdrawn", "rows_rejected",
            "errors", "notes", "unrecognised", "unit_of_count", "status_url", "rejects_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_rows_read(self, batch) -> int:
        return rows_read_so_far(batch)

    def get_unit_of_count(self, batch) -> str:
        return UNIT_OF_COUNT

    def get_status_url(self, batch) -> str:
        return self.absolute(reverse("api-import-detail", args=[batch.pk]))

    def get_rejects_url(self, batch) -> str | None:
        return self.absolute(reverse("import-batch-rejects", args=[batch.pk])) if has_rejects(batch) else None

    def absolute(self, path):
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class ImportUploadSerializer(serializers.Serializer):
    file = UploadField(help_text="The use-of-force export, .csv or .xlsx")
    force = ForceIdField(slug_field="id", queryset=Force.objects.all(), help_text="data.police.uk id of your force")
    skip_invalid = serializers.BooleanField(
        default=False, help_text="Import the good rows and put the others in a reject file"
    )
    strict = serializers.BooleanField(
        default=False, help_text="Refuse values outside the form's vocabularies (else kept, counted as not stated)"
    )
    new_areas = serializers.BooleanField(
        default=False,
        help_text="Create unknown areas even when most of the file's are (else refused as another force's)",
    )

    def validate_file(self, upload):
        try:
            check_upload(upload)
        except DjangoValidationError as error:
            raise ValidationError(error.messages) from error
        return upload

    def create(self, validated_data):
        user = self.context["request"].user
        return store_upload(
            validated_data["file"],
            force=validated_data["force"],
            user=user,
            skip_invalid=validated_data["skip_invalid"],
            strict=validated_data["strict"],
            new_areas=validated_data["new_areas"],
        )


class MayImport(permissions.BasePermission):
    """Force data officers upload; they and PCC staff follow their force's imports."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            self.message = "Imports are for force data officers and PCC staff."
            return may_view_imports(request.user)
        self.message = "Only force data officers upload use-of-force files."
        return may_upload(request.user)


@extend_schema_view(
    list=extend_schema(summary="Your force's imports, newest first"),
    retrieve=extend_schema(summary="One import: its status, counts, problems and data version"),
)
class ImportViewSet(
    CsvListMixin, mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Use-of-force file imports of the caller's force."""

    serializer_class = ImportBatchSerializer
    permission_classes = [permissions.IsAuthenticated, MayImport, TokenAccess]
    filterset_fields = ["status"]
    csv_filename = "imports.csv"

    def get_queryset(self):
        # Another force's batch is "not found", never "forbidden": its existence is not shown.
        return batches_visible_to(self.request.user)

    @extend_schema(
        summary="Upload a file to import; answers at once, the import runs in the background",
        request={"multipart/form-data": ImportUploadSerializer},
        responses={
            202: OpenApiResponse(ImportBatchSerializer, description="Accepted; poll status_url"),
            503: OpenApiResponse(
                ImportBatchSerializer,
                description="The task queue did not answer: the file is kept and imported once it does; poll "
                "status_url (Retry-After says when to look), do not upload again",
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        own_force = force_of(request.user)
        named = request.data.get("force")
        # Checked before the file, so a wrong force is refused whatever the file holds.
        if not request.user.is_superuser and named and named != own_force.pk:
            raise PermissionDenied(f"You may upload only for your own force, '{own_force.pk}', not '{named}'.")
        upload = ImportUploadSerializer(data=request.data, context=self.get_serializer_context())
        upload.is_valid(raise_exception=True)
        batch = upload.save()
        queued = enqueue_import(batch.pk)
        batch.refresh_from_db()  # without a broker the import has already run, in this request
        body = ImportBatchSerializer(batch, context=self.get_serializer_context()).data
        if not queued:
            # The file is kept and its batch waits: the client follows status_url, not uploading again.
            body = {"message": NOT_QUEUED, **body}
            headers = {"Location": body["status_url"], "Retry-After": str(QUEUE_RETRY_SECONDS)}
            return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers=headers)
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["status_url"]})


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


# --- summaries --------------------------------------------------------------------------------


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
        state = summary_state(force_ids=force_ids)
        if force_ids and not state and not Force.objects.filter(pk=force_ids[0]).exists():
            raise ValidationError({"force": [f"Object with id={force_ids[0]} does not exist."]})
        exact_for = exact_figures_for(request)
        threshold = settings.SUPPRESSION_THRESHOLD
        versions = {force: version for force, (version, _) in state.items()}
        built = max((built for _, built in state.values()), default=None)
        # A force whose summaries are older than its data says so, and which version is on its way.
        lags = summary_lags(force_ids=force_ids, state=state)
        being_summarised = {
            force: {"figures_of_version": old, "data_version": new} for force, (old, new) in lags.items()
        }
        tag = answer_tag(request, versions, built, exact_for, threshold, lags)
        etag = f'"{tag}"'
        last_modified = int(built.timestamp()) if built else None  # HTTP dates have whole seconds
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


def answer_tag(request, versions, built, exact_for, threshold, lags):
    """What a summaries answer depends on, as a digest: its ETag and its key in the cache."""
    depends_on = (
        sorted(versions.items()), built, sorted(request.query_params.lists()), request.accepted_renderer.format,
        exact_for, threshold, sorted(lags.items()),
    )  # fmt: skip
    return hashlib.md5(repr(depends_on).encode()).hexdigest()  # noqa: S324 - a cache validator, not a secret


def summary_csv(rows):
    """Summary rows as CSV: the fields of SummarySerializer, suppressed counts written [c]."""
    names = list(SummarySerializer().fields)
    yield names
    for row in rows:
        hidden = set(row["suppressed"])
        yield ["[c]" if name in hidden else cell(row[name]) for name in names]
