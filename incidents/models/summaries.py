"""What is built from the reports: monthly summaries per area, alerts, retention runs and quarterly reports."""

from django.db import models
from django.db.models import Q
from django.db.models.expressions import RawSQL

from forces.models import Area, Force
from incidents.ladder import (
    DISCHARGE_LEVELS,
    NON_DISCHARGE_LEVELS,
    CedLevel,
)
from incidents.models.reports import (
    LOCATION_GROUPS,
    AgeBand,
    CedUse,
    Ethnicity,
    Gender,
    HealthCondition,
    OfficerInjury,
    SubjectInjury,
    UseOfForceReport,
    YesNoNotStated,
)

# --- monthly summaries ------------------------------------------------------------------------


def _summary_measures():
    """{column: (label, condition on a report)}: what a summary cell counts.

    Every measure but `reports` and `incidents` counts Taser reports (CED used), each once,
    at its highest level. The unit is the report (one officer's use of force on one person).
    """
    taser = Q(ced_used=True)
    discharge = taser & Q(highest_ced_level__in=DISCHARGE_LEVELS)
    non_discharge = taser & Q(highest_ced_level__in=NON_DISCHARGE_LEVELS)
    measures = {"reports": ("Reports (all uses of force)", Q()), "taser_reports": ("Taser reports", taser)}
    for level in sorted(CedLevel, reverse=True):
        measures[f"level_{level.name.lower()}"] = (level.label, taser & Q(highest_ced_level=level))
    measures["discharge"] = ("Discharge", discharge)
    measures["non_discharge"] = ("Non-discharge", non_discharge)
    for value, label in Ethnicity.choices:
        measures[f"ethnicity_{value}"] = (label, taser & Q(subject_ethnicity=value))
        measures[f"ethnicity_{value}_discharge"] = (f"{label}: discharge", discharge & Q(subject_ethnicity=value))
        measures[f"ethnicity_{value}_non_discharge"] = (
            f"{label}: non-discharge",
            non_discharge & Q(subject_ethnicity=value),
        )
    for prefix, field, choices in (
        ("age", "subject_age", AgeBand.choices),
        ("gender", "subject_gender", Gender.choices),
        ("health", "subject_health", HealthCondition.choices),
        ("subject_injury", "subject_injury", SubjectInjury.choices),
        ("officer_injury", "officer_injury", OfficerInjury.choices),
    ):
        for value, label in choices:
            measures[f"{prefix}_{value}"] = (label, taser & Q(**{field: value}))
    for prefix in ("outcome_", "reason_", "impact_"):
        for name, label in UseOfForceReport.options(prefix):
            measures[name] = (label.capitalize(), taser & Q(**{name: True}))
    for group, fields in LOCATION_GROUPS.items():
        anywhere = Q()
        for name in fields:
            anywhere |= Q(**{name: True})
        measures[f"location_{group.lower().replace(' ', '_')}"] = (group, taser & anywhere)
    measures["body_worn_video"] = ("Body-worn video recording", taser & Q(body_worn_video=YesNoNotStated.YES))
    # A queryset cannot be built while models load, so the subquery is written out.
    extended = RawSQL(  # noqa: S611 - fixed SQL over model tables, no input
        f"EXISTS (SELECT 1 FROM {CedUse._meta.db_table} c WHERE c.report_id = {UseOfForceReport._meta.db_table}.id "  # noqa: S608
        "AND c.cycle_extended)",
        [],
        output_field=models.BooleanField(),
    )
    measures["extended_cycles"] = ("A cycle extended beyond 5 seconds", taser & Q(extended))
    return measures


SUMMARY_MEASURES = _summary_measures()

# Taser measures counted in incidents: the reports of one incident count once, at the highest
# level any of them used. Subjects' details stay in reports: an incident may have several subjects.
INCIDENT_MEASURES = {
    "incidents_taser": "Taser incidents",
    **{
        f"incidents_level_{level.name.lower()}": f"Incidents: {level.label}" for level in sorted(CedLevel, reverse=True)
    },
    "incidents_discharge": "Incidents: discharge",
    "incidents_non_discharge": "Incidents: non-discharge",
}


class MonthlySummary(models.Model):
    """What one force's reports in one area and calendar month count, as of a data version.

    Built from the reports by `summaries.rebuild_summaries`; never edited by hand. Quarters
    and financial years are sums of months. Area is empty for reports without one.
    """

    force = models.ForeignKey(Force, on_delete=models.CASCADE, related_name="monthly_summaries")
    area = models.ForeignKey(Area, on_delete=models.CASCADE, null=True, blank=True, related_name="monthly_summaries")
    month = models.DateField(help_text="First day of the calendar month")
    data_version = models.PositiveIntegerField(help_text="The force's data version the cell was built from")
    built_at = models.DateTimeField()
    incidents = models.PositiveIntegerField(
        default=0, help_text="Distinct incidents: reports sharing an incident reference count once"
    )

    class Meta:
        ordering = ["force", "month", "area"]
        verbose_name_plural = "monthly summaries"
        constraints = [
            models.UniqueConstraint(
                fields=["force", "area", "month"], condition=Q(area__isnull=False), name="one_summary_per_area_month"
            ),
            models.UniqueConstraint(
                fields=["force", "month"], condition=Q(area__isnull=True), name="one_summary_per_unplaced_month"
            ),
        ]

    def __str__(self):
        return f"{self.force} {self.area or 'no area'} {self.month:%Y-%m}"


for _name, (_label, _) in SUMMARY_MEASURES.items():
    MonthlySummary.add_to_class(_name, models.PositiveIntegerField(_label, default=0))
for _name, _label in INCIDENT_MEASURES.items():
    MonthlySummary.add_to_class(_name, models.PositiveIntegerField(_label, default=0))


class Alert(models.Model):
    """An area-month the summaries single out for PCC staff: unusual use or doubtful data.

    Raised again each time the month's summaries are rebuilt, so it always matches them.
    """

    class Kind(models.TextChoices):
        HIGH_USE = "high_use", "Taser use unusually high"
        NO_RECORDS = "no_records", "No records from an area that usually reports"
        NOT_STATED = "not_stated", "Many Taser reports with details not stated"

    force = models.ForeignKey(Force, on_delete=models.CASCADE, related_name="alerts")
    area = models.ForeignKey(Area, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts")
    month = models.DateField(help_text="First day of the calendar month")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    observed = models.PositiveIntegerField(help_text="Reports in the month (unit: reports)")
    expected = models.FloatField(null=True, blank=True, help_text="Monthly mean of the trailing 12 months")
    p_value = models.FloatField(null=True, blank=True)
    message = models.TextField()
    data_version = models.PositiveIntegerField()
    raised_at = models.DateTimeField()

    class Meta:
        ordering = ["force", "-month", "area"]

    def __str__(self):
        return f"{self.force} {self.month:%Y-%m}: {self.message}"


class RetentionRun(models.Model):
    """One application of the retention period: reports that occurred before `removed_before` were removed.

    The record of a bulk removal, as an ImportBatch is of a bulk write. The monthly summaries of
    the months before the latest run's `removed_before` are kept as they stood: no rebuild
    touches them again (see summaries.rebuild_summaries).
    """

    removed_before = models.DateField(help_text="First day of a month: reports that occurred before it were removed")
    years = models.PositiveSmallIntegerField(help_text="The retention period applied, in years")
    ran_at = models.DateTimeField(auto_now_add=True)
    reports_removed = models.PositiveIntegerField(default=0)
    ced_uses_removed = models.PositiveIntegerField(default=0)
    reports_kept = models.PositiveIntegerField(
        default=0, help_text="Older reports kept because a scrutiny panel sampled them: the panel's record needs them"
    )
    audit_entries_removed = models.PositiveIntegerField(default=0)
    uploads_removed = models.PositiveIntegerField(default=0, help_text="Uploaded files (and reject files) deleted")

    class Meta:
        ordering = ["-ran_at"]

    def __str__(self):
        return f"Retention of {self.years} years: reports before {self.removed_before} removed"


class QuarterlyReport(models.Model):
    """A quarterly PCC report as built: its figures are kept, so later corrections never change it."""

    force = models.ForeignKey(Force, on_delete=models.CASCADE, related_name="quarterly_reports")
    area = models.ForeignKey(Area, on_delete=models.CASCADE, null=True, blank=True, related_name="quarterly_reports")
    quarter = models.DateField(help_text="First day of the quarter (January, April, July or October)")
    data_version = models.PositiveIntegerField(help_text="The force's data version the figures come from")
    built_at = models.DateTimeField()
    figures = models.JSONField(help_text="Every figure of the report, as shown")

    class Meta:
        ordering = ["force", "-quarter", "-built_at"]

    def __str__(self):
        return f"{self.force} {self.figures.get('period', {}).get('label', self.quarter)} (v{self.data_version})"
