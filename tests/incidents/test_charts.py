"""Chart builders: rows in, figure out. No database: the builders never touch it."""

import datetime
import re
from pathlib import Path
from urllib.parse import parse_qs

import plotly.graph_objects as go
import pytest

from incidents import charts
from incidents.models import CedLevel
from incidents.queries import MEASURES
from oversight.charts import SUPPRESSED

LADDER_HIGHEST_FIRST = [
    "Angle drive stun", "Fired", "Drive stun", "Arced", "Red-dotted", "Aimed", "Drawn", "Not stated",
]  # fmt: skip


def month_row(month, **counts):
    start = datetime.date(2025, month, 1)
    return {
        "period_start": start, "period_end": datetime.date(2025 + month // 12, month % 12 + 1, 1),
        **dict.fromkeys(MEASURES, 0), **counts,
    }  # fmt: skip


def valid(figure):
    """Plotly's own validation of every trace and layout attribute; raises on a misspelt one."""
    return go.Figure(figure)


def test_use_over_time_stacks_levels_in_ladder_order_with_fixed_colours():
    rows = [month_row(5, level_fired=2, level_drawn=3, taser_reports=5, discharge=2), month_row(6)]
    chart = charts.use_over_time(rows)
    valid(chart.figure)
    bars = [trace for trace in chart.figure["data"] if trace["type"] == "bar"]
    # Stacked from the bottom up, the legend reversed: it reads highest first, as the ladder does.
    assert [trace["name"] for trace in reversed(bars)] == LADDER_HIGHEST_FIRST
    assert chart.figure["layout"]["legend"]["traceorder"] == "reversed"
    assert {trace["name"]: trace["marker"]["color"] for trace in bars}["Fired"] == "#d55e00"
    fired = next(trace for trace in bars if trace["name"] == "Fired")
    assert fired["x"] == ["2025-05-01", "2025-06-01"] and fired["y"] == [2, 0]
    line = chart.figure["data"][-1]
    assert line["name"] == "Discharge share (%)" and line["y"] == [40.0, None]  # no Taser use: no share, not 0


def test_use_over_time_tables_exactly_what_it_plots():
    rows = [month_row(5, level_fired=2, level_aimed=1, taser_reports=3, discharge=2)]
    chart = charts.use_over_time(rows)
    assert chart.table.columns == ["Month", *LADDER_HIGHEST_FIRST, "Taser reports", "Discharge share (%)"]
    assert chart.table.rows == [["May 2025", 0, 2, 0, 0, 0, 1, 0, 0, 3, 66.7]]
    plotted = {trace["name"]: trace["y"][0] for trace in chart.figure["data"]}
    for column, value in zip(chart.table.columns[1:-2], chart.table.rows[0][1:-2], strict=True):
        assert plotted[column] == value


def test_use_over_time_in_incidents_reads_the_incident_measures():
    rows = [month_row(5, level_fired=3, incidents_level_fired=1, taser_reports=3, incidents_taser=1)]
    chart = charts.use_over_time(rows, unit="incidents")
    assert "unit: incidents" in chart.title
    fired = next(trace for trace in chart.figure["data"] if trace["name"] == "Fired")
    assert fired["y"] == [1]
    assert chart.table.columns[-2] == "Taser incidents"


def test_use_over_time_by_quarter_names_police_quarters():
    row = month_row(4, level_fired=1, taser_reports=1)
    chart = charts.use_over_time([row], per="quarter")
    assert chart.figure["data"][0]["x"] == ["Q1<br>2025/26"]  # a tick of two short lines
    assert chart.table.rows[0][0] == "Q1 2025/26"
    assert chart.figure["layout"]["xaxis"]["type"] == "category"


def test_a_quarter_the_figures_stop_short_of_is_named_to_date_with_its_months():
    rows = [month_row(4, level_fired=1, taser_reports=1), month_row(7, taser_reports=1)]
    chart = charts.use_over_time(rows, per="quarter", through=datetime.date(2025, 8, 1))
    assert chart.figure["data"][0]["x"] == ["Q1<br>2025/26", "Q2<br>2025/26<br>to date (Jul–Aug)"]
    assert chart.table.rows[1][0] == "Q2 2025/26 to date (Jul–Aug)"


def test_a_suppressed_count_is_a_gap_in_the_chart_and_says_so_in_the_table():
    row = month_row(5, level_fired=None, taser_reports=20, discharge=None, suppressed=["level_fired", "discharge"])
    chart = charts.use_over_time([row])
    fired = next(trace for trace in chart.figure["data"] if trace["name"] == "Fired")
    assert fired["y"] == [None]
    table = dict(zip(chart.table.columns, chart.table.rows[0], strict=True))
    assert table["Fired"] == SUPPRESSED and table["Discharge share (%)"] == SUPPRESSED
    assert table["Taser reports"] == 20
    assert any("suppressed" in note for note in chart.notes)


def test_a_bar_with_a_suppressed_part_is_marked_as_such_on_top_of_what_it_shows():
    rows = [
        month_row(5, level_drawn=12, level_fired=None, taser_reports=15, suppressed=["level_fired"]),
        month_row(6, level_drawn=9, taser_reports=9),
    ]
    chart = charts.use_over_time(rows)
    valid(chart.figure)
    marks = next(trace for trace in chart.figure["data"] if trace["name"] == "Part suppressed (not shown)")
    assert marks["x"] == [rows[0]["period_start"].isoformat()]
    assert marks["y"] == [12]  # on top of the parts shown
    assert marks["text"] == ["suppressed"]


def test_a_chart_with_nothing_suppressed_has_no_suppressed_marks():
    chart = charts.use_over_time([month_row(6, level_drawn=9, taser_reports=9)])
    assert all(trace["name"] != "Part suppressed (not shown)" for trace in chart.figure["data"])


def test_each_point_opens_the_reports_it_counts():
    rows = [month_row(5, level_fired=2, taser_reports=2)]
    chart = charts.use_over_time(rows, drill={"area": "E22000155"})
    assert chart.drill
    fired = next(trace for trace in chart.figure["data"] if trace["name"] == "Fired")
    assert parse_qs(fired["customdata"][0]) == {
        "area": ["E22000155"], "from": ["2025-05-01"], "to": ["2025-05-31"], "highest_level": ["fired"],
    }  # fmt: skip


def test_without_drill_no_point_carries_a_link():
    chart = charts.use_over_time([month_row(5, level_fired=1, taser_reports=1)])
    assert not chart.drill
    assert all("customdata" not in trace for trace in chart.figure["data"])
    assert chart.notes == []  # nothing suppressed, nothing to say


def test_an_empty_period_makes_an_empty_chart_that_still_validates():
    chart = charts.use_over_time([])
    valid(chart.figure)
    assert chart.is_empty and chart.table.rows == []


AREAS = [
    {"area": 1, "code": "E1", "name": "Oxford", "reports": 10, "population": 100_000, "rate_per_1000": 1.0,
     "note": ""},
    {"area": 2, "code": "E2", "name": "Reading", "reports": 4, "population": 10_000, "rate_per_1000": 4.0,
     "note": ""},
    {"area": None, "code": None, "name": "No area recorded", "reports": 7, "population": None,
     "rate_per_1000": None, "note": "no population baseline for this area"},
]  # fmt: skip


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("count", ["Oxford", "No area recorded", "Reading"]),
        ("rate", ["Reading", "Oxford", "No area recorded"]),
        ("name", ["No area recorded", "Oxford", "Reading"]),
    ],
)
def test_use_by_area_sorts_as_asked(sort, order):
    chart = charts.use_by_area(AREAS, sort=sort)
    valid(chart.figure)
    assert chart.figure["data"][0]["y"] == order
    assert [row[0] for row in chart.table.rows] == order


def test_use_by_area_plots_counts_and_rates_and_links_only_real_areas():
    chart = charts.use_by_area(AREAS, drill={"from": "2025-01-01", "to": "2025-12-31"})
    counts, rates = chart.figure["data"]
    assert counts["x"] == [10, 7, 4] and rates["x"] == [1.0, None, 4.0]
    assert parse_qs(counts["customdata"][0])["area"] == ["E1"]
    assert counts["customdata"][1] == ""  # no area: nothing to filter by
    assert chart.table.rows[1] == ["No area recorded", 7, None, None, "no population baseline for this area"]


DISPROPORTIONALITY = [
    {"group": "white", "label": "White", "reports": 80, "population": 800_000, "rate_per_1000": 0.1,
     "ratio": None, "ratio_low": None, "ratio_high": None, "note": ""},
    {"group": "black", "label": "Black (or Black British)", "reports": 30, "population": 40_000,
     "rate_per_1000": 0.75, "ratio": 7.5, "ratio_low": 4.96, "ratio_high": 11.35, "note": ""},
    {"group": "asian", "label": "Asian (or Asian British)", "reports": 0, "population": 100_000,
     "rate_per_1000": 0.0, "ratio": None, "ratio_low": None, "ratio_high": None,
     "note": "no Taser reports in this group"},
]  # fmt: skip


def test_disproportionality_draws_ratios_with_their_intervals_against_white():
    chart = charts.disproportionality(DISPROPORTIONALITY)
    valid(chart.figure)
    rates, ratios = chart.figure["data"]
    assert rates["x"] == [0.1, 0.75, 0.0]
    assert ratios["x"] == [None, 7.5, None]  # White is the reference; no ratio is drawn for it
    assert ratios["error_x"]["array"][1] == pytest.approx(11.35 - 7.5)
    assert ratios["error_x"]["arrayminus"][1] == pytest.approx(7.5 - 4.96)
    assert chart.figure["layout"]["xaxis2"]["type"] == "log"
    assert chart.table.rows[0][4] == "1 (reference)"
    assert chart.table.rows[1][4:7] == [7.5, 4.96, 11.35]
    assert chart.table.rows[2][-1] == "no Taser reports in this group"
    assert any("perceived by the officer" in note for note in chart.notes)


def test_breakdown_keeps_the_category_order_and_shares_of_all_taser_reports():
    categories = [("age_under_11", "Under 11", {"age_band": "under_11"}), ("age_18_34", "18–34", {"age_band": "18_34"})]
    chart = charts.breakdown(
        key="age", title="By age", categories=categories, totals={"age_under_11": 1, "age_18_34": 3},
        taser_total=8, rules="categories", drill={"from": "2025-01-01"},
    )  # fmt: skip
    valid(chart.figure)
    assert chart.figure["data"][0]["y"] == ["Under 11", "18–34"]
    assert chart.table.rows == [["Under 11", 1, 12.5], ["18–34", 3, 37.5]]
    assert parse_qs(chart.figure["data"][0]["customdata"][0]) == {
        "from": ["2025-01-01"], "ced_used": ["true"], "age_band": ["under_11"],
    }  # fmt: skip


def test_multi_select_breakdowns_say_their_shares_exceed_100_percent():
    chart = charts.breakdown(
        key="reasons", title="Reasons", categories=[("reason_protect_self", "Protect self", None)],
        totals={"reason_protect_self": 2}, taser_total=2, rules="categories", multi=True,
    )  # fmt: skip
    assert charts.MULTI_NOTE in chart.notes


def test_injuries_sets_subject_beside_officer():
    chart = charts.injuries(subject=[("None", 5), ("Death", 1)], officer=[("None", 6)], taser_total=6)
    valid(chart.figure)
    subject, officer = chart.figure["data"]
    assert subject["y"] == [5, 1] and officer["y"] == [6, None]
    assert chart.table.rows[1] == ["Death", 1, 16.7, None, None]


def test_cycles_and_video_give_shares_of_discharges_and_of_taser_reports():
    rows = [month_row(5, taser_reports=10, discharge=4, extended_cycles=1, body_worn_video=7), month_row(6)]
    chart = charts.cycles_and_video(rows)
    valid(chart.figure)
    extended, video = chart.figure["data"]
    assert extended["y"] == [25.0, None] and video["y"] == [70.0, None]


def test_the_style_sheet_colours_the_ladder_as_the_charts_do():
    css = (Path(__file__).resolve().parents[2] / "static" / "css" / "site.css").read_text()
    declared = dict(re.findall(r"--level-(\d): (#[0-9a-f]{6})", css))
    assert {int(level): colour for level, colour in declared.items()} == {
        int(level): colour for level, colour in charts.LEVEL_COLOURS.items()
    }
    assert set(charts.LEVEL_COLOURS) == set(CedLevel)
