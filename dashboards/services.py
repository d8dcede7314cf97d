"""Quarterly PCC reports: a kept snapshot of a quarter's figures, from the summaries, capability and scrutiny."""

import datetime
from collections.abc import Iterable, Iterator
from typing import Any, cast

from django.db import models
from django.utils import timezone

from forces.models import Area, CapabilityRecord, Force
from incidents import queries
from incidents.models import CedLevel, MonthlySummary, QuarterlyReport, UseOfForceReport
from oversight.numbers import fraction
from oversight.police_calendar import months_back, quarter_label, quarter_start
from scrutiny.models import Action, Finding

COUNTING_RULES = [
    "The unit of count is the report: one officer's use of force on one person. Three officers at one "
    "event file three reports; reports sharing an incident reference form one incident.",
    "A report that used several CED levels counts once, at its highest: angle drive stun > fired > drive stun "
    "> arced > red-dotted > aimed > drawn. Discharge is angle drive stun, fired or drive stun.",
    "Not stated is kept as recorded, never guessed.",
    "Ethnicity, age and health condition are the officer's perception; population baselines are Census 2021 "
    "residents by self-identified ethnic group, so rates and ratios compare two different kinds of category.",
    "Rate ratios are against the White group, with 95% confidence intervals by the log method; none is given "
    "where a count is zero or a population is missing.",
    "Records withdrawn by a later edition of the source are not counted.",
]
HEADLINE = ["reports", "incidents", "taser_reports", "discharge", "level_fired"]


def build_quarterly_report(*, force_id: str, quarter: datetime.date, area_id: int | None = None) -> QuarterlyReport:
    """Build and keep a snapshot of one quarter's report for a force (or one of its areas)."""
    force = Force.objects.get(pk=force_id)
    area = Area.objects.get(pk=area_id, force=force) if area_id else None
    quarter = quarter_start(quarter)
    end, previous, last_year = months_back(quarter, -3), months_back(quarter, 3), months_back(quarter, 12)

    def totals(start: datetime.date) -> dict[str, Any]:
        return queries.summary_totals(force=force, start=start, end=months_back(start, -3), area=area)

    now, before, year_ago = totals(quarter), totals(previous), totals(last_year)
    labels = {name: str(summary_field(name).verbose_name) for name in queries.MEASURES}

    def change(value: int, base: int) -> dict[str, Any]:
        return {"change": value - base, "change_percent": round((value - base) / base * 100, 1) if base else None}

    def figure(name: str) -> dict[str, Any]:
        return {
            "measure": name, "label": labels[name].capitalize(), "value": now[name],
            "previous_quarter": before[name], "same_quarter_last_year": year_ago[name],
            "on_previous_quarter": change(now[name], before[name]),
            "on_same_quarter_last_year": change(now[name], year_ago[name]),
        }  # fmt: skip

    def listed(names: Iterable[str]) -> list[dict[str, Any]]:
        return [{"measure": n, "label": labels[n], "value": now[n]} for n in names]

    capability = _capability(force, end)
    findings = Finding.objects.filter(
        sampled_case__sample__panel__force=force, recorded_at__date__gte=quarter, recorded_at__date__lt=end
    )
    actions = Action.objects.filter(finding__sampled_case__sample__panel__force=force)
    open_actions = actions.exclude(status=Action.Status.CLOSED).filter(created_at__date__lt=end)
    reports = UseOfForceReport.objects.current().filter(force=force, occurred_on__gte=quarter, occurred_on__lt=end)
    if area:
        reports = reports.filter(area=area)
    first_version = reports.aggregate(v=models.Min("import_batch__data_version"))["v"]
    late = reports.filter(import_batch__data_version__gt=first_version).count() if first_version else 0
    taser = now["taser_reports"]
    figures = {
        "period": {"start": quarter.isoformat(), "end": end.isoformat(), "label": quarter_label(quarter)},
        "force": force.name,
        "area": area.name if area else None,
        "unit": queries.UNIT_OF_COUNT,
        "headline": [figure(name) for name in HEADLINE],
        "fired_share": {
            "value": fraction(now["level_fired"], taser),
            "previous_quarter": fraction(before["level_fired"], before["taser_reports"]),
            "same_quarter_last_year": fraction(year_ago["level_fired"], year_ago["taser_reports"]),
        },
        "levels": listed([f"level_{level.name.lower()}" for level in sorted(CedLevel, reverse=True)]),
        "areas": [] if area else queries.area_rates(force=force, start=quarter, end=end),
        "disproportionality": queries.disproportionality(force=force, start=quarter, end=end, area=area),
        "outcomes": listed([n for n in queries.MEASURES if n.startswith("outcome_")]),
        "subject_injuries": listed([n for n in queries.MEASURES if n.startswith("subject_injury_")]),
        "officer_injuries": listed([n for n in queries.MEASURES if n.startswith("officer_injury_")]),
        "capability": capability
        and {**capability, "uses_per_trained_officer": fraction(taser, capability["officers_trained"])},
        "scrutiny": {
            "findings": list(findings.values("panel_grade").annotate(count=models.Count("pk")).order_by("panel_grade")),
            "open_actions": open_actions.count(),
            "overdue_actions": open_actions.filter(due_on__lt=end).count(),
        },
        "data_quality": {
            "late_reports": late,
            "not_stated": [
                {"label": label, "share": fraction(now[name], taser)}
                for name, label in (
                    ("level_not_stated", "Highest CED level not stated"),
                    ("ethnicity_not_reported", "Ethnicity not reported"),
                    ("age_not_reported", "Age not reported"),
                    ("health_not_reported", "Health condition not reported"),
                )
            ],
        },
        "counting_rules": COUNTING_RULES,
    }
    return QuarterlyReport.objects.create(
        force=force, area=area, quarter=quarter, data_version=queries.summaries_version(force=force),
        built_at=timezone.now(), figures=figures,
    )  # fmt: skip


def summary_field(name: str) -> models.Field:
    """A measure's column of the monthly summaries (every measure is a concrete field)."""
    return cast(models.Field, MonthlySummary._meta.get_field(name))


def _capability(force: Force, end: datetime.date) -> dict[str, Any] | None:
    """Devices and trained officers as recorded on the latest date before `end`, all device models together."""
    latest = CapabilityRecord.objects.filter(force=force, as_of__lt=end).aggregate(day=models.Max("as_of"))["day"]
    if latest is None:
        return None
    records = CapabilityRecord.objects.filter(force=force, as_of=latest)
    sums = records.aggregate(devices=models.Sum("devices_in_service"), officers_trained=models.Sum("officers_trained"))
    return {"as_of": latest.isoformat(), **sums}


def quarterly_report_rows(report: QuarterlyReport) -> Iterator[tuple[str, str, str, Any]]:
    """Every figure of a report as (section, measure, column, value) rows, for its CSV."""
    figures = report.figures
    yield ("report", "period", "", figures["period"]["label"])
    yield ("report", "data_version", "", report.data_version)
    yield ("report", "unit", "", figures["unit"])
    for item in figures["headline"]:
        for column in ("value", "previous_quarter", "same_quarter_last_year"):
            yield ("headline", item["label"], column, item[column])
        for against in ("on_previous_quarter", "on_same_quarter_last_year"):
            for column, value in item[against].items():
                yield ("headline", item["label"], f"{column}_{against}", value)
    for column, value in figures["fired_share"].items():
        yield ("headline", "Fired share of Taser reports", column, value)
    for section in ("levels", "outcomes", "subject_injuries", "officer_injuries"):
        for item in figures[section]:
            yield (section, item["label"], "value", item["value"])
    for row in figures["areas"]:
        # A report built before every rate was per 1,000 keeps its areas' rates per 10,000.
        rate = "rate_per_10000" if "rate_per_10000" in row else "rate_per_1000"
        for column in ("reports", "discharge", "population", rate, "note"):
            yield ("areas", row["name"], column, row[column])
    for row in figures["disproportionality"]:
        for column in ("reports", "population", "rate_per_1000", "ratio", "ratio_low", "ratio_high", "note"):
            yield ("disproportionality", row["label"], column, row[column])
    for column, value in (figures["capability"] or {}).items():
        yield ("capability", column, "", value)
    for item in figures["scrutiny"]["findings"]:
        yield ("scrutiny", "findings graded " + item["panel_grade"], "", item["count"])
    yield ("scrutiny", "open actions", "", figures["scrutiny"]["open_actions"])
    yield ("scrutiny", "overdue actions", "", figures["scrutiny"]["overdue_actions"])
    yield ("data_quality", "late reports", "", figures["data_quality"]["late_reports"])
    for item in figures["data_quality"]["not_stated"]:
        yield ("data_quality", item["label"], "share", item["share"])
