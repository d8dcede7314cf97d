import datetime
import math
from collections.abc import Callable, Iterable
from functools import cached_property
from typing import Any

from django.db.models import Case, Count, Max, Min, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, ExtractYear

from forces.models import Area, Force, ForcePopulationBaseline, PopulationBaseline, Role
from forces.roles import IMPORT_ROLES, RECORD_ROLES, UPLOAD_ROLES, Person, force_of, may, role_of
from incidents.models import (
    DISCHARGE_LEVELS,
    INCIDENT_MEASURES,
    SUMMARY_MEASURES,
    CedLevel,
    Ethnicity,
    ImportBatch,
    MonthlySummary,
    RetentionRun,
    UseOfForceReport,
)
from oversight.numbers import share
from oversight.police_calendar import FIRST_MONTH, PERIOD_MONTHS, PERIODS, months_back, period_end, period_start

# A summary row: measure names, and the keys each function names, to counts and figures.
Row = dict[str, Any]

UNIT_OF_COUNT = "reports (one officer's use of force on one person)"


def reports_visible_to(user: Person) -> QuerySet[UseOfForceReport]:
    """The use-of-force reports a user may open, record by record."""
    reports = UseOfForceReport.objects.current()
    if user.is_superuser:
        return reports
    role = role_of(user)
    if role in RECORD_ROLES:
        force = force_of(user)
        return reports.filter(force=force) if force else reports.none()
    if role == Role.PANEL_MEMBER:
        # Members see only the reports sampled for a panel they sit on. A report sampled more than
        # once would come once per sample from a join, so the samples are asked as a subquery, not
        # joined and made DISTINCT, which would keep a page from being read off the date index.
        sampled = UseOfForceReport.objects.filter(sampled_cases__sample__panel__members__user=user.pk)
        return reports.filter(pk__in=sampled.values("pk"))
    return reports.none()


def latest_month(*, force: Force) -> datetime.date | None:
    """First day of the month of the force's latest report, or None without reports."""
    latest = UseOfForceReport.objects.current().filter(force=force).aggregate(latest=Max("occurred_on"))["latest"]
    return latest.replace(day=1) if latest else None


def ced_headline(*, force: Force, start: datetime.date, end: datetime.date) -> dict[str, Any]:
    """Reports and Taser reports by highest level for one force, start ≤ date < end."""
    reports = UseOfForceReport.objects.current().filter(force=force, occurred_on__gte=start, occurred_on__lt=end)
    by_level = {
        row["highest_ced_level"]: row["reports"]
        for row in reports.filter(ced_used=True).values("highest_ced_level").annotate(reports=Count("id"))
    }
    totals = reports.aggregate(
        reports=Count("id"),
        ced_reports=Count("id", filter=Q(ced_used=True)),
        discharge=Count("id", filter=Q(highest_ced_level__in=DISCHARGE_LEVELS)),
    )
    levels = [(level, by_level.get(level, 0)) for level in sorted(CedLevel, reverse=True)]
    return {**totals, "levels": levels, "start": start, "end": end, "unit": UNIT_OF_COUNT}


def data_version(*, force: Force) -> int:
    """The force's current data version: that of its latest successful batch (0 = no data)."""
    batches = ImportBatch.objects.filter(force=force, status=ImportBatch.Status.SUCCEEDED)
    return batches.aggregate(version=Max("data_version"))["version"] or 0


def reports_by_financial_year_and_level(*, force: Force) -> QuerySet[UseOfForceReport, dict[str, Any]]:
    """Current reports of one force by financial year and highest CED level, in one GROUP BY query.

    Rows of {"year_start": 2019 (for 2019/20, 1 April 2019 – 31 March 2020), "highest_ced_level":
    a CedLevel, or None for a report without Taser, "reports": count}.
    """
    # January to March belong to the financial year that began the April before.
    year_start = ExtractYear("occurred_on") - Case(
        When(occurred_on__month__lt=FIRST_MONTH, then=Value(1)), default=Value(0)
    )
    return (
        UseOfForceReport.objects.current()
        .filter(force=force)
        .annotate(year_start=year_start)
        .values("year_start", "highest_ced_level")
        .annotate(reports=Count("id"))
        .order_by("year_start", "highest_ced_level")
    )


def summaries_frozen_before() -> datetime.date | None:
    """The first month whose summaries rebuilds may change (None: all): those before it were kept by
    record retention when it removed their reports."""
    return RetentionRun.objects.aggregate(month=Max("removed_before"))["month"]


def may_view_imports(user: Person) -> bool:
    return may(user, IMPORT_ROLES)


def may_upload(user: Person) -> bool:
    # A force data officer uploads for their own force only, so one without a force cannot.
    return may(user, UPLOAD_ROLES, with_force=True)


def batches_visible_to(user: Person) -> QuerySet[ImportBatch]:
    """The import batches a user may follow, newest first: their own force's, or all for a superuser."""
    batches = ImportBatch.objects.select_related("force", "uploaded_by").order_by("-created_at", "-pk")
    if user.is_superuser:
        return batches
    force = force_of(user)
    return batches.filter(force=force) if force and role_of(user) in IMPORT_ROLES else batches.none()


# --- summaries and rates ------------------------------------------------------------------------

MEASURES = [*SUMMARY_MEASURES, "incidents", *INCIDENT_MEASURES]
CONFIDENCE_Z = 1.959964  # 95% two-sided
GROUPS = [(value, label) for value, label in Ethnicity.choices if value != Ethnicity.NOT_REPORTED]


class PeriodSummaries:
    """A force's (or one area's) summary cells for start ≤ month < end, read in one query and added up as asked.

    The sums are made here, not in SQL: a period's cells are a few hundred rows, and adding them up
    costs less than compiling a SUM for each of the hundred-odd measures, which a page would do for
    every total it shows. Without start and end, every month of the force.
    """

    def __init__(
        self,
        *,
        force: Force,
        start: datetime.date | None = None,
        end: datetime.date | None = None,
        area: Area | None = None,
    ) -> None:
        cells = MonthlySummary.objects.filter(force=force)
        if area is not None:
            cells = cells.filter(area=area)
        if start is not None:
            cells = cells.filter(month__gte=start, month__lt=end)
        self.force, self.start, self.end = force, start, end
        self.cells = list(cells.values_list("area", "month", *MEASURES).order_by())

    def added_up(self, key: Callable[[int | None, datetime.date], Any]) -> dict[Any, Row]:
        """{key(area, month): {measure: sum}} over the cells."""
        sums: dict[Any, list[int]] = {}
        for area, month, *counts in self.cells:
            group = key(area, month)
            total = sums.get(group)
            if total is None:
                sums[group] = counts
            else:
                sums[group] = [a + b for a, b in zip(total, counts, strict=True)]
        return {group: dict(zip(MEASURES, counts, strict=True)) for group, counts in sums.items()}

    @cached_property
    def totals(self) -> Row:
        """Every measure summed over the period."""
        return self.added_up(lambda area, month: None).get(None) or dict.fromkeys(MEASURES, 0)

    def by_period(self, period: str = "month") -> list[Row]:
        """Rows of {"period_start", "period_end" (exclusive), measures…} in order; with a start and an end,
        every month between them has its row, zeros included."""
        if period not in PERIODS:
            raise ValueError(f"period: {period!r} is not one of {', '.join(PERIODS)}")
        by_month = self.added_up(lambda area, month: month)
        if self.start is not None and self.end is not None:  # a month without reports is a month of zeros
            month = self.start
            while month < self.end:
                by_month.setdefault(month, dict.fromkeys(MEASURES, 0))
                month = months_back(month, -1)
        periods: dict[datetime.date, Row] = {}
        for month in sorted(by_month):
            totals = periods.setdefault(period_start(month, period), dict.fromkeys(MEASURES, 0))
            for name in MEASURES:
                totals[name] += by_month[month][name]
        return [
            {"period_start": starts, "period_end": months_back(starts, -PERIOD_MONTHS[period]), **totals}
            for starts, totals in periods.items()
        ]

    @cached_property
    def by_area(self) -> list[Row]:
        """Rows of {"area", "area__code", "area__name", measures…} by area name; area None (no area
        recorded) last."""
        by_area = self.added_up(lambda area, month: area)
        areas = Area.objects.filter(pk__in=[area for area in by_area if area])
        names = {pk: (code, name) for pk, code, name in areas.values_list("pk", "code", "name")}
        rows = []
        for area, totals in by_area.items():
            code, name = names.get(area, (None, None))
            rows.append({"area": area, "area__code": code, "area__name": name, **totals})
        return sorted(rows, key=lambda row: (row["area"] is None, row["area__name"] or ""))


def summary_totals(*, force: Force, start: datetime.date, end: datetime.date, area: Area | None = None) -> Row:
    """Every summary measure summed over the months start ≤ month < end (the force, or one area)."""
    return PeriodSummaries(force=force, start=start, end=end, area=area).totals


def summaries_by_area(*, force: Force, start: datetime.date, end: datetime.date) -> list[Row]:
    """Rows of {"area", "area__code", "area__name", measures…} for start ≤ month < end; area None = no area recorded."""
    return PeriodSummaries(force=force, start=start, end=end).by_area


def summaries_version(*, force: Force) -> int:
    """The data version the force's summaries were built from (0: not built)."""
    return MonthlySummary.objects.filter(force=force).aggregate(version=Coalesce(Min("data_version"), 0))["version"]


def populations(*, force: Force, area: Area | None = None) -> dict[str, int] | None:
    """Census residents by the five published groups and in total, summed over the force's (or one area's) areas.

    None where no area of it has a baseline. The latest census per area counts. A force's own baseline,
    summed from all its local authorities, comes before the sum of its areas.
    """
    if area is None and (whole := ForcePopulationBaseline.objects.filter(force=force).first()):
        return {name: getattr(whole, name) for name in ("total", *dict(GROUPS))}
    baselines = PopulationBaseline.objects.filter(area__force=force).order_by("area", "-census_year")
    if area is not None:
        baselines = baselines.filter(area=area)
    latest: dict[int, PopulationBaseline] = {}
    for baseline in baselines:
        latest.setdefault(baseline.area_id, baseline)
    if not latest:
        return None
    return {name: sum(getattr(b, name) for b in latest.values()) for name in ("total", *dict(GROUPS))}


def rate_per(count: float, population: float | None, per: int) -> float | None:
    """Count per `per` residents, or None (said, not printed as 0 or infinity) without a population."""
    return count / population * per if population else None


def rate_ratio(
    count: float, population: float | None, reference_count: float, reference_population: float | None
) -> tuple[float, float, float] | None:
    """(ratio, low, high) of two rates with the 95% interval of the log method (Katz); None if undefined.

    Undefined when either count is zero (the log of 0) or a population is missing.
    """
    if not (count and reference_count and population and reference_population):
        return None
    ratio = (count / population) / (reference_count / reference_population)
    error = math.sqrt(1 / count - 1 / population + 1 / reference_count - 1 / reference_population)
    return ratio, ratio * math.exp(-CONFIDENCE_Z * error), ratio * math.exp(CONFIDENCE_Z * error)


def disproportionality(
    *,
    force: Force,
    start: datetime.date,
    end: datetime.date,
    area: Area | None = None,
    measure: str = "ethnicity_{group}",
    totals: Row | None = None,
) -> list[Row]:
    """Per published ethnic group: Taser reports, residents, rate per 1,000 and rate ratio against White.

    Each row says why a figure is missing ("note") instead of printing 0 or infinity.
    Subjects' ethnicity is officer-perceived, residents' self-identified (Census 2021).
    """
    totals = totals or summary_totals(force=force, start=start, end=end, area=area)
    residents = populations(force=force, area=area) or {}
    white_count, white_population = totals[measure.format(group="white")], residents.get("white")
    rows = []
    for group, label in GROUPS:
        count, population = totals[measure.format(group=group)], residents.get(group)
        ratio = rate_ratio(count, population, white_count, white_population)
        if not population:
            note = "no population baseline for this area"
        elif group != "white" and ratio is None:
            note = "no Taser reports in this group" if not count else "no Taser reports of White subjects to compare"
        else:
            note = ""
        rows.append(
            {
                "group": group, "label": label, "reports": count, "population": population,
                "rate_per_1000": rate_per(count, population, 1000),
                "ratio": None if group == "white" or ratio is None else ratio[0],
                "ratio_low": None if group == "white" or ratio is None else ratio[1],
                "ratio_high": None if group == "white" or ratio is None else ratio[2],
                "note": note,
            }
        )  # fmt: skip
    return rows


def area_rates(
    *,
    force: Force,
    start: datetime.date,
    end: datetime.date,
    measure: str = "taser_reports",
    by_area: list[Row] | None = None,
) -> list[Row]:
    """Per area: Taser reports (or another measure) and the rate per 1,000 residents (None, with a note,
    without a population). The reports without an area come last, as "No area recorded"."""
    residents = residents_by_area(force_ids=[force.pk])
    rows = []
    for row in summaries_by_area(force=force, start=start, end=end) if by_area is None else by_area:
        area = row["area"]
        population = residents[area]["total"] if area in residents else None
        rows.append(
            {
                "area": area, "code": row["area__code"], "name": row["area__name"] or "No area recorded",
                "reports": row[measure], "discharge": row["discharge"], "population": population,
                "rate_per_1000": rate_per(row[measure], population, 1_000),
                "note": "" if population else "no population baseline for this area",
            }
        )  # fmt: skip
    return rows


def summaries_by_period(
    *,
    force: Force,
    period: str = "month",
    area: Area | None = None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> list[Row]:
    """Rows of {"period_start", "period_end" (exclusive), measures…} in order: the force's (or one area's)
    months summed by period; with start and end, only the months start ≤ month < end, each in the row."""
    return PeriodSummaries(force=force, start=start, end=end, area=area).by_period(period)


def summary_lags(
    *, force_ids: Iterable[str] | None = None, state: dict[str, tuple[int, Any]] | None = None
) -> dict[str, tuple[int, int]]:
    """{force id: (summarised version, data version)} of the forces whose summaries are older than their data.

    Between an import and its rebuild, or after a rebuild lost with its worker: the figures shown
    then are of the older version, and say so (recover_imports queues the rebuild meanwhile).
    `state`: the forces' summary_state, when the caller has it already.
    """
    batches = ImportBatch.objects.filter(status=ImportBatch.Status.SUCCEEDED)
    if force_ids is not None:
        batches = batches.filter(force__in=force_ids)
    current = dict(batches.values("force").annotate(version=Max("data_version")).values_list("force", "version"))
    built = summary_state(force_ids=list(current)) if state is None else state
    lags = {force: (built.get(force, (0, None))[0] or 0, version) for force, version in current.items()}
    return {force: lag for force, lag in sorted(lags.items()) if lag[0] < lag[1]}


def summary_lag(*, force: Force) -> tuple[int, int] | None:
    """(summarised version, data version) when the force's summaries are older than its data, else None."""
    return summary_lags(force_ids=[force.pk]).get(force.pk)


def summaries_as_of(*, force: Force) -> tuple[int, Any]:
    """(data version, when built) of the force's summaries; (0, None) before the first build."""
    return summary_state(force_ids=[force.pk]).get(force.pk, (0, None))


# --- the summaries resource of the API ----------------------------------------------------------

LEVEL_MEASURES = [f"level_{level.name.lower()}" for level in sorted(CedLevel, reverse=True)]
ETHNICITY_MEASURES = [f"ethnicity_{value}" for value, _ in Ethnicity.choices]
API_MEASURES = ["reports", "incidents", "taser_reports", *LEVEL_MEASURES, "discharge", "non_discharge"]
API_MEASURES += ETHNICITY_MEASURES
_DISCHARGE_MEASURES = [f"level_{level.name.lower()}" for level in DISCHARGE_LEVELS]
# Groups of counts in one row that add up, (total, parts): disclosure control ties them.
ADDITIVE_GROUPS = (
    ("taser_reports", LEVEL_MEASURES),
    ("discharge", _DISCHARGE_MEASURES),
    (
        "non_discharge",
        [name for name in LEVEL_MEASURES if name not in _DISCHARGE_MEASURES and name != "level_not_stated"],
    ),
    ("taser_reports", ["discharge", "non_discharge", "level_not_stated"]),
    ("taser_reports", ETHNICITY_MEASURES),
)


def residents_by_area(*, force_ids: Iterable[str] | None = None) -> dict[int, Row]:
    """{area id: {"force", "total", "white", …}} from the latest census baseline of each area."""
    groups = ("total", *dict(GROUPS))
    baselines = PopulationBaseline.objects.order_by("area", "-census_year")
    if force_ids is not None:
        baselines = baselines.filter(area__force__in=force_ids)
    latest: dict[int, Row] = {}
    for baseline in baselines.values("area", "area__force", *groups):
        latest.setdefault(baseline.pop("area"), {"force": baseline.pop("area__force"), **baseline})
    return latest


def residents_by_force(residents: dict[int, Row]) -> dict[str, dict[str, int]]:
    """{force id: residents by group} summed over the areas of residents_by_area, or the force's own
    baseline (the latest census) where it has one."""
    forces: dict[str, dict[str, int]] = {}
    for area in residents.values():
        totals = forces.setdefault(area["force"], {name: 0 for name in area if name != "force"})
        for name in totals:
            totals[name] += area[name]
    whole = ForcePopulationBaseline.objects.order_by("force", "-census_year").values("force", "total", *dict(GROUPS))
    seen: set[str] = set()
    for baseline in whole:
        if (force := baseline.pop("force")) not in seen:
            seen.add(force)
            forces[force] = baseline
    return forces


def summary_state(*, force_ids: Iterable[str] | None = None) -> dict[str, tuple[int, Any]]:
    """{force id: (data version, last built)} of the forces' summaries: what a cached answer depends on."""
    cells = MonthlySummary.objects.all()
    if force_ids is not None:
        cells = cells.filter(force__in=force_ids)
    rows = cells.values("force").annotate(version=Min("data_version"), built=Max("built_at")).order_by("force")
    return {row["force"]: (row["version"], row["built"]) for row in rows}


def summary_rows(
    *,
    force_ids: Iterable[str] | None = None,
    area_code: str | None = None,
    by_area: bool = False,
    period: str = "month",
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> list[Row]:
    """Summary rows for the API: the counts of API_MEASURES per force (and area) and period, in order.

    Periods are whole: from the one holding `start` to the one holding `end`. With `by_area`
    each area has its rows (area None: reports without an area); otherwise areas are summed.
    Rates per 1,000 residents and rate ratios against White, with 95% intervals, come with each
    ethnic group (None without a population baseline).
    """
    cells = MonthlySummary.objects.all()
    if force_ids is not None:
        cells = cells.filter(force__in=force_ids)
    if area_code:
        cells = cells.filter(area__code=area_code)
    if start:
        cells = cells.filter(month__gte=period_start(start, period))
    if end:
        cells = cells.filter(month__lte=period_end(period_start(end, period), period))
    keys = ["force", "area", "area__code", "area__name"] if by_area or area_code else ["force"]
    grouped = cells.values(*keys, "month").annotate(**{name: Sum(name) for name in API_MEASURES})
    periods: dict[tuple[Any, ...], Row] = {}
    for cell in grouped.order_by(*keys, "month"):
        key = (*(cell[k] for k in keys), period_start(cell["month"], period))
        totals = periods.get(key)
        if totals is None:
            periods[key] = {name: cell[name] for name in API_MEASURES}
        else:
            for name in API_MEASURES:
                totals[name] += cell[name]
    residents = residents_by_area(force_ids=force_ids)
    by_force = residents_by_force(residents)
    rows = []
    for key, counts in periods.items():
        force, *area, starts = key
        area_id = area[0] if area else None
        if area:
            population = residents.get(area_id) if area_id is not None else None
        else:
            population = by_force.get(force)
        rows.append(
            {
                "force": force,
                "area": area[1] if area else None,
                "area_name": (area[2] or "No area recorded") if area else None,
                "period": period, "period_start": starts, "period_end": period_end(starts, period),
                **counts,
                "population": population["total"] if population else None,
                **group_rates(counts, population),
            }
        )  # fmt: skip
    return rows


RATE_FIELDS = [f"ethnicity_{group}_rate_per_1000" for group, _ in GROUPS]
RATIO_FIELDS = [
    f"ethnicity_{group}_{part}"
    for group, _ in GROUPS
    if group != "white"
    for part in ("ratio", "ratio_low", "ratio_high")
]


def group_rates(counts: Row, population: dict[str, int] | None) -> dict[str, float | None]:
    """Per ethnic group the rate per 1,000 residents and, but for White, the rate ratio against White."""
    population = population or {}
    white = (counts["ethnicity_white"], population.get("white"))
    rates: dict[str, float | None] = {}
    for group, _ in GROUPS:
        count, residents = counts[f"ethnicity_{group}"], population.get(group)
        rates[f"ethnicity_{group}_rate_per_1000"] = rate_per(count, residents, 1000)
        if group != "white":
            ratio = rate_ratio(count, residents, *white) or (None, None, None)
            for part, value in zip(("ratio", "ratio_low", "ratio_high"), ratio, strict=True):
                rates[f"ethnicity_{group}_{part}"] = value
    return rates


def summary_months(*, force: Force) -> tuple[datetime.date | None, datetime.date | None]:
    """(first, last) month of the force's summaries, or (None, None) before any."""
    months = MonthlySummary.objects.filter(force=force).aggregate(first=Min("month"), last=Max("month"))
    return months["first"], months["last"]


def not_stated_shares(totals: Row) -> list[Row]:
    """Data-quality notes of a period's totals: the share of Taser reports not stating each detail."""
    taser = totals["taser_reports"]
    return [
        {"label": label, "count": totals[name], "share": share(totals[name], taser)}
        for name, label in (
            ("level_not_stated", "Highest Taser level not stated"),
            ("ethnicity_not_reported", "Ethnicity not reported"),
            ("age_not_reported", "Age not reported"),
            ("gender_not_reported", "Gender not reported"),
            ("health_not_reported", "Health condition not reported"),
        )
    ]


def totals_by_force(*, start: datetime.date, end: datetime.date, measures: Iterable[str]) -> dict[str, Row]:
    """{force id: {measure: sum}} of every force's summaries for the months start ≤ month < end."""
    cells = MonthlySummary.objects.filter(month__gte=start, month__lt=end).values("force")
    return {row.pop("force"): row for row in cells.annotate(**{name: Sum(name) for name in measures}).order_by()}


def summary_financial_years() -> list[datetime.date]:
    """The starts (1 April) of the financial years any force has summaries for."""
    months = MonthlySummary.objects.values_list("month", flat=True).distinct()
    return sorted({period_start(month, "financial_year") for month in months})


def latest_summary_month() -> datetime.date | None:
    """The last month any force has summaries for; None before any."""
    return MonthlySummary.objects.aggregate(last=Max("month"))["last"]


def forces_with_summaries() -> set[str]:
    """Ids of the forces that have summaries."""
    return set(MonthlySummary.objects.values_list("force", flat=True).distinct())
