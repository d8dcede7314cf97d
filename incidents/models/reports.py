"""Use-of-force reports, their CED devices and the imports that bring them, with the rules that keep them whole."""

import operator
from functools import reduce

from django.conf import settings
from django.db import models
from django.db.models import Case, Q, Value, When

from forces.models import Area, DeviceModel, Force
from incidents.ladder import (
    DISCHARGE_LEVELS,
    LADDER,
    LADDER_FLAGS,
    CedLevel,
    highest_level,
    highest_level_of,
)
from oversight.constraints import UniqueByHash
from oversight.triggers import Rule


class LadderFlags(models.Model):
    """The seven ladder levels as flags, shared by a report and each device it used."""

    ced_drawn = models.BooleanField("drawn", default=False)
    ced_aimed = models.BooleanField("aimed", default=False)
    ced_red_dotted = models.BooleanField("red-dotted", default=False)
    ced_arced = models.BooleanField("arced", default=False)
    ced_drive_stun = models.BooleanField("drive stun", default=False)
    ced_fired = models.BooleanField("fired", default=False)
    ced_angle_drive_stun = models.BooleanField("angle drive stun", default=False)

    class Meta:
        abstract = True


class AgeBand(models.TextChoices):
    UNDER_11 = "under_11", "Under 11"
    FROM_11_TO_17 = "11_17", "11–17"
    FROM_18_TO_34 = "18_34", "18–34"
    FROM_35_TO_49 = "35_49", "35–49"
    FROM_50_TO_64 = "50_64", "50–64"
    FROM_65 = "65_plus", "65 and over"
    NOT_REPORTED = "not_reported", "Not reported"


class Gender(models.TextChoices):
    MALE = "male", "Male"
    FEMALE = "female", "Female"
    OTHER = "other", "Other"
    NOT_REPORTED = "not_reported", "Not reported"


class Ethnicity(models.TextChoices):
    """The five published groups (officer-perceived) and Not reported."""

    WHITE = "white", "White"
    BLACK = "black", "Black (or Black British)"
    ASIAN = "asian", "Asian (or Asian British)"
    MIXED = "mixed", "Mixed"
    OTHER = "other", "Other"
    NOT_REPORTED = "not_reported", "Not reported"


class HealthCondition(models.TextChoices):
    """Called "disability" in editions before 2019/20."""

    MENTAL = "mental", "Mental"
    PHYSICAL = "physical", "Physical"
    PHYSICAL_AND_MENTAL = "physical_and_mental", "Physical and mental"
    NONE = "none", "None"
    NOT_REPORTED = "not_reported", "Not reported"


class Conduct(models.IntegerChoices):
    """Subject's primary conduct, an ordinal scale (higher is more resistant)."""

    COMPLIANT = 1, "Compliant"
    PASSIVE = 2, "Passive resistance"
    VERBAL = 3, "Verbal resistance/gestures"
    ACTIVE = 4, "Active resistance"
    AGGRESSIVE = 5, "Aggressive resistance"
    SERIOUS = 6, "Serious or aggravated resistance"


class OfficerInjury(models.TextChoices):
    NONE = "none", "None"
    MINOR = "minor", "Minor"
    SEVERE = "severe", "Severe"
    NOT_REPORTED = "not_reported", "Not reported"


class SubjectInjury(models.TextChoices):
    NONE = "none", "None"
    MINOR = "minor", "Minor"
    SEVERE = "severe", "Severe"
    DEATH = "death", "Death"
    NOT_REPORTED = "not_reported", "Not reported"


class YesNoNotStated(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    NOT_STATED = "not_stated", "Not stated"


LOCATION_GROUPS = {
    "Public": (
        "location_street",
        "location_open_ground",
        "location_retail",
        "location_licensed",
        "location_public_transport",
        "location_stadium",
    ),
    "Police setting": (
        "location_vehicle_caged",
        "location_vehicle_uncaged",
        "location_police_station",
        "location_custody",
    ),
    "Medical setting": ("location_hospital", "location_mental_health_setting", "location_ambulance"),
    "Dwelling": ("location_dwelling",),
    "Other": ("location_other",),
}


class ImportBatch(models.Model):
    """One file (or one demo generation) loaded for one force: a new data version."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to start"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Format(models.TextChoices):
        MET = "met", "Metropolitan Police record-level export"
        CANONICAL = "canonical", "Taser oversight canonical CSV"
        DEMO = "demo", "Generated demo data"

    force = models.ForeignKey(Force, on_delete=models.PROTECT, related_name="import_batches")
    data_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="Increases by one with each batch of the force; given when the batch runs"
    )
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    source_name = models.CharField(max_length=255)
    source_format = models.CharField(max_length=10, choices=Format.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    rows_read = models.PositiveIntegerField(default=0)
    rows_added = models.PositiveIntegerField(default=0)
    rows_changed = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    rows_withdrawn = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    notes = models.JSONField(default=list, blank=True, help_text="Warnings that did not stop the import")
    unrecognised = models.JSONField(
        default=list, blank=True,
        help_text="Each value outside the vocabularies, by column, with its rows: kept, counted as not stated",
    )  # fmt: skip
    summary_cells = models.JSONField(
        default=list, blank=True, help_text="The [area id, first day of month] summary cells the batch changed"
    )
    skip_invalid = models.BooleanField(default=False, help_text="Import the good rows and reject the others")
    strict = models.BooleanField(
        default=False, help_text="Refuse values outside the vocabularies instead of keeping them"
    )
    new_areas = models.BooleanField(
        default=False, help_text="Create the file's unknown areas even when they are most of them"
    )
    attempts = models.PositiveSmallIntegerField(default=0, help_text="How many times an import of it has started")
    lease_until = models.DateTimeField(
        null=True, blank=True,
        help_text="While running: when its importer, unless it renews this, counts as gone. While waiting: when "
        "it counts as lost from the queue",
    )  # fmt: skip

    class Meta:
        ordering = ["force", "-data_version"]
        verbose_name_plural = "import batches"
        constraints = [
            models.UniqueConstraint(fields=["force", "data_version"], name="one_batch_per_data_version"),
        ]

    # Not stored: whether the import that ran the batch counted its change into the summary cells
    # (summaries.CountedChange), so that what follows it need not rebuild them.
    summaries_counted = False

    def __str__(self):
        return f"{self.force} v{self.data_version}: {self.source_name}"


def one_of(column, *values):
    """(condition, leading columns) of a value index over some values of one column, keyed by it."""
    return Q(**{f"{column}__in": values}), (column,)


def ticked(*flags):
    """(condition, leading columns) of a value index over the reports with any of these flags."""
    return reduce(operator.or_, (Q(**{flag: True}) for flag in flags)), ()


# Filter values rare or uncommon in use-of-force data (in the national statistics and the demo's Met:
# from a death to a weapon, 10% of reports). A page of such a value, or of two of them together (a child
# in a medical setting: 0.3% of reports), read off the force's date index walked most of the force's
# reports (70-423 ms at 5,000,000); read newest first off the value's own index, with the highest level
# in its key and checked there, it takes a few ms. Values more common are left to the date index: two
# of them together are still about one report in a hundred or more, a page within a few thousand. A
# column's values share one index that begins with the column; each ticked option has its own.
# Body-worn video has none: the Met's export never states it, so its "not stated" index held every report
# the Met sends (a sixth of the COPY of a million-row file) for pages the date index serves within 31 ms.
VALUE_INDEXES = {
    "ced_used": (Q(ced_used=True), ()),
    "discharge": (Q(highest_ced_level__in=DISCHARGE_LEVELS), ()),
    "age": one_of(
        "subject_age",
        AgeBand.UNDER_11,
        AgeBand.FROM_11_TO_17,
        AgeBand.FROM_50_TO_64,
        AgeBand.FROM_65,
        AgeBand.NOT_REPORTED,
    ),
    "gender": one_of("subject_gender", Gender.OTHER, Gender.NOT_REPORTED),
    "ethnicity": one_of("subject_ethnicity", Ethnicity.MIXED, Ethnicity.OTHER, Ethnicity.NOT_REPORTED),
    "health": one_of(
        "subject_health", HealthCondition.PHYSICAL, HealthCondition.PHYSICAL_AND_MENTAL, HealthCondition.NOT_REPORTED
    ),
    "subject_injury": one_of("subject_injury", SubjectInjury.SEVERE, SubjectInjury.DEATH, SubjectInjury.NOT_REPORTED),
    "officer_injury": one_of("officer_injury", OfficerInjury.SEVERE, OfficerInjury.MINOR, OfficerInjury.NOT_REPORTED),
    "fatality": ticked("outcome_fatality"),
    "made_off": ticked("outcome_made_off"),
    "detained_mha": ticked("outcome_detained_mha"),
    "hospitalised": ticked("outcome_hospitalised"),
    "outcome_other": ticked("outcome_other"),
    "remove_handcuffs": ticked("reason_remove_handcuffs"),
    "method_of_entry": ticked("reason_method_of_entry"),
    "secure_evidence": ticked("reason_secure_evidence"),
    "effect_search": ticked("reason_effect_search"),
    "reason_other": ticked("reason_other"),
    "acute_behaviour": ticked("impact_acute_behavioural_disturbance"),
    "crowd": ticked("impact_crowd"),
    "weapon": ticked("impact_weapon"),
    "impact_other": ticked("impact_other"),
    # A location filter asks for a group (incidents.filters), any of its places.
    "medical_setting": ticked(*LOCATION_GROUPS["Medical setting"]),
    "location_other": ticked(*LOCATION_GROUPS["Other"]),
}


# Reports the latest edition of their source still holds (withdrawn ones are kept, not counted).
CURRENT = Q(withdrawn_in_version__isnull=True)


class ReportQuerySet(models.QuerySet):
    def current(self):
        """Reports the latest edition of their source still holds (withdrawn ones are kept, not counted)."""
        return self.filter(CURRENT)


# Source keys are digests, in random order: on PostgreSQL checked on a hash index.
SOURCE_KEY_UNIQUE = UniqueByHash(
    fields=["force", "source_key"], condition=~Q(source_key=""), name="report_source_key_unique_in_force"
)


class UseOfForceReport(LadderFlags):
    """One officer's use of force on one person (one national use-of-force form)."""

    # No single-column indexes on force and area: the composite indexes below start with them.
    # The references of a report are kept by INTEGRITY_RULES, checked once per statement,
    # not by foreign-key constraints, checked once per row (see oversight/triggers.py).
    force = models.ForeignKey(
        Force, on_delete=models.PROTECT, related_name="reports", db_index=False, db_constraint=False
    )
    area = models.ForeignKey(
        Area, on_delete=models.PROTECT, null=True, blank=True, related_name="reports", db_index=False,
        db_constraint=False,
    )  # fmt: skip
    occurred_on = models.DateField()
    occurred_at = models.TimeField(null=True, blank=True)
    incident_reference = models.CharField(
        max_length=60, blank=True, help_text="Shared by the reports of one incident, where the source gives one"
    )
    officer_reference = models.CharField(
        max_length=60, blank=True, help_text="The force's pseudonymous officer reference; never an identity"
    )

    # Location (multi-select).
    location_street = models.BooleanField("street/highway", default=False)
    location_open_ground = models.BooleanField("open ground", default=False)
    location_retail = models.BooleanField("retail premises", default=False)
    location_licensed = models.BooleanField("licensed premises", default=False)
    location_public_transport = models.BooleanField("public transport", default=False)
    location_stadium = models.BooleanField("sports or event stadia", default=False)
    location_vehicle_caged = models.BooleanField("police vehicle with cage", default=False)
    location_vehicle_uncaged = models.BooleanField("police vehicle without cage", default=False)
    location_police_station = models.BooleanField("police station (excluding custody)", default=False)
    location_custody = models.BooleanField("custody block", default=False)
    location_hospital = models.BooleanField("hospital/A&E (non-mental-health)", default=False)
    location_mental_health_setting = models.BooleanField("mental health setting", default=False)
    location_ambulance = models.BooleanField("ambulance", default=False)
    location_dwelling = models.BooleanField("dwelling", default=False)
    location_other = models.BooleanField("other location", default=False)

    # Subject, as perceived by the officer.
    subject_age = models.CharField(max_length=12, choices=AgeBand.choices, default=AgeBand.NOT_REPORTED)
    subject_gender = models.CharField(max_length=12, choices=Gender.choices, default=Gender.NOT_REPORTED)
    subject_ethnicity = models.CharField(max_length=12, choices=Ethnicity.choices, default=Ethnicity.NOT_REPORTED)
    subject_ethnicity_source = models.CharField(
        max_length=40, blank=True, help_text="Ethnicity as the source recorded it, e.g. Chinese or Don't know"
    )
    subject_health = models.CharField(
        "subject health condition", max_length=20, choices=HealthCondition.choices, default=HealthCondition.NOT_REPORTED
    )
    subject_conduct = models.PositiveSmallIntegerField(
        choices=Conduct.choices, null=True, blank=True, help_text="Empty when not stated"
    )

    # Impact factors (multi-select).
    impact_weapon = models.BooleanField("possession of a weapon", default=False)
    impact_alcohol = models.BooleanField("alcohol", default=False)
    impact_drugs = models.BooleanField("drugs", default=False)
    impact_mental_health = models.BooleanField("mental health", default=False)
    impact_prior_knowledge = models.BooleanField("prior knowledge", default=False)
    impact_size_gender_build = models.BooleanField("size/gender/build", default=False)
    impact_acute_behavioural_disturbance = models.BooleanField("acute behavioural disturbance", default=False)
    impact_crowd = models.BooleanField("crowd", default=False)
    impact_other = models.BooleanField("other impact factor", default=False)

    # Reasons (multi-select).
    reason_protect_self = models.BooleanField("protect self", default=False)
    reason_protect_public = models.BooleanField("protect public", default=False)
    reason_protect_subject = models.BooleanField("protect subject", default=False)
    reason_protect_other_officers = models.BooleanField("protect other officers", default=False)
    reason_prevent_offence = models.BooleanField("prevent offence", default=False)
    reason_secure_evidence = models.BooleanField("secure evidence", default=False)
    reason_effect_search = models.BooleanField("effect search", default=False)
    reason_effect_arrest = models.BooleanField("effect arrest", default=False)
    reason_method_of_entry = models.BooleanField("method of entry", default=False)
    reason_remove_handcuffs = models.BooleanField("remove handcuffs", default=False)
    reason_prevent_harm = models.BooleanField("prevent harm", default=False)
    reason_prevent_escape = models.BooleanField("prevent escape", default=False)
    reason_other = models.BooleanField("other reason", default=False)

    # Officer context (empty = not stated).
    officer_single_crewed = models.BooleanField("single-crewed", null=True, blank=True)
    officer_ced_trained = models.BooleanField("CED-trained", null=True, blank=True)
    officer_carrying_ced = models.BooleanField("carrying CED", null=True, blank=True)
    officer_assaulted = models.BooleanField("officer assaulted", null=True, blank=True)
    officer_threatened_with_weapon = models.BooleanField("officer threatened with a weapon", null=True, blank=True)
    officer_main_duty = models.CharField(max_length=80, blank=True)
    body_worn_video = models.CharField(
        "body-worn video recording", max_length=10, choices=YesNoNotStated.choices, default=YesNoNotStated.NOT_STATED
    )

    # Outcomes (multi-select) and injuries.
    outcome_made_off = models.BooleanField("made off/escaped", default=False)
    outcome_arrested = models.BooleanField("arrested", default=False)
    outcome_hospitalised = models.BooleanField("hospitalised", default=False)
    outcome_detained_mha = models.BooleanField("detained (Mental Health Act)", default=False)
    outcome_fatality = models.BooleanField("fatality", default=False)
    outcome_other = models.BooleanField("other outcome", default=False)
    officer_injury = models.CharField(max_length=12, choices=OfficerInjury.choices, default=OfficerInjury.NOT_REPORTED)
    subject_injury = models.CharField(max_length=12, choices=SubjectInjury.choices, default=SubjectInjury.NOT_REPORTED)

    # CED: the ladder flags come from LadderFlags (every level used, over all devices and
    # the tactics columns); the highest is stored so SQL can count by it.
    ced_used = models.BooleanField("CED used", default=False)
    highest_ced_level = models.PositiveSmallIntegerField(
        "highest CED level", choices=CedLevel.choices, null=True, blank=True, help_text="Empty when no CED was used"
    )

    # Provenance and revisions.
    import_batch = models.ForeignKey(
        ImportBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="reports", db_constraint=False
    )
    source_row = models.PositiveIntegerField(null=True, blank=True, help_text="Row number in the source file")
    source_key = models.CharField(
        max_length=64, blank=True, help_text="Identity of the record across editions of the source"
    )
    content_hash = models.CharField(
        max_length=32, blank=True, help_text="Digest of the source row, to spot corrections"
    )
    unrecognised = models.JSONField(
        default=dict, blank=True,
        help_text="Values outside the form's vocabularies, as published, by the source's column; counted as not stated",
    )  # fmt: skip
    data_version = models.PositiveIntegerField(default=1, help_text="Data version that last wrote this report")
    withdrawn_in_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="Data version from which the source no longer holds this report"
    )

    objects = ReportQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_on", "-id"]
        indexes = [
            # Ends in id: lists page newest first by (date, id), and the index then gives them in order.
            models.Index(fields=["force", "occurred_on", "id"], name="report_force_date_id"),
            models.Index(fields=["area", "occurred_on"], name="report_area_date"),
            # Only reports with Taser, about one in ten: a query by level never wants the others.
            # Ends in id too: a page of one level is read from it newest first, and stops.
            models.Index(
                fields=["force", "highest_ced_level", "occurred_on", "id"],
                name="report_force_level_date",
                condition=Q(highest_ced_level__isnull=False),
            ),
            # An area's reports of a level, where a bar of the area's dashboard leads: read in order, where
            # ANDing the force's levels with the area's whole index took 11 ms (64,125 entries for 437).
            models.Index(
                fields=["area", "highest_ced_level", "occurred_on", "id"],
                name="report_area_level_date",
                condition=Q(highest_ced_level__isnull=False),
            ),
            # The reports of an incident, which a change counted into the summaries reads whole.
            models.Index(
                fields=["force", "incident_reference"],
                name="report_force_incident",
                condition=~Q(incident_reference=""),
            ),
            # Each rare or uncommon value's reports, newest first (VALUE_INDEXES); a column's values begin
            # with the column. The highest level ends the key: a value with a level or a discharge group (a
            # severe officer injury in a firing: 57 of 11,240) is checked on the index, not on each report
            # fetched (1 ms, where fetching each took 18-75).
            *(
                models.Index(
                    fields=["force", *columns, "occurred_on", "id", "highest_ced_level"],
                    condition=condition,
                    name=f"report_{name}_date",
                )
                for name, (condition, columns) in VALUE_INDEXES.items()
            ),
        ]
        constraints = [
            SOURCE_KEY_UNIQUE,
            # The stored highest level always follows the ladder rule over the flags.
            models.CheckConstraint(
                condition=Q(ced_used=False, highest_ced_level__isnull=True, **dict.fromkeys(LADDER_FLAGS, False))
                | Q(
                    ced_used=True,
                    highest_ced_level=Case(
                        *(When(**{flag: True}, then=Value(int(level))) for level, flag in LADDER),
                        default=Value(int(CedLevel.NOT_STATED)),
                    ),
                ),
                name="highest_ced_level_follows_ladder",
            ),
        ]

    def __str__(self):
        return f"Report {self.pk} ({self.force_id}, {self.occurred_on})"

    def save(self, *args, **kwargs):
        # The stored highest level is derived, never entered: the ladder rule decides it.
        self.ced_used = self.ced_used or any(getattr(self, flag) for flag in LADDER_FLAGS)
        self.highest_ced_level = highest_level_of(self.__dict__) if self.ced_used else None
        super().save(*args, **kwargs)

    def get_additional_data(self):
        """What the audit trail keeps beside each entry: record retention finds a deleted report's entries by it."""
        return {"force": self.force_id, "occurred_on": str(self.occurred_on)}

    @classmethod
    def options(cls, prefix):
        """The (column, label) pairs of one multi-select group, e.g. options("reason_")."""
        return [(f.name, f.verbose_name) for f in cls._meta.fields if f.name.startswith(prefix)]

    def set_ced_levels(self, levels):
        """Record the ladder levels used and derive the highest by the ladder rule."""
        for level, flag in LADDER:
            setattr(self, flag, level in levels)
        self.ced_used = True
        self.highest_ced_level = highest_level(levels)

    @property
    def is_discharge(self):
        return self.highest_ced_level in DISCHARGE_LEVELS

    def location_groups(self):
        return [group for group, flags in LOCATION_GROUPS.items() if any(getattr(self, f) for f in flags)]


class CedUse(LadderFlags):
    """One CED device used in a report: the ladder levels used with it and its cycles."""

    # Kept by INTEGRITY_RULES, as the references of a report are.
    report = models.ForeignKey(UseOfForceReport, on_delete=models.CASCADE, related_name="ced_uses", db_constraint=False)
    device_number = models.PositiveSmallIntegerField(help_text="1 to 4, the device block on the form")
    device_model = models.CharField(max_length=10, choices=DeviceModel.choices, blank=True)
    serial_number = models.CharField(max_length=40, blank=True)
    drive_stun_repeated = models.BooleanField("drive stun repeat application", null=True, blank=True)
    cartridge_number = models.PositiveSmallIntegerField(null=True, blank=True, help_text="X2 has two cartridges")
    cycle_interrupted = models.BooleanField("5-second cycle interrupted", null=True, blank=True)
    repeat_cycle_same_cartridge = models.BooleanField(null=True, blank=True)
    cycles = models.PositiveSmallIntegerField("total number of cycles", null=True, blank=True)
    cycle_extended = models.BooleanField("cycle extended beyond 5 seconds", null=True, blank=True)
    missed_one_probe = models.BooleanField(null=True, blank=True)
    missed_both_probes = models.BooleanField(null=True, blank=True)
    probe_zones = models.JSONField(default=list, blank=True, help_text="Body zones struck, e.g. ['F1', 'BA']")

    class Meta:
        ordering = ["report", "device_number"]
        indexes = [
            # The reports with a cycle extended beyond 5 seconds, a few in a thousand: the report list's
            # filter asks for them by EXISTS, which otherwise reads every CED use.
            models.Index(fields=["report"], condition=Q(cycle_extended=True), name="ced_use_extended_report"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["report", "device_number"], name="one_ced_use_per_device_block"),
            models.CheckConstraint(
                condition=Q(device_number__gte=1, device_number__lte=4), name="device_number_1_to_4"
            ),
        ]

    def __str__(self):
        return f"CED {self.device_number} of report {self.report_id}"

    def get_additional_data(self):
        """What the audit trail keeps beside each entry: a report's trail includes its devices'."""
        return {"report": self.report_id}

    @property
    def highest_level(self):
        return highest_level_of({flag: getattr(self, flag) for flag in LADDER_FLAGS})


_REPORT = UseOfForceReport._meta.db_table
# Every level a device was used at is among its report's levels.
_DEVICE_LEVELS_ON_REPORT = " AND ".join(f"(NOT NEW.{flag} OR r.{flag})" for flag in LADDER_FLAGS)
_REPORT_DROPS_A_DEVICE_LEVEL = " OR ".join(f"(c.{flag} AND NOT NEW.{flag})" for flag in LADDER_FLAGS)

INTEGRITY_RULES = (
    # IN (SELECT …) rather than a correlated EXISTS: PostgreSQL hashes the small table once
    # instead of probing it for each of a million rows. (Not for the pair (area, force):
    # SQLite 3.40 answers a row-value IN wrongly when an index covers the second column.)
    Rule(
        "report_of_known_force_and_batch",
        _REPORT,
        "NEW.force_id IN (SELECT id FROM forces_force) AND (NEW.import_batch_id IS NULL "  # noqa: S608
        f"OR NEW.import_batch_id IN (SELECT id FROM {ImportBatch._meta.db_table}))",
        "a report must belong to a known force and, if it has one, a known import batch",
        columns=("force_id", "import_batch_id"),
    ),
    Rule(
        "report_area_in_report_force",
        _REPORT,
        "NEW.area_id IS NULL OR EXISTS "
        "(SELECT 1 FROM forces_area a WHERE a.id = NEW.area_id AND a.force_id = NEW.force_id)",
        "a report may only be placed in an area of its own force",
        columns=("area_id", "force_id"),
    ),
    # What reports and CED uses refer to stays while they do (their foreign keys). Each row still
    # there is found by its key: as IN (SELECT id …), a table too large to hash in work_mem was read
    # again for each row, and withdrawing a million of a million reports ran for over ten minutes.
    *(
        Rule(
            f"{name}_keeps_its_{referring}",
            table,
            f"EXISTS (SELECT 1 FROM {table} kept WHERE kept.id = OLD.id) "  # noqa: S608
            f"OR NOT EXISTS (SELECT 1 FROM {referring_table} r WHERE r.{column} = OLD.id)",
            f"{what} with {referring.replace('_', ' ')} cannot be deleted or renumbered",
            events=("UPDATE", "DELETE"),
            columns=("id",),
            rows="OLD",
        )
        for name, table, referring, referring_table, column, what in (
            ("force", "forces_force", "reports", _REPORT, "force_id", "a force"),
            ("area", "forces_area", "reports", _REPORT, "area_id", "an area"),
            ("import_batch", ImportBatch._meta.db_table, "reports", _REPORT, "import_batch_id", "an import batch"),
            ("report", _REPORT, "ced_uses", CedUse._meta.db_table, "report_id", "a report"),
        )
    ),
    Rule(
        "area_keeps_force_of_its_reports",
        "forces_area",
        f"NOT EXISTS (SELECT 1 FROM {_REPORT} r WHERE r.area_id = NEW.id AND r.force_id <> NEW.force_id)",  # noqa: S608
        "an area with reports cannot move to another force",
        events=("UPDATE",),
        columns=("force_id",),
    ),
    Rule(
        "ced_use_levels_on_report",
        CedUse._meta.db_table,
        f"EXISTS (SELECT 1 FROM {_REPORT} r WHERE r.id = NEW.report_id AND r.ced_used AND {_DEVICE_LEVELS_ON_REPORT})",  # noqa: S608
        "every level a device was used at must be among its report's levels",
    ),
    Rule(
        "report_levels_cover_ced_uses",
        _REPORT,
        f"NOT EXISTS (SELECT 1 FROM {CedUse._meta.db_table} c WHERE c.report_id = NEW.id "  # noqa: S608
        f"AND (NOT NEW.ced_used OR {_REPORT_DROPS_A_DEVICE_LEVEL}))",
        "a report cannot drop a level one of its devices was used at",
        events=("UPDATE",),
        columns=("ced_used", *LADDER_FLAGS),
    ),
)
