"""Chart builders for forces: capability against use, areas side by side, forces side by side.

Pure functions: rows in, Chart out; no ORM, no request.
"""

from oversight.charts import SERIES_COLOURS, SUPPRESSED, Chart, Table, layout, rounded
from oversight.numbers import share

RECONCILIATION_NOTE = (
    "The Home Office counted incidents up to 2022/23 and reports from 2023/24; our counts are reports. Late forms, "
    'corrected records and "not stated" levels make the two differ: see each force\'s reconciliation page.'
)


def capability(rows, *, unit="reports"):
    """Devices in service and officers trained against Taser use, and uses per 100 trained officers.

    rows: [{"month", "uses", "devices", "officers"}]; devices and officers None before any record.
    """
    x = [row["month"].isoformat() for row in rows]
    per_officer = [share(row["uses"], row["officers"], 2) for row in rows]
    figure = {
        "data": [
            {"type": "scatter", "mode": "lines", "line": {"shape": "hv", "color": SERIES_COLOURS[0]},
             "name": "Officers trained", "x": x, "y": [row["officers"] for row in rows],
             "hovertemplate": "%{x|%B %Y}: %{y} officers trained<extra></extra>"},
            {"type": "scatter", "mode": "lines", "line": {"shape": "hv", "color": SERIES_COLOURS[1], "dash": "dash"},
             "name": "Devices in service", "x": x, "y": [row["devices"] for row in rows],
             "hovertemplate": "%{x|%B %Y}: %{y} devices<extra></extra>"},
            {"type": "scatter", "mode": "lines+markers", "line": {"color": SERIES_COLOURS[5]},
             "marker": {"symbol": "diamond"}, "name": f"Taser {unit} per 100 trained officers", "x": x,
             "y": per_officer, "xaxis": "x2", "yaxis": "y2",
             "hovertemplate": "%{x|%B %Y}: %{y} per 100 trained officers<extra></extra>"},
        ],
        "layout": layout(
            height=460,
            grid={"rows": 2, "columns": 1, "pattern": "independent", "roworder": "top to bottom"},
            xaxis={"type": "date", "tickformat": "%b %Y", "matches": "x2", "showticklabels": False},
            xaxis2={"type": "date", "tickformat": "%b %Y", "gridcolor": "#e0e0e0"},
            yaxis={"title": {"text": "Officers, devices"}, "rangemode": "tozero"},
            yaxis2={"title": {"text": "Per 100 officers"}, "rangemode": "tozero", "gridcolor": "#e0e0e0"},
        ),
    }  # fmt: skip
    table_rows = [
        [row["month"].strftime("%B %Y"), row["uses"], row["devices"], row["officers"], per_officer[i]]
        for i, row in enumerate(rows)
    ]
    return Chart(
        key="capability",
        title=f"Capability and use: officers trained, devices in service and Taser {unit} per 100 trained "
        f"officers, per month (unit: {unit})",
        figure=figure,
        table=Table(
            ["Month", f"Taser {unit}", "Devices in service", "Officers trained", "Per 100 trained officers"],
            table_rows,
        ),
        rules="capability",
        notes=["Devices and trained officers are entered by the force or the PCC's office: the Home Office holds "
               "no per-force counts. Each device model counts as last recorded."],
    )  # fmt: skip


def area_comparison(rows, *, force_rate, force_fired_share, national_rate, national_fired_share, year_label):
    """Areas side by side: Taser use per 1,000 residents and the fired share, with the force's and England
    and Wales's figures as reference lines.

    rows: [{"name", "reports", "fired", "population", "rate_per_1000"}]; references None where unknown.
    """
    rows = sorted(rows, key=lambda row: (row["rate_per_1000"] is None, -(row["rate_per_1000"] or 0)))
    names = [row["name"] for row in rows]
    fired = [share(row["fired"], row["reports"]) for row in rows]
    shapes, annotations = [], []
    for axis, reference, label, colour in (
        ("x", force_rate, "Force", "#1b1b1b"),
        ("x", national_rate, "England and Wales", "#7b2d26"),
        ("x2", force_fired_share, "Force", "#1b1b1b"),
        ("x2", national_fired_share, "England and Wales", "#7b2d26"),
    ):
        if reference is None:
            continue
        dash = "dash" if label == "Force" else "dot"
        shapes.append(
            {
                "type": "line",
                "xref": axis,
                "yref": "paper",
                "x0": reference,
                "x1": reference,
                "y0": 0,
                "y1": 1,
                "line": {"color": colour, "dash": dash, "width": 2},
            }
        )
        annotations.append(
            {
                "xref": axis,
                "yref": "paper",
                "x": reference,
                "y": 1.02 if label == "Force" else 1.08,
                "text": f"{label}: {reference:.2f}",
                "showarrow": False,
                "font": {"color": colour, "size": 12},
            }
        )
    figure = {
        "data": [
            {"type": "bar", "orientation": "h", "name": "Per 1,000 residents", "y": names,
             "x": [rounded(row["rate_per_1000"]) for row in rows], "marker": {"color": SERIES_COLOURS[0]},
             "hovertemplate": "%{y}: %{x} per 1,000 residents<extra></extra>"},
            {"type": "bar", "orientation": "h", "name": "Fired share (%)", "y": names, "x": fired,
             "xaxis": "x2", "yaxis": "y2", "marker": {"color": SERIES_COLOURS[5]},
             "hovertemplate": "%{y}: %{x}% fired<extra></extra>"},
        ],
        "layout": layout(
            height=160 + 26 * max(len(rows), 3), showlegend=False, margin={"l": 20, "t": 70},
            shapes=shapes, annotations=annotations,
            xaxis={"domain": [0, 0.46], "title": {"text": "Taser reports per 1,000 residents"}},
            xaxis2={"domain": [0.54, 1], "anchor": "y2", "title": {"text": "Fired share of Taser use (%)"},
                    "gridcolor": "#e0e0e0", "rangemode": "tozero"},
            yaxis={"autorange": "reversed", "rangemode": "normal"},
            yaxis2={"autorange": "reversed", "anchor": "x2", "matches": "y", "showticklabels": False},
        ),
    }  # fmt: skip
    table_rows = [
        [row["name"], row["reports"], row["fired"], row["population"], rounded(row["rate_per_1000"]), fired[i]]
        for i, row in enumerate(rows)
    ]
    table_rows.append(["The force", None, None, None, rounded(force_rate), force_fired_share])
    table_rows.append(["England and Wales (Home Office)", None, None, None, rounded(national_rate),
                       national_fired_share])  # fmt: skip
    return Chart(
        key="area-comparison",
        title=f"Areas side by side, {year_label}: Taser use per 1,000 residents and fired share (unit: reports)",
        figure=figure,
        table=Table(
            ["Area", "Taser reports", "Fired", "Residents (Census 2021)", "Per 1,000 residents", "Fired share (%)"],
            table_rows,
        ),
        rules="rates",
        notes=[RECONCILIATION_NOTE],
    )


def force_comparison(rows, *, year_label):
    """Forces side by side: Taser use per 1,000 residents and the fired share, published and ours.

    rows: [{"name", "published_total", "published_fired", "ours_total", "ours_fired", "population"}]; a
    count the caller may not see is SUPPRESSED, one not known None.
    """

    def number(value):
        return None if value in (None, SUPPRESSED) else value

    def per_1000(count, population):
        return rounded(1000 * number(count) / population, 3) if number(count) is not None and population else None

    rows = sorted(rows, key=lambda row: row["name"])
    names = [row["name"] for row in rows]
    published_rate = [per_1000(row["published_total"], row["population"]) for row in rows]
    ours_rate = [per_1000(row["ours_total"], row["population"]) for row in rows]
    published_fired = [share(number(row["published_fired"]), number(row["published_total"])) for row in rows]
    ours_fired = [share(number(row["ours_fired"]), number(row["ours_total"])) for row in rows]
    bar = {"type": "bar", "orientation": "h", "y": names}
    figure = {
        "data": [
            {**bar, "name": "Home Office: per 1,000 residents", "x": published_rate,
             "marker": {"color": SERIES_COLOURS[0]},
             "hovertemplate": "%{y}: %{x} per 1,000 (Home Office)<extra></extra>"},
            {**bar, "name": "Ours: per 1,000 residents", "x": ours_rate, "marker": {"color": SERIES_COLOURS[4]},
             "hovertemplate": "%{y}: %{x} per 1,000 (ours)<extra></extra>"},
            {**bar, "name": "Home Office: fired share (%)", "x": published_fired, "xaxis": "x2", "yaxis": "y2",
             "marker": {"color": SERIES_COLOURS[5]}, "hovertemplate": "%{y}: %{x}% fired (Home Office)<extra></extra>"},
            {**bar, "name": "Ours: fired share (%)", "x": ours_fired, "xaxis": "x2", "yaxis": "y2",
             "marker": {"color": SERIES_COLOURS[1]}, "hovertemplate": "%{y}: %{x}% fired (ours)<extra></extra>"},
        ],
        "layout": layout(
            height=160 + 30 * max(len(rows), 3), barmode="group", margin={"l": 20, "t": 20},
            legend={"orientation": "h", "y": 1.0, "yanchor": "bottom"},
            xaxis={"domain": [0, 0.46], "title": {"text": "Taser use per 1,000 residents"}, "rangemode": "tozero"},
            xaxis2={"domain": [0.54, 1], "anchor": "y2", "title": {"text": "Fired share (%)"},
                    "gridcolor": "#e0e0e0", "rangemode": "tozero"},
            yaxis={"autorange": "reversed", "rangemode": "normal"},
            yaxis2={"autorange": "reversed", "anchor": "x2", "matches": "y", "showticklabels": False},
        ),
    }  # fmt: skip
    table_rows = [
        [
            row["name"], row["published_total"], row["published_fired"], published_fired[i], row["ours_total"],
            row["ours_fired"], ours_fired[i], row["population"], published_rate[i], ours_rate[i],
        ]
        for i, row in enumerate(rows)
    ]  # fmt: skip
    return Chart(
        key="force-comparison",
        title=f"Forces side by side, {year_label}: Taser use per 1,000 residents and fired share "
        "(Home Office: incidents to 2022/23, reports after; ours: reports)",
        figure=figure,
        table=Table(
            ["Force", "Home Office: Taser used", "Home Office: fired", "Home Office: fired (%)", "Ours: Taser reports",
             "Ours: fired", "Ours: fired (%)", "Residents (Census 2021)", "Home Office: per 1,000",
             "Ours: per 1,000"],
            table_rows,
        ),
        rules="published",
        notes=[RECONCILIATION_NOTE],
    )  # fmt: skip
