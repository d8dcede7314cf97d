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
from scrutiny.models import (
    LEFT_OUT,
    Action,
    CaseSample,
    Declaration,
    Finding,
    FootageClip,
    ForceResponse,
    Meeting,
    Review,
    SampledCase,
)
from scrutiny.queries import (
    actions_visible_to,
    findings_visible_to,
    meeting_quorum,
    responses_visible_to,
    reviews_visible_to,
    samples_visible_to,
)


class ForceResponseSerializer(serializers.ModelSerializer):
    class Meta:
        model = ForceResponse
        fields = ["position", "response", "responded_at"]


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


class ClipSerializer(serializers.ModelSerializer):
    """A body-worn video clip by reference: the link itself stays on the case's page."""

    link_open = serializers.SerializerMethodField(help_text="Whether the evidence system's link may still be followed")
    viewings = serializers.IntegerField(source="viewings.count", help_text="Members' records of watching it")

    class Meta:
        model = FootageClip
        fields = ["id", "system", "clip_id", "starts_at", "ends_at", "link_expires_at", "link_open", "viewings"]

    def get_link_open(self, clip) -> bool:
        return clip.link_open()


class DeclarationSerializer(serializers.ModelSerializer):
    member = serializers.CharField(source="member.user.username")

    class Meta:
        model = Declaration
        fields = ["id", "member", "meeting", "sampled_case", "interest", "declared_at"]


class SampledCaseSerializer(serializers.ModelSerializer):
    clips = ClipSerializer(many=True, read_only=True)
    officer_accounts = serializers.IntegerField(
        source="officer_accounts.count", help_text="Officer's accounts the force supplied for the case"
    )
    declarations = DeclarationSerializer(many=True, read_only=True, help_text="Members who do not review the case")

    class Meta:
        model = SampledCase
        fields = ["id", "report", "reason", "needs_video_follow_up", "opened_at_meeting_at", "clips"]
        fields += ["officer_accounts", "declarations"]


class MeetingRecordSerializer(serializers.ModelSerializer):
    """The meeting's quorum and attendance as the chair recorded them, and the interests declared at it."""

    quorum = serializers.SerializerMethodField(help_text="Members present needed to record findings")
    present = serializers.SerializerMethodField()
    apologies = serializers.SerializerMethodField()
    quorate = serializers.SerializerMethodField(help_text="Null until attendance is taken")
    declarations = DeclarationSerializer(many=True, read_only=True)

    class Meta:
        model = Meeting
        fields = ["id", "held_on", "quorum", "present", "apologies", "quorate", "declarations"]

    def attendance(self, meeting):
        if not hasattr(meeting, "_quorum"):
            meeting._quorum = meeting_quorum(meeting=meeting)
        return meeting._quorum

    def get_quorum(self, meeting) -> int:
        return self.attendance(meeting)["quorum"]

    def get_present(self, meeting) -> int:
        return self.attendance(meeting)["present"]

    def get_apologies(self, meeting) -> int:
        return self.attendance(meeting)["apologies"]

    def get_quorate(self, meeting) -> bool | None:
        record = self.attendance(meeting)
        return record["quorate"] if record["taken"] else None


class SampleSerializer(serializers.ModelSerializer):
    force = serializers.CharField(source="panel.force_id", help_text="data.police.uk force id")
    meeting_held_on = serializers.DateField(source="meeting.held_on", allow_null=True)
    meeting_record = MeetingRecordSerializer(source="meeting", read_only=True, allow_null=True)
    left_out_counts = serializers.SerializerMethodField(
        help_text=f"Reports the rule selected but left out before the draw, by reason: {', '.join(LEFT_OUT)}"
    )
    cases = SampledCaseSerializer(many=True, read_only=True)

    class Meta:
        model = CaseSample
        fields = [
            "id", "force", "panel", "meeting", "meeting_held_on", "rule", "parameters", "seed", "period_starts_on",
            "period_ends_on", "created_at", "eligible", "left_out_counts", "meeting_record", "cases",
        ]  # fmt: skip

    def get_left_out_counts(self, sample) -> dict[str, int]:
        return {reason: len(ids) for reason, ids in sample.left_out.items()}


class ReviewSerializer(serializers.ModelSerializer):
    member = serializers.CharField(source="member.user.username")

    class Meta:
        model = Review
        fields = [
            "id", "sampled_case", "member", "grade", "rubric_answers", "rubric_comments", "learning_points", "status",
            "updated_at", "submitted_at",
        ]  # fmt: skip


class FindingSerializer(serializers.ModelSerializer):
    force = serializers.CharField(source="sampled_case.sample.panel.force_id", help_text="data.police.uk force id")
    panel = serializers.IntegerField(source="sampled_case.sample.panel_id")
    themes = serializers.ListField(child=serializers.ChoiceField(Finding.Theme.choices))

    class Meta:
        model = Finding
        fields = [
            "id", "force", "panel", "sampled_case", "panel_grade", "summary", "themes", "for_force_feedback",
            "response_due_on", "published", "recorded_at",
        ]  # fmt: skip


class ResponseSerializer(serializers.ModelSerializer):
    class Meta:
        model = ForceResponse
        fields = ["id", "finding", "position", "response", "responded_at"]


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
