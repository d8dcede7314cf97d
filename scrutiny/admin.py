from django.contrib import admin

from forces.admin import ForceScopedAdmin
from scrutiny.models import (
    Action,
    ActionUpdate,
    CaseSample,
    CaseView,
    Finding,
    ForceResponse,
    Meeting,
    Panel,
    PanelMember,
    Review,
    SampledCase,
)


@admin.register(Panel)
class PanelAdmin(ForceScopedAdmin):
    list_display = ["name", "force", "grading_scale"]
    list_filter = ["grading_scale", "force"]
    search_fields = ["name"]


@admin.register(PanelMember)
class PanelMemberAdmin(ForceScopedAdmin):
    force_path = "panel__force"
    list_display = ["user", "panel", "role", "term_starts_on", "term_ends_on", "vetted_on"]
    list_filter = ["role", "panel"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]


@admin.register(Meeting)
class MeetingAdmin(ForceScopedAdmin):
    force_path = "panel__force"
    list_display = ["panel", "held_on"]
    list_filter = ["panel"]
    date_hierarchy = "held_on"


@admin.register(CaseSample)
class CaseSampleAdmin(ForceScopedAdmin):
    force_path = "panel__force"
    list_display = ["panel", "rule", "period_starts_on", "period_ends_on", "seed", "created_at"]
    list_filter = ["rule", "panel"]
    readonly_fields = ["created_by", "created_at"]


@admin.register(SampledCase)
class SampledCaseAdmin(ForceScopedAdmin):
    force_path = "sample__panel__force"
    list_display = ["id", "sample", "report", "needs_video_follow_up"]
    list_filter = ["needs_video_follow_up", "sample__panel"]
    raw_id_fields = ["report"]


@admin.register(Review)
class ReviewAdmin(ForceScopedAdmin):
    force_path = "member__panel__force"
    list_display = ["sampled_case", "member", "grade", "status", "submitted_at"]
    list_filter = ["status", "member__panel"]
    raw_id_fields = ["sampled_case"]


@admin.register(CaseView)
class CaseViewAdmin(ForceScopedAdmin):
    force_path = "sampled_case__sample__panel__force"
    list_display = ["sampled_case", "user", "viewed_at"]
    readonly_fields = ["sampled_case", "user", "viewed_at"]

    def has_add_permission(self, request):
        return False  # the case pages log each view; none is made by hand


@admin.register(Finding)
class FindingAdmin(ForceScopedAdmin):
    force_path = "sampled_case__sample__panel__force"
    list_display = ["sampled_case", "panel_grade", "for_force_feedback", "published", "recorded_at"]
    list_filter = ["panel_grade", "for_force_feedback", "published"]
    search_fields = ["summary"]
    raw_id_fields = ["sampled_case"]


@admin.register(ForceResponse)
class ForceResponseAdmin(ForceScopedAdmin):
    force_path = "finding__sampled_case__sample__panel__force"
    list_display = ["finding", "responded_by", "responded_at"]
    raw_id_fields = ["finding"]


class ActionUpdateInline(admin.TabularInline):
    """An action's dated history: kept as written (the scrutiny pages add to it)."""

    model = ActionUpdate
    fields = readonly_fields = ["updated_at", "updated_by", "status_from", "status_to", "note"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Action)
class ActionAdmin(ForceScopedAdmin):
    force_path = "finding__sampled_case__sample__panel__force"
    list_display = ["id", "description", "owner", "due_on", "status"]
    list_filter = ["status"]
    search_fields = ["description", "owner"]
    raw_id_fields = ["finding"]
    # The status moves on the actions tracker, which dates each step; here it would go unrecorded.
    readonly_fields = ["status", "evidence", "created_at", "closed_at"]
    inlines = [ActionUpdateInline]
