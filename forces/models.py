from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Subquery

from oversight.police_calendar import financial_year_label, is_financial_year


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
    are of the lookup's vintage (LAD16CD, LAD23CD…): districts merged since have other codes, which
    forces.local_authority_changes relates to these.
    """

    code = models.CharField(max_length=9, unique=True, help_text="ONS local authority district code")
    name = models.CharField(max_length=120)
    lookup_year = models.PositiveSmallIntegerField(
        default=2016, help_text="Year of the codes of the ONS lookup it came from (LAD16CD: 2016)"
    )
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


class ForcePopulationBaseline(models.Model):
    """Census residents of a whole police force area, summed from every local authority in it.

    A force's rates divide by this when it is held, rather than by the sum of its areas: a census
    counts authorities of its own year, and an older lookup's areas cannot always be told apart in
    it (Buckinghamshire's four districts, four areas in December 2016, are one authority in Census
    2021), but no merger has crossed a force's boundary, so the force's sum is whole either way.
    """

    force = models.ForeignKey(Force, on_delete=models.CASCADE, related_name="population_baselines")
    census_year = models.PositiveSmallIntegerField(default=2021)
    white = models.PositiveIntegerField()
    black = models.PositiveIntegerField()
    asian = models.PositiveIntegerField(help_text="Includes Chinese")
    mixed = models.PositiveIntegerField()
    other = models.PositiveIntegerField()
    total = models.PositiveIntegerField()
    source = models.CharField(max_length=200, help_text="The census file")
    lookup_year = models.PositiveSmallIntegerField(help_text="Year of the codes of the lookup it was summed through")

    class Meta:
        ordering = ["force", "-census_year"]
        constraints = [
            models.UniqueConstraint(fields=["force", "census_year"], name="one_force_baseline_per_census"),
            models.CheckConstraint(
                condition=Q(total__gte=F("white") + F("black") + F("asian") + F("mixed") + F("other")),
                name="force_baseline_groups_within_total",
            ),
        ]

    def __str__(self):
        return f"{self.force} (Census {self.census_year})"

    @property
    def described(self):
        """Which population a rate divides by, in the words the pages use."""
        return (
            f"Census {self.census_year} usual residents (table TS021, {self.source}), summed into the force area "
            f"through the ONS local authority lookup of {self.lookup_year}"
        )


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


class Edition(models.Model):
    """One publication of the Home Office tables, ranked by when it was published.

    Editions revise earlier years, so the same figure can come from several; the newest
    publication gives the current value, whatever order the files were imported in.
    """

    class DateSource(models.TextChoices):
        PUBLICATION = "publication", "publication date on its cover or contents sheet"
        LATEST_PERIOD = "latest_period", "end of the latest period it covers (no publication date found)"

    name = models.CharField(max_length=200, unique=True, help_text="Title and publication date, or the file name")
    published_on = models.DateField()
    published_on_source = models.CharField(max_length=20, choices=DateSource.choices)
    file_name = models.CharField(max_length=255, blank=True)
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-published_on", "-name"]

    def __str__(self):
        return self.name


class PublishedFigureQuerySet(models.QuerySet):
    def same_cell_ranked(self, above):
        """Figures of the outer figure's cell (period, geography, measure) in editions ranked above it
        (`above`) or below it; editions rank by publication date, then name."""
        published_on, name = OuterRef("edition__published_on"), OuterRef("edition__name")
        lookup = "gt" if above else "lt"
        return self.filter(**{field: OuterRef(field) for field in CELL}).filter(
            Q(**{f"edition__published_on__{lookup}": published_on})
            | Q(edition__published_on=published_on, **{f"edition__name__{lookup}": name})
        )

    def current(self):
        """Each cell's figure from the newest edition that publishes it; older ones are history."""
        return self.exclude(Exists(PublishedFigure.objects.same_cell_ranked(above=True)))

    def with_revised(self):
        """Annotate `revised_value` and `revised_edition`: the cell's figure in the next older edition."""
        older = PublishedFigure.objects.same_cell_ranked(above=False).order_by(
            "-edition__published_on", "-edition__name"
        )
        return self.select_related("edition").annotate(
            revised_value=Subquery(older.values("value")[:1]),
            revised_edition=Subquery(older.values("edition__name")[:1]),
        )

    def financial_years(self):
        return self.exclude(financial_year="")


def describe_period(start, end, kind):
    """A period as the pages name it: "2019/20", "January to March 2017", "2016", "2016 (revised)"."""
    if is_financial_year(start, end):
        span = financial_year_label(start.year)
    elif (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year:
        span = str(start.year)
    else:
        first = start.strftime("%B") + ("" if start.year == end.year else f" {start.year}")
        span = f"{first} to {end:%B %Y}"
    return f"{span} (revised)" if kind == PublishedFigure.PeriodKind.REVISION else span


class PublishedFigure(models.Model):
    """One figure from a Home Office table, as published, for reconciliation and comparison.

    `geography` is the force's Home Office name for a force row (editions spell forces
    differently), or "Total <name>" for national and regional totals (which have no `force`).
    The period is what the edition says it is: a financial year, a quarter, a calendar year
    or a table of revisions; `financial_year` is set only when the period is one.
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
        USES = "uses", "uses (TASER X26 statistics, to March 2017)"
        INCIDENTS = "incidents", "incidents (Home Office term to 2022/23)"
        REPORTS = "reports", "reports (Home Office term from 2023/24)"

    class PeriodKind(models.TextChoices):
        FINANCIAL_YEAR = "financial_year", "financial year"
        QUARTER = "quarter", "quarter"
        CALENDAR_YEAR = "calendar_year", "calendar year"
        REVISION = "revision", "revision of an earlier period"

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="figures")
    force = models.ForeignKey(Force, on_delete=models.PROTECT, null=True, blank=True, related_name="published_figures")
    geography = models.CharField(max_length=80, help_text="The force's Home Office name, or 'Total <name>'")
    period_start = models.DateField()
    period_end = models.DateField()
    period_kind = models.CharField(max_length=20, choices=PeriodKind.choices)
    financial_year = models.CharField(
        max_length=7, blank=True, validators=[financial_year_validator], help_text="Set only for a financial year"
    )
    measure = models.CharField(max_length=30, choices=Measure.choices)
    value = models.PositiveIntegerField(null=True, blank=True, help_text="Empty where published as not available")
    unit = models.CharField(max_length=10, choices=Unit.choices, default=Unit.INCIDENTS)

    objects = PublishedFigureQuerySet.as_manager()

    class Meta:
        ordering = ["period_start", "period_end", "geography", "measure"]
        constraints = [
            models.UniqueConstraint(
                fields=["edition", "period_start", "period_end", "geography", "measure"],
                name="one_published_value_per_edition_and_cell",
            ),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="published_period_in_order"),
        ]
        indexes = [
            models.Index(fields=["period_start", "period_end", "geography", "measure"], name="published_figure_cell")
        ]

    def __str__(self):
        return f"{self.geography} {self.period} {self.measure}"

    @property
    def period(self):
        return describe_period(self.period_start, self.period_end, self.period_kind)


# The fields that make one published cell: editions publishing the same cell revise each other.
CELL = ("period_start", "period_end", "geography", "measure")


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


class FiguresVersion(models.Model):
    """How often what a force's pages show has changed: a counter per force, and one (scope "") for the figures
    of no force, that every write changing a figure moves on in its own transaction.

    Cached pages and answers are kept under it, and their ETags made from it. A counter that only goes up, bumped
    with the write, cannot go stale: a reader that sees the write's data sees its version, and no version is
    ever reused (timestamps of rows would miss a deletion, and could come back to an earlier value).
    """

    scope = models.CharField(primary_key=True, max_length=40, help_text="A force id; empty for national figures")
    version = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField()

    def __str__(self):
        return f"{self.scope or 'England and Wales'}: version {self.version}"
