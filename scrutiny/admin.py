from django.contrib import admin

from forces.admin import ForceScopedAdmin
from scrutiny.models import (
    Action,
    ActionUpdate,
    Attendance,
    CaseSample,
    CaseView,
    Declaration,
    Finding,
    FootageClip,
    FootageViewing,
    ForceResponse,
    Meeting,
    Notification,
    OfficerAccount,
    Panel,
    PanelMember,
    Review,
    SampledCase,
)


class ReadOnly:
    """A record kept as it was made on the scrutiny pages (who watched what, who declared what, what the
    force answered): shown here, never added, changed or deleted, so the record says what happened."""

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RecordAdmin(ReadOnly, ForceScopedAdmin):
    pass


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
class ForceResponseAdmin(RecordAdmin):
    force_path = "finding__sampled_case__sample__panel__force"
    list_display = ["finding", "position", "responded_by", "responded_at"]
    list_filter = ["position"]


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


@admin.register(ActionUpdate)
class ActionUpdateAdmin(RecordAdmin):
    force_path = "action__finding__sampled_case__sample__panel__force"
    list_display = ["action", "status_from", "status_to", "updated_by", "updated_at"]
    list_filter = ["status_to"]


@admin.register(FootageClip)
class FootageClipAdmin(ForceScopedAdmin):
    """A clip reference is added on the case's footage page; here only its link may be renewed, as the
    force's evidence system gives a new one when the last expires."""

    force_path = "sampled_case__sample__panel__force"
    list_display = ["sampled_case", "system", "clip_id", "starts_at", "ends_at", "link_expires_at"]
    list_filter = ["system"]
    search_fields = ["clip_id"]
    readonly_fields = ["sampled_case", "system", "clip_id", "starts_at", "ends_at", "added_by", "added_at"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "link":
            kwargs["assume_scheme"] = "https"  # as the footage page's form: evidence systems link over HTTPS
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FootageViewing)
class FootageViewingAdmin(RecordAdmin):
    force_path = "clip__sampled_case__sample__panel__force"
    list_display = ["clip", "member", "watched", "recorded_at"]
    list_filter = ["watched"]


@admin.register(OfficerAccount)
class OfficerAccountAdmin(RecordAdmin):
    force_path = "sampled_case__sample__panel__force"
    list_display = ["sampled_case", "supplied_on", "recorded_by", "recorded_at"]


@admin.register(Declaration)
class DeclarationAdmin(RecordAdmin):
    force_path = "member__panel__force"
    list_display = ["member", "meeting", "sampled_case", "declared_at", "recorded_by"]
    list_filter = ["member__panel"]


@admin.register(Attendance)
class AttendanceAdmin(RecordAdmin):
    force_path = "meeting__panel__force"
    list_display = ["meeting", "member", "status"]
    list_filter = ["status", "meeting__panel"]


@admin.register(Notification)
class NotificationAdmin(ReadOnly, admin.ModelAdmin):
    """What each user was told: all of it for a superuser, their own for staff (it belongs to a user, not a force)."""

    list_display = ["user", "kind", "subject", "created_at"]
    list_filter = ["kind"]
    search_fields = ["subject", "user__username"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(user=request.user)
