"""Pure helpers of the force dashboard's charts: no ORM, no request."""

from functools import partial

from incidents import charts as incident_charts
from incidents.models import LOCATION_GROUPS, AgeBand, Gender, HealthCondition, UseOfForceReport
from oversight.charts import share

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


def category_sets():
    """(chart key, title, [(measure, label, report-list filter)], multi-select) of each category set charted."""
    return [
        ("age", "Taser use by the subject's age band",
         [(f"age_{v}", label, {"age_band": v}) for v, label in AgeBand.choices], False),
        ("gender", "Taser use by the subject's gender",
         [(f"gender_{v}", label, {"gender": v}) for v, label in Gender.choices], False),
        ("health", "Taser use by the subject's health condition",
         [(f"health_{v}", label, {"health_condition": v}) for v, label in HealthCondition.choices], False),
        ("reasons", "Reasons the officer gave for using force, in Taser reports",
         ticked_options("reason_", "reason"), True),
        ("impact-factors", "Impact factors the officer recorded, in Taser reports",
         ticked_options("impact_", "impact_factor"), True),
        ("outcomes", "Outcomes of Taser reports", ticked_options("outcome_", "outcome"), True),
        ("locations", "Where Taser was used, by location group",
         [(f"location_{g.lower().replace(' ', '_')}", g, {"location_group": g.lower().replace(" ", "_")})
          for g in LOCATION_GROUPS], True),
    ]  # fmt: skip


def ticked_options(prefix, parameter):
    return [
        (name, label.capitalize(), {parameter: name.removeprefix(prefix)})
        for name, label in UseOfForceReport.options(prefix)
    ]
