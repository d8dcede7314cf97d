from django.contrib import admin

from forces.models import (
    Area,
    CapabilityRecord,
    Edition,
    Force,
    ForceScope,
    LocalAuthority,
    PopulationBaseline,
    PublishedFigure,
    UpliftDecision,
)
from forces.roles import force_of


class ForceScopedAdmin(admin.ModelAdmin):
    """Admin that shows a non-superuser only the rows of their own force.

    `force_path` is the lookup from the model to its force, e.g. "area__force".
    """

    force_path = "force"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        force = force_of(request.user)
        return queryset.filter(**{self.force_path: force}) if force else queryset.none()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser:
            force = force_of(request.user)
            related = db_field.related_model
            if related is Force:
                kwargs["queryset"] = Force.objects.filter(pk=force.pk if force else None)
            elif any(field.name == "force" for field in related._meta.fields):
                kwargs["queryset"] = related.objects.filter(force=force)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Force)
class ForceAdmin(ForceScopedAdmin):
    force_path = "pk"
    list_display = ["id", "name", "home_office_name", "region"]
    list_filter = ["region"]
    search_fields = ["id", "name", "home_office_name"]


@admin.register(Area)
class AreaAdmin(ForceScopedAdmin):
    list_display = ["name", "code", "force", "kind", "needs_review"]
    list_filter = ["needs_review", "kind", "force"]
    search_fields = ["name", "code"]


@admin.register(LocalAuthority)
class LocalAuthorityAdmin(ForceScopedAdmin):
    force_path = "area__force"
    list_display = ["name", "code", "area", "lookup_year"]
    list_filter = ["area__force", "lookup_year"]
    search_fields = ["name", "code", "area__name"]


@admin.register(PopulationBaseline)
class PopulationBaselineAdmin(ForceScopedAdmin):
    force_path = "area__force"
    list_display = ["area", "census_year", "total", "white", "black", "asian", "mixed", "other"]
    list_filter = ["census_year", "area__force"]
    search_fields = ["area__name", "area__code"]


@admin.register(CapabilityRecord)
class CapabilityRecordAdmin(ForceScopedAdmin):
    list_display = ["force", "as_of", "device_model", "devices_in_service", "officers_trained", "source"]
    list_filter = ["device_model", "force"]
    date_hierarchy = "as_of"


@admin.register(UpliftDecision)
class UpliftDecisionAdmin(ForceScopedAdmin):
    list_display = [
        "force",
        "decided_on",
        "threat_risk_assessment_ref",
        "community_impact_considered",
        "pcc_informed_on",
    ]
    list_filter = ["community_impact_considered", "force"]
    search_fields = ["decision", "threat_risk_assessment_ref"]


# Published figures are public, national and regional totals included: not scoped to a force.
@admin.register(PublishedFigure)
class PublishedFigureAdmin(admin.ModelAdmin):
    list_display = ["geography", "period", "measure", "value", "unit", "edition"]
    list_filter = ["period_kind", "financial_year", "measure", "unit", "edition"]
    search_fields = ["geography", "edition__name"]
    list_select_related = ["edition"]


@admin.register(Edition)
class EditionAdmin(admin.ModelAdmin):
    list_display = ["name", "published_on", "published_on_source", "file_name", "imported_at"]
    search_fields = ["name", "file_name"]


@admin.register(ForceScope)
class ForceScopeAdmin(admin.ModelAdmin):
    list_display = ["user", "force"]
    list_filter = ["force"]
    search_fields = ["user__username"]
