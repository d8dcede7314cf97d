"""The scrutiny chart builder: findings by grade per quarter."""

import datetime

import plotly.graph_objects as go

from scrutiny import charts

Q1, Q2 = datetime.date(2025, 4, 1), datetime.date(2025, 7, 1)


def test_findings_stack_by_grade_in_scale_order_with_the_grades_colours():
    rows = [{"quarter": Q1, "grade": "Red", "findings": 1}, {"quarter": Q2, "grade": "Green", "findings": 3}]
    chart = charts.findings_by_grade(
        rows, grades=["Green", "Amber", "Red"], quarter_labels={Q1: "Q1 2025/26", Q2: "Q2 2025/26"}
    )
    go.Figure(chart.figure)
    assert [trace["name"] for trace in chart.figure["data"]] == ["Green", "Amber", "Red"]
    assert [trace["marker"]["color"] for trace in chart.figure["data"]] == ["#009e73", "#e69f00", "#d55e00"]
    assert chart.figure["data"][0]["y"] == [0, 3]
    assert chart.table.rows == [["Q1 2025/26", 0, 0, 1, 1], ["Q2 2025/26", 3, 0, 0, 3]]


def test_no_findings_give_an_empty_chart_that_says_why_and_a_table_of_zeros():
    chart = charts.findings_by_grade([], grades=["Green"], quarter_labels={Q1: "Q1 2025/26"})
    go.Figure(chart.figure)
    assert chart.is_empty
    assert chart.empty_reason.startswith("No scrutiny panel recorded a finding in this period")
    assert chart.table.rows == [["Q1 2025/26", 0, 0]]


def test_the_findings_legend_sits_above_the_bars_clear_of_the_quarters():
    chart = charts.findings_by_grade([], grades=["Green"], quarter_labels={Q1: "Q1 2025/26"})
    assert chart.figure["layout"]["legend"]["y"] > 1
