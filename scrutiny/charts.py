"""Chart builders for the panels' work: rows in, Chart out; no ORM, no request."""

from oversight.charts import SERIES_COLOURS, Chart, Table, layout

# Grades that read as good, middling and poor keep those colours whatever the scale.
GRADE_COLOURS = {
    "Green": "#009e73", "Good practice": "#009e73", "Lawful, justified and proportionate": "#009e73",
    "Amber": "#e69f00", "Adequate": "#e69f00",
    "Red": "#d55e00", "Concern": "#d55e00", "Not all of lawful, justified and proportionate": "#d55e00",
}  # fmt: skip


def findings_by_grade(rows, *, grades, quarter_labels):
    """The panels' findings per quarter, stacked by the grade the panel agreed.

    rows: [{"quarter", "grade", "findings"}]; grades: every grade in scale order, best first;
    quarter_labels: {quarter start: label}, in order.
    """
    counts = {(row["quarter"], row["grade"]): row["findings"] for row in rows}
    quarters = list(quarter_labels)
    labels = [quarter_labels[quarter] for quarter in quarters]
    others = iter(SERIES_COLOURS[3:])
    data = [
        {
            "type": "bar", "name": grade, "x": labels, "y": [counts.get((quarter, grade), 0) for quarter in quarters],
            "marker": {"color": GRADE_COLOURS.get(grade) or next(others, "#999999")},
            "hovertemplate": f"%{{x}}: %{{y}} findings graded {grade}<extra></extra>",
        }
        for grade in grades
    ]  # fmt: skip
    figure = {
        "data": data,
        # The legend above the bars: below, it ran into the quarters' labels.
        "layout": layout(
            barmode="stack", height=320, yaxis={"title": {"text": "Findings"}, "dtick": 1},
            legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"}, margin={"t": 50},
        ),
    }  # fmt: skip
    table_rows = [
        [quarter_labels[quarter], *(counts.get((quarter, grade), 0) for grade in grades),
         sum(counts.get((quarter, grade), 0) for grade in grades)]
        for quarter in quarters
    ]  # fmt: skip
    return Chart(
        key="findings-by-grade",
        title="Scrutiny panel findings by the grade the panel agreed, per quarter (unit: reviewed cases)",
        figure=figure,
        table=Table(["Quarter", *grades, "All findings"], table_rows),
        rules="scrutiny",
        notes=["A finding is the panel's agreed view of one sampled case, recorded at its meeting."],
        empty_reason="" if counts and any(counts.values()) else (
            "No scrutiny panel recorded a finding in this period, so there is nothing to chart: a panel records its "
            "findings at its meetings."
        ),
    )  # fmt: skip
