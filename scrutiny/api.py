"""The scrutiny panels' published findings: public, with the force's responses."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from forces.api import PUBLIC
from oversight.api import CsvListMixin
from scrutiny.models import Finding, ForceResponse


class ForceResponseSerializer(serializers.ModelSerializer):
    class Meta:
        model = ForceResponse
        fields = ["response", "responded_at"]


class PublishedFindingSerializer(serializers.ModelSerializer):
    force = serializers.CharField(source="sampled_case.sample.panel.force_id", help_text="data.police.uk force id")
    panel = serializers.CharField(source="sampled_case.sample.panel.name")
    meeting_held_on = serializers.DateField(source="sampled_case.sample.meeting.held_on", allow_null=True)
    themes = serializers.ListField(child=serializers.ChoiceField(Finding.Theme.choices))
    responses = ForceResponseSerializer(many=True, read_only=True, help_text="The force's answers, oldest first")

    class Meta:
        model = Finding
        fields = [
            "id",
            "force",
            "panel",
            "meeting_held_on",
            "panel_grade",
            "summary",
            "themes",
            "recorded_at",
            "responses",
        ]


class PublishedFindingFilter(filters.FilterSet):
    force = filters.CharFilter(field_name="sampled_case__sample__panel__force", label="data.police.uk force id")

    class Meta:
        model = Finding
        fields = []


@extend_schema_view(
    list=extend_schema(summary="Scrutiny panels' findings the PCC has published, with the force's responses"),
    retrieve=extend_schema(summary="One published finding"),
)
class PublishedFindingViewSet(CsvListMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = PublishedFindingSerializer
    permission_classes = PUBLIC
    filterset_class = PublishedFindingFilter
    csv_filename = "published-findings.csv"

    def get_queryset(self):
        return (
            Finding.objects.filter(published=True)
            .select_related("sampled_case__sample__panel", "sampled_case__sample__meeting")
            .prefetch_related("responses")
            .order_by("-recorded_at", "-id")
        )
