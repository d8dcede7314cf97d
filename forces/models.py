from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q


class Role(models.TextChoices):
    """The product's roles. Each is a Django group of the same name; a user holds one."""

    PCC_STAFF = "pcc_staff", "PCC staff"
    PANEL_MEMBER = "panel_member", "Scrutiny panel member"
    FORCE_DATA_OFFICER = "force_data_officer", "Force data officer"
    API_CLIENT = "api_client", "API client"


class Force(models.Model):
    """A territorial police force of England and Wales, or British Transport Police."""

    id = models.SlugField(primary_key=True, max_length=40, help_text="data.police.uk force id")
    name = models.CharField(max_length=80)
    home_office_name = models.CharField(max_length=80, unique=True, help_text="Name in Home Office tables")
    ons_name = models.CharField(max_length=80, blank=True, help_text="Police force area name in ONS lookups")
    pfa_code = models.CharField(max_length=9, blank=True, help_text="ONS police force area code")
    region = models.CharField(max_length=40, blank=True, help_text="Home Office region; BTP has none")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Area(models.Model):
    """A Community Safety Partnership (a London borough for the Met) within one force."""

    class Kind(models.TextChoices):
        CSP = "csp", "Community Safety Partnership"
        BOROUGH = "borough", "London borough"
        OTHER = "other", "Other (e.g. airport, out of force)"

    force = models.ForeignKey(Force, on_delete=models.PROTECT, related_name="areas")
    code = models.CharField(max_length=20, help_text="ONS code, or the force's own for other areas")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CSP)
    needs_review = models.BooleanField(
        default=False, help_text="Created from a name in an import; check it is a real area of the force."
    )

    class Meta:
        ordering = ["force", "name"]
        constraints = [
            models.UniqueConstraint(fields=["force", "code"], name="area_code_unique_in_force"),
            models.UniqueConstraint(fields=["force", "name"], name="area_name_unique_in_force"),
        ]

    def __str__(self):
        return self.name


class LocalAuthority(models.Model):
    """A local authority district (ONS LAD code) and the area it belongs to.

    Census tables come by local authority; this is how they are summed into areas. The codes
    are of the lookup's vintage (December 2016): districts merged since have other codes.
    """

    code = models.CharField(max_length=9, unique=True, help_text="ONS local authority district code")
    name = models.CharField(max_length=120)
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="local_authorities")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "local authorities"

    def __str__(self):
        return self.name


class PopulationBaseline(models.Model):
    """Census residents of an area by the five published ethnic groups (self-identified)."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="population_baselines")
    census_year = models.PositiveSmallIntegerField(default=2021)
    white = models.PositiveIntegerField()
    black = models.PositiveIntegerField()
    asian = models.PositiveIntegerField(help_text="Includes Chinese")
    mixed = models.PositiveIntegerField()
    other = models.PositiveIntegerField()
    total = models.PositiveIntegerField()
    source = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["area", "-census_year"]
        constraints = [
            models.UniqueConstraint(fields=["area", "census_year"], name="one_baseline_per_area_and_census"),
            models.CheckConstraint(
                condition=Q(total__gte=F("white") + F("black") + F("asian") + F("mixed") + F("other")),
                name="baseline_groups_within_total",
            ),
        ]

    def __str__(self):
        return f"{self.area} (Census {self.census_year})"


class DeviceModel(models.TextChoices):
    X26 = "x26", "X26/X26e"
    X2 = "x2", "X2"
    TASER_7 = "taser7", "Taser 7"
    TASER_10 = "taser10", "Taser 10"


class CapabilityRecord(models.Model):
    """Devices in service and officers trained, as the force or PCC reports them.

    The Home Office holds no per-force counts, so these are entered by hand with a source.
    """

    force = models.ForeignKey(Force, on_delete=models.PROTECT, related_name="capability_records")
    as_of = models.DateField()
    device_model = models.CharField(max_length=10, choices=DeviceModel.choices)
    devices_in_service = models.PositiveIntegerField()
    officers_trained = models.PositiveIntegerField()
    source = models.CharField(max_length=200)

    class Meta:
        ordering = ["force", "-as_of", "device_model"]
        constraints = [
            models.UniqueConstraint(
                fields=["force", "as_of", "device_model"], name="one_capability_record_per_model_and_date"
            ),
        ]

    def __str__(self):
        return f"{self.force} {self.get_device_model_display()} as of {self.as_of}"


class UpliftDecision(models.Model):
    """A decision to change Taser capability, with the assessment behind it."""

    force = models.ForeignKey(Force, on_delete=models.PROTECT, related_name="uplift_decisions")
    decided_on = models.DateField()
    decision = models.TextField()
    threat_risk_assessment_ref = models.CharField("threat and risk assessment reference", max_length=100)
    community_impact_considered = models.BooleanField(default=False)
    pcc_informed_on = models.DateField("PCC informed on", null=True, blank=True)

    class Meta:
        ordering = ["force", "-decided_on"]

    def __str__(self):
        return f"{self.force} uplift decision of {self.decided_on}"


financial_year_validator = RegexValidator(r"^\d{4}/\d{2}$", "Write a financial year as 2019/20.")


class PublishedFigure(models.Model):
    """One figure from a Home Office table, as published, for reconciliation and comparison.

    `geography` is the row label as published; `force` is set when the row is one force
    (national and regional totals have none).
    """

    class Measure(models.TextChoices):
        USE_OF_FORCE_TOTAL = "use_of_force_total", "Use-of-force incidents or reports"
        CED_TOTAL = "ced_total", "CED: total"
        CED_NON_DISCHARGE = "ced_non_discharge", "CED: total non-discharge"
        CED_DRAWN = "ced_drawn", "CED: drawn"
        CED_AIMED = "ced_aimed", "CED: aimed"
        CED_RED_DOTTED = "ced_red_dotted", "CED: red-dotted"
        CED_ARCED = "ced_arced", "CED: arced"
        CED_DISCHARGE = "ced_discharge", "CED: total discharge"
        CED_DRIVE_STUN = "ced_drive_stun", "CED: drive stun"
        CED_FIRED = "ced_fired", "CED: fired"
        CED_ANGLE_DRIVE_STUN = "ced_angle_drive_stun", "CED: angle drive stun"
        CED_NOT_STATED = "ced_not_stated", "CED: not stated"

    class Unit(models.TextChoices):
        INCIDENTS = "incidents", "incidents (Home Office term to 2022/23)"
        REPORTS = "reports", "reports (Home Office term from 2023/24)"

    force = models.ForeignKey(Force, on_delete=models.PROTECT, null=True, blank=True, related_name="published_figures")
    geography = models.CharField(max_length=80, help_text="Row label as published")
    financial_year = models.CharField(max_length=7, validators=[financial_year_validator])
    measure = models.CharField(max_length=30, choices=Measure.choices)
    value = models.PositiveIntegerField(null=True, blank=True, help_text="Empty where published as not available")
    unit = models.CharField(max_length=10, choices=Unit.choices, default=Unit.INCIDENTS)
    source_edition = models.CharField(max_length=200, help_text="Publication the figure comes from")

    class Meta:
        ordering = ["financial_year", "geography", "measure"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_edition", "financial_year", "geography", "measure"],
                name="one_published_value_per_cell",
            ),
        ]

    def __str__(self):
        return f"{self.geography} {self.financial_year} {self.measure}"


class ForceScope(models.Model):
    """The one force whose data a signed-in user works with (superusers have none)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="force_scope")
    force = models.ForeignKey(Force, on_delete=models.PROTECT, related_name="user_scopes")

    def __str__(self):
        return f"{self.user} → {self.force}"


class ApiToken(models.Model):
    """A key a user makes for their scripts: one force, read-only or read-write, revocable.

    Only a digest of the key is kept; the key itself is shown once, when it is made. The key
    is 256 random bits, so a plain SHA-256 is enough: a slow password hash guards guessable
    secrets, and would cost every API request its time.
    """

    class Access(models.TextChoices):
        READ = "read", "Read only"
        READ_WRITE = "read_write", "Read and write"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    force = models.ForeignKey(Force, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=80, help_text="What the token is for, e.g. the script that uses it")
    access = models.CharField(max_length=10, choices=Access.choices, default=Access.READ)
    prefix = models.CharField(max_length=12, help_text="The key's first characters, to tell tokens apart")
    key_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user", "-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def read_only(self):
        return self.access == self.Access.READ
