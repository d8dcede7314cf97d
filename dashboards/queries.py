"""Reads that compose across the apps: the reconciliation with the Home Office's figures, the public pages' rows."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from forces import queries as forces_queries
from forces.models import Force, PublishedFigure
from forces.queries import current_financial_year_figures
from incidents import queries as incident_queries
from incidents.models import (
    DISCHARGE_LEVELS,
    LOCATION_GROUPS,
    NON_DISCHARGE_LEVELS,
    AgeBand,
    CedLevel,
    Gender,
    HealthCondition,
    UseOfForceReport,
)
from oversight.police_calendar import FIRST_MONTH, financial_year_dates, financial_year_label

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


# --- the dashboard's categories -------------------------------------------------------------


def report_vocabularies() -> dict[str, Any]:
    """The records' categories the dashboard charts, for dashboards.charts.category_sets: the choices of
    age band, gender and health condition, the (column, label) pairs of each ticked group, the location groups."""
    return {
        "age_band": AgeBand.choices,
        "gender": Gender.choices,
        "health_condition": HealthCondition.choices,
        **{prefix: UseOfForceReport.options(prefix) for prefix in ("reason_", "impact_", "outcome_")},
        "location_groups": list(LOCATION_GROUPS),
    }


# --- public pages ---------------------------------------------------------------------------


def hide(row: dict, names: Iterable[str]) -> dict:
    """Blank the figures of a row the public may not see, and say which they are."""
    for name in names:
        row[name] = None
    row["suppressed"] = sorted(set(row.get("suppressed", [])) | set(names))
    return row


def published_with_rates(force: Force) -> dict:
    """The force's Home Office figures by financial year, with Taser use per 1,000 residents where a population
    is held. Published already, so nothing is suppressed."""
    residents = incident_queries.residents_by_force(incident_queries.residents_by_area(force_ids=[force.pk]))
    population = residents.get(force.pk, {}).get("total")
    rows = forces_queries.published_by_year(force=force)
    for row in rows:
        taser = row.get(PublishedFigure.Measure.CED_TOTAL)
        row["taser_per_1000"] = round(taser * 1000 / population, 2) if population and taser is not None else None
    source = forces_queries.population_source(force=force) if population else ""
    return {"rows": rows, "population": population, "population_source": source}


def public_areas(force: Force, start: datetime.date, end: datetime.date, family: Any) -> list[dict]:
    """Area rows of a financial year with the counts of the force's suppressed family hidden, and their rates."""
    rows = incident_queries.area_rates(force=force, start=start, end=end)
    for row in rows:
        if family.is_hidden(row["area"], "financial_year", start, "taser_reports"):
            hide(row, ["reports", "rate_per_1000"])
        if family.is_hidden(row["area"], "financial_year", start, "discharge"):
            hide(row, ["discharge"])
    return rows


def public_disproportionality(force: Force, start: datetime.date, end: datetime.date, hidden: set[str]) -> list[dict]:
    """Ethnic-group rows with the hidden counts of the year hidden, and the rates and ratios built on them."""
    rows = incident_queries.disproportionality(force=force, start=start, end=end)
    ratios = ["ratio", "ratio_low", "ratio_high"]
    for row in rows:
        if f"ethnicity_{row['group']}" in hidden:
            hide(row, ["reports", "rate_per_1000", *ratios])
        elif "ethnicity_white" in hidden:
            hide(row, ratios)
    return rows
