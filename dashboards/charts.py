"""Pure helpers of the force dashboard's charts: no ORM, no request."""

from functools import partial

from incidents import charts as incident_charts
from oversight.numbers import share

UNIT_LABELS = {
    "reports": "reports (one officer's use of force on one person)",
    "incidents": "incidents (the reports that share an incident reference count once)",
}


def headline(totals, unit):
    """The period's headline figures in the unit of count, the fired share among them."""
    name = partial(incident_charts.measure, unit=unit)
    taser = totals[name("taser_reports")]
    return {
        "all": totals[name("reports")], "taser": taser, "discharge": totals[name("discharge")],
        "fired_share": share(totals[name("level_fired")], taser),
    }  # fmt: skip


def category_sets(vocabularies):
    """(chart key, title, [(measure, label, report-list filter)], multi-select) of each category set charted.

    `vocabularies` are the records' choices and ticked options (dashboards.queries.report_vocabularies):
    the charts name categories without reading a model.
    """
    return [
        ("age", "Taser use by the subject's age band",
         [(f"age_{v}", label, {"age_band": v}) for v, label in vocabularies["age_band"]], False),
        ("gender", "Taser use by the subject's gender",
         [(f"gender_{v}", label, {"gender": v}) for v, label in vocabularies["gender"]], False),
        ("health", "Taser use by the subject's health condition",
         [(f"health_{v}", label, {"health_condition": v}) for v, label in vocabularies["health_condition"]], False),
        ("reasons", "Reasons the officer gave for using force, in Taser reports",
         ticked_options(vocabularies["reason_"], "reason_", "reason"), True),
        ("impact-factors", "Impact factors the officer recorded, in Taser reports",
         ticked_options(vocabularies["impact_"], "impact_", "impact_factor"), True),
        ("outcomes", "Outcomes of Taser reports",
         ticked_options(vocabularies["outcome_"], "outcome_", "outcome"), True),
        ("locations", "Where Taser was used, by location group",
         [(f"location_{g.lower().replace(' ', '_')}", g, {"location_group": g.lower().replace(" ", "_")})
          for g in vocabularies["location_groups"]], True),
    ]  # fmt: skip


def ticked_options(options, prefix, parameter):
    """(measure, label, report-list filter) of each (column, label) of one multi-select group."""
    return [(name, label.capitalize(), {parameter: name.removeprefix(prefix)}) for name, label in options]
