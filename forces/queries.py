import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from forces.models import CapabilityRecord, Force, PublishedFigure, PublishedFigureQuerySet, describe_period

# Re-exported for the dashboard views that still ask here; new code imports forces.roles.
from forces.roles import DASHBOARD_ROLES as DASHBOARD_ROLES
from forces.roles import RECORD_ROLES as RECORD_ROLES
from forces.roles import force_of as force_of
from forces.roles import role_of as role_of
from incidents.models import DISCHARGE_LEVELS, NON_DISCHARGE_LEVELS, CedLevel
from oversight.police_calendar import FIRST_MONTH, financial_year_dates, financial_year_label, months_back


def forces_for_home() -> QuerySet[Force]:
    return Force.objects.order_by("name")


# --- reconciliation with the Home Office published figures ----------------------------------

Measure = PublishedFigure.Measure

# Each published measure, its name on the page and the highest CED levels of the reports it
# counts, in the order of the Home Office tables. None stands for a report without Taser.
RECONCILED_MEASURES = (
    (Measure.USE_OF_FORCE_TOTAL, "All use of force, with or without Taser", {None, *CedLevel}),
    (Measure.CED_TOTAL, "Taser used: total", set(CedLevel)),
    (Measure.CED_NON_DISCHARGE, "Non-discharge: total", set(NON_DISCHARGE_LEVELS)),
    (Measure.CED_DRAWN, "Non-discharge: drawn", {CedLevel.DRAWN}),
    (Measure.CED_AIMED, "Non-discharge: aimed", {CedLevel.AIMED}),
    (Measure.CED_RED_DOTTED, "Non-discharge: red-dotted", {CedLevel.RED_DOTTED}),
    (Measure.CED_ARCED, "Non-discharge: arced", {CedLevel.ARCED}),
    (Measure.CED_DISCHARGE, "Discharge: total", set(DISCHARGE_LEVELS)),
    (Measure.CED_DRIVE_STUN, "Discharge: drive stun", {CedLevel.DRIVE_STUN}),
    (Measure.CED_FIRED, "Discharge: fired", {CedLevel.FIRED}),
    (Measure.CED_ANGLE_DRIVE_STUN, "Discharge: angle drive stun", {CedLevel.ANGLE_DRIVE_STUN}),
    (Measure.CED_NOT_STATED, "Taser used, level not stated", {CedLevel.NOT_STATED}),
)

# A difference is flagged when it is more than this many reports *and* more than this share of
# the published figure: a small force is a few late forms off, a large one a fraction.
NOTABLE_DIFFERENCE = 5
NOTABLE_PERCENT = 2


def current_published_figures(*, history: bool = False) -> PublishedFigureQuerySet:
    """Published figures, each with the edition it comes from and what it revised.

    Of the editions that publish a figure (one period, geography and measure), the newest
    publication's value is current, whatever order they were imported in; the older values
    stay as history (`history=True` lists them too). Each figure carries `revised_value` and
    `revised_edition`: the same figure in the next older edition, if any.
    """
    figures = PublishedFigure.objects.all() if history else PublishedFigure.objects.current()
    return figures.with_revised()


def current_financial_year_figures() -> PublishedFigureQuerySet:
    """Current published figures of financial years only: never a quarter or a calendar year."""
    return PublishedFigure.objects.current().financial_years()


@dataclass(frozen=True)
class ReconciliationRow:
    """One measure of one financial year: the product's count beside the published figure.

    `product` is None when the year has no product data, `published` when the Home Office
    published nothing (or "not available"); then there is no difference to show. `revised`
    is the figure's value in the edition before `edition`, and `revised_edition` that edition.
    """

    measure: Measure
    label: str
    product: int | None
    published: int | None
    edition: str | None
    revised: int | None = None
    revised_edition: str | None = None

    @property
    def compared(self) -> bool:
        return self.product is not None and self.published is not None

    @property
    def difference(self) -> int | None:
        if self.product is None or self.published is None:
            return None
        return self.product - self.published

    @property
    def percent(self) -> float | None:
        """The difference as a percentage of the published figure; None where that is 0."""
        difference = self.difference
        return 100 * difference / self.published if difference is not None and self.published else None

    @property
    def notable(self) -> bool:
        difference = self.difference
        if difference is None or abs(difference) <= NOTABLE_DIFFERENCE:
            return False
        # Any difference over the count threshold on a published 0 is infinitely many per cent.
        return self.percent is None or abs(self.percent) > NOTABLE_PERCENT

    @property
    def was_revised(self) -> bool:
        return self.revised_edition is not None and self.revised != self.published


@dataclass(frozen=True)
class ReconciliationYear:
    """One financial year (1 April – 31 March) of one force, measure by measure."""

    start: int
    has_product_data: bool
    unit: str | None
    editions: list[str]
    rows: list[ReconciliationRow]

    @property
    def label(self) -> str:
        return financial_year_label(self.start)

    @property
    def starts_on(self) -> datetime.date:
        return datetime.date(self.start, FIRST_MONTH, 1)

    @property
    def ends_on(self) -> datetime.date:
        return financial_year_dates(self.start)[1]

    @property
    def has_published_figures(self) -> bool:
        return bool(self.editions)

    @property
    def notable_rows(self) -> int:
        return sum(row.notable for row in self.rows)


def latest_published_figures(*, force: Force) -> dict[tuple[int, str], PublishedFigure]:
    """{(financial year start, measure): figure} of the force, each from the newest edition that publishes it.

    Financial years only: the quarter January to March 2017 and the calendar-year TASER
    statistics are not years the product's counts can be set against.
    """
    figures = current_financial_year_figures().with_revised().filter(force=force)
    figures = figures.order_by("-edition__published_on", "measure")
    return {(figure.period_start.year, figure.measure): figure for figure in figures}


def reconciliation(*, force: Force, product_counts: Iterable[dict[str, Any]]) -> list[ReconciliationYear]:
    """The force's financial years, newest first, each with product counts beside published figures.

    `product_counts` are rows of incidents.queries.reports_by_financial_year_and_level. A year
    is shown when it has either product data or published figures.
    """
    counts: dict[int, dict[int | None, int]] = {}
    for row in product_counts:
        counts.setdefault(row["year_start"], {})[row["highest_ced_level"]] = row["reports"]
    published = latest_published_figures(force=force)
    years = sorted(counts.keys() | {start for start, _ in published}, reverse=True)
    reconciled = []
    for start in years:
        by_level = counts.get(start)
        rows = []
        for measure, label, levels in RECONCILED_MEASURES:
            figure = published.get((start, measure))
            rows.append(
                ReconciliationRow(
                    measure=measure,
                    label=label,
                    product=sum(by_level.get(level, 0) for level in levels) if by_level else None,
                    published=figure.value if figure else None,
                    edition=figure.edition.name if figure else None,
                    # Annotated by with_revised().
                    revised=figure.revised_value if figure else None,  # type: ignore[attr-defined]
                    revised_edition=figure.revised_edition if figure else None,  # type: ignore[attr-defined]
                )
            )
        figures = [figure for (year, _), figure in published.items() if year == start]
        reconciled.append(
            ReconciliationYear(
                start=start,
                has_product_data=bool(by_level),
                unit=figures[0].get_unit_display() if figures else None,
                # Newest publication first: the usual case is one edition per year.
                editions=list(dict.fromkeys(figure.edition.name for figure in figures)),
                rows=rows,
            )
        )
    return reconciled


# --- capability -------------------------------------------------------------------------------


def capability_by_month(
    *, force: Force, months: Iterable[datetime.date]
) -> list[tuple[datetime.date, int | None, int | None]]:
    """[(month, devices in service, officers trained)] for each first-of-month in `months`.

    Each device model counts as last recorded on or before the month's end; None where the force
    had recorded no capability by then (the Home Office holds none, so it is entered by hand).
    """
    records = list(
        CapabilityRecord.objects.filter(force=force)
        .order_by("as_of")
        .values_list("as_of", "device_model", "devices_in_service", "officers_trained")
    )
    rows: list[tuple[datetime.date, int | None, int | None]] = []
    for month in months:
        next_month = months_back(month, -1)
        latest: dict[str, tuple[int, int]] = {}
        for as_of, model, devices, officers in records:
            if as_of < next_month:
                latest[model] = (devices, officers)
        if latest:
            rows.append((month, sum(d for d, _ in latest.values()), sum(o for _, o in latest.values())))
        else:
            rows.append((month, None, None))
    return rows


def published_figures_of_year(*, financial_year: str) -> dict[str | None, dict[str, int | None]]:
    """{force id, or None for England and Wales: {measure: value}} of one financial year ("2019/20").

    Each figure from the newest edition that publishes it.
    """
    figures: dict[str | None, dict[str, int | None]] = {}
    published = current_financial_year_figures().filter(financial_year=financial_year)
    for figure in published.filter(force__isnull=False).values("force", "measure", "value"):
        figures.setdefault(figure["force"], {})[figure["measure"]] = figure["value"]
    national = published.filter(force__isnull=True, geography__icontains="england and wales")
    for cell in national.values("measure", "value"):
        figures.setdefault(None, {})[cell["measure"]] = cell["value"]
    return figures


def published_years() -> list[str]:
    """The financial years ("2019/20") with published figures, newest first."""
    years = PublishedFigure.objects.financial_years().values_list("financial_year", flat=True).distinct()
    return sorted(set(years), reverse=True)


def editions_of_year(financial_year: str) -> list[str]:
    """The Home Office editions whose figures are current for one financial year, newest first."""
    figures = current_financial_year_figures().filter(financial_year=financial_year)
    names = figures.order_by("-edition__published_on", "edition__name").values_list("edition__name", flat=True)
    return list(dict.fromkeys(names))


def published_periods_besides_financial_years(*, force: Force | None = None) -> list[str]:
    """Labels of the published periods that are not financial years ("2016", "January to March 2017")."""
    figures = PublishedFigure.objects.filter(financial_year="").order_by("period_start", "period_end")
    if force is not None:
        figures = figures.filter(force=force)
    spans = figures.values_list("period_start", "period_end", "period_kind").distinct()
    return list(dict.fromkeys(describe_period(*span) for span in spans))


# The published figures the public pages show: all use of force, and Taser used, discharged, fired.
PUBLIC_MEASURES = [
    PublishedFigure.Measure.USE_OF_FORCE_TOTAL,
    PublishedFigure.Measure.CED_TOTAL,
    PublishedFigure.Measure.CED_DISCHARGE,
    PublishedFigure.Measure.CED_FIRED,
]


def published_by_year(*, force: Force | None = None) -> list[dict[str, Any]]:
    """[{"financial_year", measure: value, "edition", "unit"}] newest first: a force's published figures, or
    England and Wales' when force is None; each figure the newest publication's (financial years only)."""
    figures = current_financial_year_figures().filter(measure__in=PUBLIC_MEASURES).select_related("edition")
    if force is None:
        figures = figures.filter(force__isnull=True, geography__icontains="england and wales")
    else:
        figures = figures.filter(force=force)
    years: dict[str, dict[str, Any]] = {}
    for figure in figures:
        row = years.setdefault(figure.financial_year, {"financial_year": figure.financial_year})
        row.update({figure.measure: figure.value, "edition": figure.edition.name, "unit": figure.get_unit_display()})
    return [years[year] for year in sorted(years, reverse=True)]


def forces_with_published_figures() -> set[str]:
    """Ids of the forces the Home Office published figures for."""
    return set(PublishedFigure.objects.filter(force__isnull=False).values_list("force", flat=True).distinct())
