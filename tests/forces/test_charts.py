"""Force chart builders: capability, areas side by side, forces side by side. Rows in, figure out."""

import datetime

import plotly.graph_objects as go

from forces import charts
from oversight.charts import SUPPRESSED


def test_capability_plots_officers_devices_and_uses_per_100_trained_officers():
    rows = [
        {"month": datetime.date(2025, 1, 1), "uses": 12, "devices": None, "officers": None},
        {"month": datetime.date(2025, 2, 1), "uses": 12, "devices": 300, "officers": 400},
    ]
    chart = charts.capability(rows)
    go.Figure(chart.figure)
    officers, devices, per_officer = chart.figure["data"]
    assert officers["y"] == [None, 400] and devices["y"] == [None, 300]
    assert per_officer["y"] == [None, 3.0]  # no record yet: no rate, not 0
    assert chart.table.rows[1] == ["February 2025", 12, 300, 400, 3.0]


def test_area_comparison_draws_the_force_and_england_and_wales_as_reference_lines():
    rows = [
        {"name": "Oxford", "reports": 10, "fired": 2, "population": 100_000, "rate_per_1000": 1.0},
        {"name": "Reading", "reports": 4, "fired": 1, "population": 10_000, "rate_per_1000": 4.0},
    ]
    chart = charts.area_comparison(
        rows, force_rate=1.27, force_fired_share=21.4, national_rate=None, national_fired_share=10.2,
        year_label="2024/25",
    )  # fmt: skip
    go.Figure(chart.figure)
    assert chart.figure["data"][0]["y"] == ["Reading", "Oxford"]  # highest rate first
    lines = [(shape["xref"], shape["x0"]) for shape in chart.figure["layout"]["shapes"]]
    assert lines == [("x", 1.27), ("x2", 21.4), ("x2", 10.2)]  # no national rate without every population
    assert chart.table.rows[-2:] == [
        ["The force", None, None, None, 1.27, 21.4],
        ["England and Wales (Home Office)", None, None, None, None, 10.2],
    ]


def test_force_comparison_sets_published_beside_our_counts_and_keeps_suppression():
    rows = [
        {"name": "Thames Valley Police", "published_total": 1037, "published_fired": 123, "ours_total": 1000,
         "ours_fired": 120, "population": 2_500_000},
        {"name": "Kent Police", "published_total": 900, "published_fired": 90, "ours_total": SUPPRESSED,
         "ours_fired": SUPPRESSED, "population": None},
    ]  # fmt: skip
    chart = charts.force_comparison(rows, year_label="2019/20")
    go.Figure(chart.figure)
    published_rate, ours_rate, published_fired, ours_fired = chart.figure["data"]
    assert published_rate["y"] == ["Kent Police", "Thames Valley Police"]
    assert published_rate["x"] == [None, 0.415] and ours_rate["x"] == [None, 0.4]
    assert published_fired["x"] == [10.0, 11.9] and ours_fired["x"] == [None, 12.0]
    assert chart.table.rows[0][4:6] == [SUPPRESSED, SUPPRESSED]
