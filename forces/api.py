"""The public reference resources: forces, areas, capability, uplift decisions and published figures."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError

from forces.models import Area, CapabilityRecord, Force, PublishedFigure, UpliftDecision
from forces.queries import current_published_figures
from forces.services import FORCES
from oversight.api import CsvListMixin

PUBLIC = [permissions.AllowAny]
FORCE_IDS = [force_id for force_id, *_ in FORCES]


def force_ids_in_schema(result, generator, request, public):
    """drf-spectacular hook: every `force` query parameter is one of the known force ids (the API refuses others)."""
    for operations in result["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "force" and parameter["in"] == "query":
                    parameter["schema"] = {"type": "string", "enum": FORCE_IDS}
                    parameter["description"] = "data.police.uk force id; another answers 400"
    return result


# --- the public reference resources ------------------------------------------------------


class ForceSerializer(serializers.ModelSerializer):
    id = serializers.CharField(help_text="data.police.uk force id")

    class Meta:
        model = Force
        fields = ["id", "name", "home_office_name", "region", "pfa_code"]


class AreaSerializer(serializers.ModelSerializer):
    force = serializers.CharField(source="force_id", help_text="data.police.uk force id")

    class Meta:
        model = Area
        fields = ["code", "name", "kind", "force", "needs_review"]


class PublishedFigureSerializer(serializers.ModelSerializer):
    force = serializers.CharField(source="force_id", allow_null=True, help_text="Empty for national and regional rows")
    period = serializers.CharField(read_only=True, help_text='"2019/20", "January to March 2017", "2016"')
    financial_year = serializers.CharField(help_text="Empty unless the period is one financial year")
    source_edition = serializers.CharField(source="edition.name", help_text="The edition the figure comes from")
    published_on = serializers.DateField(source="edition.published_on", help_text="That edition's publication date")
    revised_value = serializers.IntegerField(
        allow_null=True, read_only=True, help_text="The figure in the edition before, where one published it"
    )
    revised_edition = serializers.CharField(allow_null=True, read_only=True, help_text="That earlier edition")

    class Meta:
        model = PublishedFigure
        fields = [
            "force", "geography", "period", "period_kind", "period_start", "period_end", "financial_year", "measure",
            "value", "unit", "source_edition", "published_on", "revised_value", "revised_edition",
        ]  # fmt: skip


class PublishedFigureFilter(filters.FilterSet):
    source_edition = filters.CharFilter(field_name="edition__name")

    class Meta:
        model = PublishedFigure
        fields = ["force", "financial_year", "period_kind", "measure", "unit", "source_edition"]


class CapabilityRecordSerializer(serializers.ModelSerializer):
    force = serializers.CharField(source="force_id", help_text="data.police.uk force id")

    class Meta:
        model = CapabilityRecord
        fields = ["force", "as_of", "device_model", "devices_in_service", "officers_trained", "source"]


class UpliftDecisionSerializer(serializers.ModelSerializer):
    force = serializers.CharField(source="force_id", help_text="data.police.uk force id")

    class Meta:
        model = UpliftDecision
        fields = [
            "id", "force", "decided_on", "decision", "threat_risk_assessment_ref", "community_impact_considered",
            "pcc_informed_on",
        ]  # fmt: skip


@extend_schema_view(
    list=extend_schema(summary="The 43 territorial forces of England and Wales, and British Transport Police"),
    retrieve=extend_schema(summary="One force"),
)
class ForceViewSet(CsvListMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Force.objects.order_by("name")
    serializer_class = ForceSerializer
    permission_classes = PUBLIC
    filterset_fields = ["region"]
    csv_filename = "forces.csv"

    @extend_schema(
        summary="The force's areas: Community Safety Partnerships, or the Met's boroughs",
        responses=AreaSerializer(many=True),
    )
    @action(detail=True, serializer_class=AreaSerializer, filter_backends=[])
    def areas(self, request, pk=None):
        areas = Area.objects.filter(force=self.get_object()).order_by("name")
        if request.accepted_renderer.format == "csv":
            return self.csv_download(areas, f"{pk}-areas.csv")
        page = self.paginate_queryset(areas)
        return self.get_paginated_response(AreaSerializer(page, many=True).data)


@extend_schema_view(
    list=extend_schema(
        summary="Figures as the Home Office published them: each from the newest edition, with what it revised",
        parameters=[
            OpenApiParameter(
                "history", bool, description="true: every edition's value; by default only the newest publication's"
            )
        ],
    )
)
class PublishedFigureViewSet(CsvListMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = PublishedFigureSerializer
    permission_classes = PUBLIC
    filterset_class = PublishedFigureFilter
    csv_filename = "published-figures.csv"

    def get_queryset(self):
        answers = self.request.query_params.getlist("history")
        # Read as the API's yes/no filters are: anything but true or false is refused, not taken as false.
        if any(answer not in ("true", "false") for answer in answers):
            raise ValidationError({"history": [f"{answers[-1]!r} is not true or false."]})
        figures = current_published_figures(history=answers[-1:] == ["true"])
        return figures.order_by("period_start", "period_end", "geography", "measure", "-edition__published_on")


@extend_schema_view(list=extend_schema(summary="Devices in service and officers trained, as forces report them"))
class CapabilityViewSet(CsvListMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = CapabilityRecord.objects.order_by("force", "-as_of", "device_model")
    serializer_class = CapabilityRecordSerializer
    permission_classes = PUBLIC
    filterset_fields = ["force", "device_model"]
    csv_filename = "capability.csv"


@extend_schema_view(
    list=extend_schema(summary="Decisions to change Taser capability, with their threat and risk assessments"),
    retrieve=extend_schema(summary="One uplift decision"),
)
class UpliftDecisionViewSet(CsvListMixin, viewsets.ReadOnlyModelViewSet):
    queryset = UpliftDecision.objects.order_by("force", "-decided_on")
    serializer_class = UpliftDecisionSerializer
    permission_classes = PUBLIC
    filterset_fields = ["force"]
    csv_filename = "uplift-decisions.csv"
