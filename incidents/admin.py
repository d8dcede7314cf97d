from django import forms
from django.contrib import admin, messages

from forces.admin import ForceScopedAdmin
from incidents.imports.uploads import uploaded_file
from incidents.models import (
    LADDER,
    Alert,
    CedUse,
    ImportBatch,
    MonthlySummary,
    QuarterlyReport,
    RetentionRun,
    UseOfForceReport,
)
from incidents.queries import may_upload
from incidents.recovery import retry
from incidents.tasks import NOT_QUEUED, enqueue_import

PROVENANCE = ["import_batch", "source_row", "source_key", "data_version", "withdrawn_in_version"]


class CedUseInline(admin.TabularInline):
    model = CedUse
    extra = 0
    fields = [
        "device_number",
        "device_model",
        *[flag for _, flag in reversed(LADDER)],
        "cartridge_number",
        "cycles",
        "cycle_extended",
        "missed_one_probe",
        "missed_both_probes",
    ]


class ReportAdminForm(forms.ModelForm):
    class Meta:
        model = UseOfForceReport
        fields = "__all__"  # noqa: DJ007 - the ModelAdmin decides which fields show

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            # The database refuses a report without a level one of its devices was used at;
            # say so here rather than fail on save.
            for use in self.instance.ced_uses.all():
                for level, flag in LADDER:
                    if getattr(use, flag) and not cleaned.get(flag):
                        self.add_error(flag, f"Device {use.device_number} was used at level '{level.label}'.")
        return cleaned


@admin.register(UseOfForceReport)
class UseOfForceReportAdmin(ForceScopedAdmin):
    form = ReportAdminForm
    inlines = [CedUseInline]
    list_display = ["id", "occurred_on", "force", "area", "highest_ced_level", "subject_ethnicity", "data_version"]
    list_filter = ["highest_ced_level", "ced_used", "body_worn_video", "subject_ethnicity", "subject_age", "force"]
    list_select_related = ["force", "area"]
    search_fields = ["=id", "incident_reference", "source_key"]
    readonly_fields = ["highest_ced_level", *PROVENANCE]
    raw_id_fields = ["import_batch"]
    show_full_result_count = False  # counting millions of rows on every page is slow

    def save_related(self, request, form, formsets, change):
        # Levels ticked on a device are levels of the report: record them before the
        # devices are saved, so the report's highest level follows the ladder rule.
        report = form.instance
        for formset in formsets:
            for device in formset.cleaned_data:
                if device and not device.get("DELETE"):
                    for _, flag in LADDER:
                        setattr(report, flag, getattr(report, flag) or bool(device.get(flag)))
                    report.ced_used = True
        report.save()
        super().save_related(request, form, formsets, change)


@admin.register(ImportBatch)
class ImportBatchAdmin(ForceScopedAdmin):
    list_display = [
        "force",
        "data_version",
        "source_name",
        "status",
        "rows_read",
        "rows_added",
        "rows_rejected",
        "attempts",
        "created_at",
    ]
    list_filter = ["status", "source_format", "force"]
    search_fields = ["source_name"]
    readonly_fields = [field.name for field in ImportBatch._meta.fields]
    actions = ["retry_failed"]

    def has_add_permission(self, request):
        return False  # a batch is made by an upload or import_uof, never by hand

    def has_retry_permission(self, request):
        return may_upload(request.user)

    @admin.action(description="Try the chosen failed imports again, from their kept files", permissions=["retry"])
    def retry_failed(self, request, queryset):
        tried = [batch for batch in queryset.filter(status=ImportBatch.Status.FAILED) if uploaded_file(batch).is_file()]
        for batch in tried:
            retry(batch)
            if not enqueue_import(batch.pk):
                self.message_user(request, f"Import {batch.pk}: {NOT_QUEUED}", messages.WARNING)
        skipped = queryset.count() - len(tried)
        self.message_user(
            request,
            f"{len(tried)} import(s) tried again; {skipped} left as they were (not failed, or their file is gone).",
        )


class BuiltFromReportsAdmin(ForceScopedAdmin):
    """Summaries, alerts and report snapshots are built from the reports, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MonthlySummary)
class MonthlySummaryAdmin(BuiltFromReportsAdmin):
    list_display = ["force", "area", "month", "reports", "taser_reports", "discharge", "data_version", "built_at"]
    list_filter = ["force"]
    list_select_related = ["force", "area"]
    date_hierarchy = "month"


@admin.register(Alert)
class AlertAdmin(BuiltFromReportsAdmin):
    list_display = ["force", "month", "kind", "message"]
    list_filter = ["kind", "force"]
    list_select_related = ["force", "area"]


@admin.register(QuarterlyReport)
class QuarterlyReportAdmin(BuiltFromReportsAdmin):
    list_display = ["force", "quarter", "area", "data_version", "built_at"]
    list_filter = ["force"]
    list_select_related = ["force", "area"]


@admin.register(RetentionRun)
class RetentionRunAdmin(admin.ModelAdmin):
    """What each application of the retention period removed: kept as it ran (apply_retention)."""

    list_display = ["ran_at", "years", "removed_before", "reports_removed", "reports_kept", "audit_entries_removed"]
    readonly_fields = [field.name for field in RetentionRun._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
