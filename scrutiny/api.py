"""The scrutiny panels' work: published findings for everyone; samples, reviews, findings,
responses and actions for the roles that follow them (read-only here; they are written on
the panels' pages)."""

from django import forms
from django.db import models
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import permissions, serializers, viewsets

from forces.api import PUBLIC
from forces.authentication import TokenAccess
from forces.models import Force
from forces.roles import FINDING_ROLES, SAMPLE_ROLES, RolePermission
from oversight.api import CsvListMixin
from scrutiny.models import Action, CaseSample, Finding, ForceResponse, Review, SampledCase
from scrutiny.queries import (
    actions_visible_to,
    findings_visible_to,
    responses_visible_to,
    reviews_visible_to,
    samples_visible_to,
)


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
    force = filters.ModelChoiceFilter(
        field_name="sampled_case__sample__panel__force", queryset=Force.objects.all(), label="data.police.uk force id"
    )

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


# --- the panels' work, for the roles that follow it ------------------------------------------


class MayFollowSamples(RolePermission):
    roles = SAMPLE_ROLES
    message = "Samples and reviews are for PCC staff and panel members."


class MayFollowFindings(RolePermission):
    roles = FINDING_ROLES
    message = "Findings, responses and actions are for PCC staff, panel members and the force's staff."


class SampledCaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = SampledCase
        fields = ["id", "report", "reason", "needs_video_follow_up", "opened_at_meeting_at"]


class SampleSerializer(serializers.ModelSerializer):
    force = serializers.CharField(source="panel.force_id", help_text="data.police.uk force id")
    meeting_held_on = serializers.DateField(source="meeting.held_on", allow_null=True)
    cases = SampledCaseSerializer(many=True, read_only=True)

    class Meta:
        model = CaseSample
        fields = [
            "id", "force", "panel", "meeting", "meeting_held_on", "rule", "parameters", "seed", "period_starts_on",
            "period_ends_on", "created_at", "cases",
        ]  # fmt: skip


class ReviewSerializer(serializers.ModelSerializer):
    member = serializers.CharField(source="member.user.username")

    class Meta:
        model = Review
        fields = [
            "id", "sampled_case", "member", "grade", "rubric_answers", "learning_points", "status", "updated_at",
            "submitted_at",
        ]  # fmt: skip


class FindingSerializer(serializers.ModelSerializer):
    force = serializers.CharField(source="sampled_case.sample.panel.force_id", help_text="data.police.uk force id")
    panel = serializers.IntegerField(source="sampled_case.sample.panel_id")
    themes = serializers.ListField(child=serializers.ChoiceField(Finding.Theme.choices))

    class Meta:
        model = Finding
        fields = [
            "id", "force", "panel", "sampled_case", "panel_grade", "summary", "themes", "for_force_feedback",
            "published", "recorded_at",
        ]  # fmt: skip


class ResponseSerializer(serializers.ModelSerializer):
    class Meta:
        model = ForceResponse
        fields = ["id", "finding", "response", "responded_at"]


class ActionSerializer(serializers.ModelSerializer):
    overdue = serializers.SerializerMethodField(help_text="Not closed and past its due date")

    class Meta:
        model = Action
        fields = ["id", "finding", "description", "owner", "due_on", "status", "evidence", "created_at", "closed_at"]
        fields += ["overdue"]

    def get_overdue(self, action) -> bool:
        return action.status != Action.Status.CLOSED and action.due_on < timezone.localdate()


# Row ids are positive 64-bit integers; a number outside them is refused before it reaches the database.
LARGEST_ID = 2**63 - 1


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": LARGEST_ID})
class IdFilter(filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=LARGEST_ID, **kwargs)


class RowsFilterSet(filters.FilterSet):
    """Filters on another row's id (a panel, a finding) select rows by the id: one that matches nothing is an empty
    list, as for any other value, not a refusal, so every whole number the schema allows is answered."""

    class Meta:
        filter_overrides = {models.ForeignKey: {"filter_class": IdFilter}}


def rows_filterset(model_, names):
    class Filters(RowsFilterSet):
        class Meta(RowsFilterSet.Meta):
            model = model_
            fields = list(names)

    return Filters


def scrutiny_viewset(name, serializer, visible, permission, filters_=(), summary=""):
    """A read-only resource of the panels' work: the caller's share of it, by `visible(user)`."""

    @extend_schema_view(
        list=extend_schema(summary=summary), retrieve=extend_schema(summary=f"One of {summary.lower()}")
    )
    class ViewSet(CsvListMixin, viewsets.ReadOnlyModelViewSet):
        serializer_class = serializer
        permission_classes = [permissions.IsAuthenticated, permission, TokenAccess]
        filterset_class = rows_filterset(serializer.Meta.model, filters_)
        csv_filename = f"{name}.csv"

        def get_queryset(self):
            return visible(self.request.user).order_by("-pk")

    ViewSet.__name__ = ViewSet.__qualname__ = f"{serializer.Meta.model.__name__}ViewSet"
    return ViewSet


SampleViewSet = scrutiny_viewset(
    "samples", SampleSerializer, samples_visible_to, MayFollowSamples, ["panel", "rule"],
    "Case samples drawn for panel meetings, with their rule, parameters and seed",
)  # fmt: skip
ReviewViewSet = scrutiny_viewset(
    "reviews", ReviewSerializer, reviews_visible_to, MayFollowSamples, ["sampled_case", "status"],
    "Members' reviews of sampled cases (others' only once submitted and opened at the meeting)",
)  # fmt: skip
FindingViewSet = scrutiny_viewset(
    "findings", FindingSerializer, findings_visible_to, MayFollowFindings, ["for_force_feedback", "published"],
    "Panels' findings on sampled cases",
)  # fmt: skip
ResponseViewSet = scrutiny_viewset(
    "force-responses", ResponseSerializer, responses_visible_to, MayFollowFindings, ["finding"],
    "The force's responses to findings",
)  # fmt: skip
ActionViewSet = scrutiny_viewset(
    "actions", ActionSerializer, actions_visible_to, MayFollowFindings, ["finding", "status"],
    "Actions from findings, with owner, due date and status",
)  # fmt: skip
