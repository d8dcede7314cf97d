import datetime
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from forces.models import (
    CapabilityRecord,
    Force,
    ForcePopulationBaseline,
    PopulationBaseline,
    PublishedFigure,
    PublishedFigureQuerySet,
    describe_period,
)
from oversight.police_calendar import months_back


def forces_for_home() -> QuerySet[Force]:
    return Force.objects.order_by("name")


# --- Home Office published figures ---------------------------------------------------------


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


def population_source(*, force: Force) -> str:
    """Which population the force's rates divide by, in words: its own census baseline, or the sum of its areas'."""
    if whole := ForcePopulationBaseline.objects.filter(force=force).first():
        return whole.described
    sources = sorted(
        set(PopulationBaseline.objects.filter(area__force=force).values_list("census_year", "source").distinct())
    )
    if not sources:
        return ""
    named = "; ".join(f"Census {year}{f' ({source})' if source else ''}" for year, source in sources)
    return f"{named}: usual residents, summed over the force's areas"
