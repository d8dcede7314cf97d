"""Chart builders for the use-of-force summaries: rows in, Chart (Plotly figure and its table) out.

Pure functions: no ORM, no request. Rows come from incidents.queries. A count the public may not
see arrives as None with its measure named in the row's "suppressed" list; it is drawn as a gap
and tabled as "suppressed". Ladder levels always come in the same order (highest first in
legends and tables) and the same colour, here and in the style sheet.
"""

import datetime
from urllib.parse import urlencode

from incidents.ladder import CedLevel
from oversight.charts import SERIES_COLOURS, SUPPRESSED, Chart, Table, layout, rounded, suppression_note
from oversight.numbers import share
from oversight.police_calendar import quarter_name

LEVELS = sorted(CedLevel, reverse=True)  # highest first
# The same colours as --level-N in static/css/site.css (a test holds the two together).
LEVEL_COLOURS = {
    CedLevel.ANGLE_DRIVE_STUN: "#7b2d26",
    CedLevel.FIRED: "#d55e00",
    CedLevel.DRIVE_STUN: "#cc79a7",
    CedLevel.ARCED: "#e69f00",
    CedLevel.RED_DOTTED: "#0072b2",
    CedLevel.AIMED: "#56b4e9",
    CedLevel.DRAWN: "#009e73",
    CedLevel.NOT_STATED: "#999999",
}
UNITS = {"reports": "reports", "incidents": "incidents"}
SUBJECT_NOTE = "Counted in reports whatever the unit chosen: an incident may involve several people, a report one."
PERCEIVED_NOTE = (
    "Ethnicity is as perceived by the officer; residents' ethnic group is as they stated it in Census 2021. "
    "Rates compare two different kinds of category, so read them as an indication, not a measurement."
)
MULTI_NOTE = "A report may record several, so the shares add up to more than 100%."


def measure(name, unit):
    """The summary column of a Taser measure in the unit of count: level_fired → incidents_level_fired."""
    if unit == "reports":
        return name
    return {"taser_reports": "incidents_taser", "reports": "incidents"}.get(name, f"incidents_{name}")


def level_measure(level, unit="reports"):
    return measure(f"level_{level.name.lower()}", unit)


def value(row, name):
    """A figure as tabled: the count, or SUPPRESSED when the public may not see it."""
    return SUPPRESSED if name in row.get("suppressed", ()) else row[name]


def plotted(row, name):
    """A figure as plotted: None (a gap) when suppressed."""
    return None if name in row.get("suppressed", ()) else row[name]


def suppressed_marks(rows, x, stacked, when):
    """A marked point on top of each stacked bar that leaves a suppressed part out, so the gap is not read as
    a zero; no trace when nothing is suppressed."""
    marked = [
        (x[i], sum(row[name] or 0 for name in stacked if name not in row["suppressed"]))
        for i, row in enumerate(rows)
        if set(row.get("suppressed", ())) & set(stacked)
    ]
    if not marked:
        return []
    return [
        {
            "type": "scatter", "mode": "markers+text", "name": "Part suppressed (not shown)",
            "x": [point for point, _ in marked], "y": [top for _, top in marked],
            "text": ["suppressed"] * len(marked), "textposition": "top center", "textfont": {"size": 11},
            "marker": {"symbol": "x-thin-open", "size": 10, "color": "#1b1b1b", "line": {"width": 2}},
            "hovertemplate": f"{when}: a small count is suppressed, not zero<extra></extra>",
        }
    ]  # fmt: skip


def month_range(start, end):
    """The report list's from/to (inclusive dates) of a period start ≤ date < end."""
    return {"from": start.isoformat(), "to": (end - datetime.timedelta(days=1)).isoformat()}


def drill_query(base, **filters):
    """The report list's query string for one plotted point: the chart's filters and the point's own."""
    return urlencode({**base, **{k: v for k, v in filters.items() if v is not None}}, doseq=True)


def use_over_time(rows, *, unit="reports", per="month", drill=None, through=None):
    """Taser use per month (or quarter), stacked by highest level, with the discharge share as a line.

    rows: [{"period_start", "period_end" (exclusive), level measures, taser total, discharge}].
    per: "month" or "quarter", what a row is. drill: None (no click-through), else the report list
    filters every point shares (e.g. area). through: the last month the figures hold, which names a
    quarter that ends later "to date".
    """
    unit_name = UNITS[unit]
    total, discharge = measure("taser_reports", unit), measure("discharge", unit)
    if per == "quarter":
        x = [quarter_name(row["period_start"], through).replace(" ", "<br>", 2) for row in rows]  # short lines a tick
        when, axis = "%{x}", {"type": "category"}
    else:
        x = [row["period_start"].isoformat() for row in rows]
        when, axis = "%{x|%B %Y}", {"type": "date", "tickformat": "%b %Y"}
    data = []
    # Stacked from the bottom up, so the legend (reversed) reads highest first, as the ladder does.
    for level in reversed(LEVELS):
        name = level_measure(level, unit)
        trace = {
            "type": "bar", "name": level.label, "x": x, "y": [plotted(row, name) for row in rows],
            "marker": {"color": LEVEL_COLOURS[level]},
            "hovertemplate": f"{when}<br>{level.label}: %{{y}} {unit_name}<extra></extra>",
        }  # fmt: skip
        if drill is not None:
            level_name = level.name.lower()
            trace["customdata"] = [
                drill_query(drill, **month_range(row["period_start"], row["period_end"]), highest_level=level_name)
                for row in rows
            ]
        data.append(trace)
    data.extend(suppressed_marks(rows, x, [level_measure(level, unit) for level in LEVELS], when))
    shares = [share(plotted(row, discharge), plotted(row, total)) for row in rows]
    data.append(
        {
            "type": "scatter", "mode": "lines+markers", "name": "Discharge share (%)", "x": x, "y": shares,
            "yaxis": "y2", "line": {"color": "#1b1b1b", "width": 2}, "marker": {"symbol": "diamond", "size": 7},
            "hovertemplate": f"{when}<br>Discharge share: %{{y}}%<extra></extra>",
        }
    )  # fmt: skip
    figure = {
        "data": data,
        "layout": layout(
            barmode="stack",
            legend={"traceorder": "reversed"},
            margin={"r": 70},
            xaxis=axis,
            yaxis={"title": {"text": f"Taser {unit_name}"}},
            yaxis2={
                "title": {"text": "Discharge share (%)"}, "overlaying": "y", "side": "right", "range": [0, 100],
                "showgrid": False, "tickmode": "array", "tickvals": [0, 25, 50, 75, 100],
            },
        ),
    }  # fmt: skip
    columns = [per.capitalize(), *(level.label for level in LEVELS), f"Taser {unit_name}", "Discharge share (%)"]
    table_rows = [
        [
            quarter_name(row["period_start"], through) if per == "quarter" else row["period_start"].strftime("%B %Y"),
            *(value(row, level_measure(level, unit)) for level in LEVELS),
            value(row, total),
            SUPPRESSED if {total, discharge} & set(row.get("suppressed", ())) else shares[i],
        ]
        for i, row in enumerate(rows)
    ]
    return Chart(
        key="use-over-time",
        title=f"Taser use by highest level, per {per} (unit: {unit_name})",
        figure=figure,
        table=Table(columns, table_rows),
        rules="ladder",
        notes=suppression_note(rows),
        drill=drill is not None,
    )


AREA_SORTS = {"count": "most Taser use first", "rate": "highest rate first", "name": "by name"}


def use_by_area(rows, *, unit="reports", sort="count", drill=None):
    """Taser use by area, absolute and per 1,000 residents, side by side, in the chosen order.

    rows: [{"code", "name", "reports", "population", "rate_per_1000", "note"}] (area_rates).
    """
    unit_name = UNITS[unit]
    if sort == "name":
        rows = sorted(rows, key=lambda row: row["name"])
    elif sort == "rate":
        rows = sorted(rows, key=lambda row: (row["rate_per_1000"] is None, -(row["rate_per_1000"] or 0)))
    else:
        rows = sorted(rows, key=lambda row: (plotted(row, "reports") is None, -(plotted(row, "reports") or 0)))
    names = [row["name"] for row in rows]
    rates = [rounded(None if "reports" in row.get("suppressed", ()) else row["rate_per_1000"]) for row in rows]
    count_trace = {
        "type": "bar", "orientation": "h", "name": f"Taser {unit_name}", "y": names,
        "x": [plotted(row, "reports") for row in rows], "marker": {"color": SERIES_COLOURS[0]},
        "hovertemplate": f"%{{y}}: %{{x}} {unit_name}<extra></extra>",
    }  # fmt: skip
    rate_trace = {
        "type": "bar", "orientation": "h", "name": "Per 1,000 residents", "y": names, "x": rates,
        "xaxis": "x2", "yaxis": "y2", "marker": {"color": SERIES_COLOURS[1]},
        "hovertemplate": "%{y}: %{x} per 1,000 residents<extra></extra>",
    }  # fmt: skip
    if drill is not None:
        codes = [drill_query(drill, area=row["code"], ced_used="true") if row["code"] else "" for row in rows]
        count_trace["customdata"] = rate_trace["customdata"] = codes
    height = 120 + 26 * max(len(rows), 3)
    figure = {
        "data": [count_trace, rate_trace],
        "layout": layout(
            height=height,
            showlegend=False,
            margin={"l": 20, "t": 40},
            xaxis={"domain": [0, 0.46], "title": {"text": f"Taser {unit_name}"}, "rangemode": "tozero"},
            xaxis2={"domain": [0.54, 1], "title": {"text": "Per 1,000 residents"}, "anchor": "y2",
                    "gridcolor": "#e0e0e0", "rangemode": "tozero"},
            yaxis={"autorange": "reversed", "rangemode": "normal"},
            yaxis2={"autorange": "reversed", "anchor": "x2", "matches": "y", "showticklabels": False},
        ),
    }  # fmt: skip
    table_rows = [
        [
            row["name"], value(row, "reports"), row["population"],
            SUPPRESSED if "reports" in row.get("suppressed", ()) else rounded(row["rate_per_1000"]), row["note"],
        ]
        for row in rows
    ]  # fmt: skip
    return Chart(
        key="use-by-area",
        title=f"Taser use by area, in all and per 1,000 residents (unit: {unit_name}; {AREA_SORTS[sort]})",
        figure=figure,
        table=Table(["Area", f"Taser {unit_name}", "Residents (Census 2021)", "Per 1,000 residents", "Note"],
                    table_rows),
        rules="rates",
        notes=suppression_note(rows),
        drill=drill is not None,
    )  # fmt: skip


def disproportionality(rows, *, drill=None):
    """Rate per 1,000 residents by perceived ethnic group, and the rate ratio against White with 95% intervals.

    rows: queries.disproportionality (reports, population, rate_per_1000, ratio, ratio_low, ratio_high, note).
    """
    labels = [row["label"] for row in rows]
    rates = [rounded(plotted(row, "rate_per_1000"), 3) for row in rows]
    # Every group on both panels, so the labels of the first serve the second; White is the reference (1).
    ratios = [None if row["group"] == "white" else rounded(plotted(row, "ratio")) for row in rows]
    rate_trace = {
        "type": "bar", "orientation": "h", "name": "Rate per 1,000 residents", "y": labels, "x": rates,
        "marker": {"color": SERIES_COLOURS[0]},
        "hovertemplate": "%{y}: %{x} Taser reports per 1,000 residents<extra></extra>",
    }  # fmt: skip
    ratio_trace = {
        "type": "scatter", "mode": "markers", "orientation": "h", "name": "Rate ratio against White (95% interval)",
        "y": labels, "x": ratios, "xaxis": "x2", "yaxis": "y2",
        "marker": {"color": SERIES_COLOURS[5], "size": 10, "symbol": "diamond"},
        "error_x": {
            "type": "data", "symmetric": False, "color": "#1b1b1b", "thickness": 2,
            "array": [_offset(plotted(row, "ratio_high"), plotted(row, "ratio")) for row in rows],
            "arrayminus": [_offset(plotted(row, "ratio"), plotted(row, "ratio_low")) for row in rows],
        },
        "hovertemplate": "%{y}: %{x}× the White rate<extra></extra>",
    }  # fmt: skip
    if drill is not None:
        rate_trace["customdata"] = [drill_query(drill, ethnicity=row["group"], ced_used="true") for row in rows]
        ratio_trace["customdata"] = rate_trace["customdata"]
    figure = {
        "data": [rate_trace, ratio_trace],
        "layout": layout(
            height=320,
            showlegend=False,
            margin={"l": 20, "t": 40},
            xaxis={"domain": [0, 0.46], "title": {"text": "Taser reports per 1,000 residents"}},
            xaxis2={"domain": [0.54, 1], "type": "log", "anchor": "y2", "gridcolor": "#e0e0e0",
                    "tickvals": RATIO_TICKS, "ticktext": [f"{tick:g}×" for tick in RATIO_TICKS],
                    "title": {"text": "Rate ratio against White (log scale)"}},
            yaxis={"autorange": "reversed", "rangemode": "normal"},
            yaxis2={"autorange": "reversed", "anchor": "x2", "matches": "y", "showticklabels": False},
            shapes=[{"type": "line", "xref": "x2", "yref": "y2 domain", "x0": 1, "x1": 1, "y0": 0, "y1": 1,
                     "line": {"color": "#4a4a4a", "dash": "dash", "width": 1}}],
        ),
    }  # fmt: skip
    table_rows = [
        [
            row["label"], value(row, "reports"), row["population"], _tabled(row, "rate_per_1000", 3),
            "1 (reference)" if row["group"] == "white" else _tabled(row, "ratio"),
            _tabled(row, "ratio_low"), _tabled(row, "ratio_high"), row["note"],
        ]
        for row in rows
    ]  # fmt: skip
    return Chart(
        key="disproportionality",
        title="Taser use by perceived ethnic group: rate per 1,000 residents and rate ratio against White "
        "(unit: reports)",
        figure=figure,
        table=Table(
            ["Ethnic group", "Taser reports", "Residents (Census 2021)", "Per 1,000 residents",
             "Rate ratio against White", "95% interval, low", "95% interval, high", "Note"],
            table_rows,
        ),
        rules="disproportionality",
        notes=[
            PERCEIVED_NOTE, "Subjects whose ethnicity was not reported are left out of the rates.",
            *suppression_note(rows),
        ],
        drill=drill is not None,
    )  # fmt: skip


RATIO_TICKS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50]


def _offset(high, low):
    return None if high is None or low is None else round(high - low, 4)


def _tabled(row, name, digits=2):
    return SUPPRESSED if name in row.get("suppressed", ()) else rounded(row[name], digits)


def breakdown(*, key, title, categories, totals, taser_total, rules, multi=False, drill=None, colour=0):
    """Taser reports by one category set: a bar per category, with its share of all Taser reports.

    categories: [(measure name, label, report-list filter or None)], in the category set's own order.
    totals: {measure: count}. drill: the report list filters every bar shares, or None.
    """
    labels = [label for _, label, _ in categories]
    counts = [totals[name] for name, _, _ in categories]
    trace = {
        "type": "bar", "orientation": "h", "name": "Taser reports", "y": labels, "x": counts,
        "marker": {"color": SERIES_COLOURS[colour]}, "hovertemplate": "%{y}: %{x} Taser reports<extra></extra>",
    }  # fmt: skip
    if drill is not None:
        trace["customdata"] = [
            drill_query(drill, ced_used="true", **(filters or {})) if filters is not None else ""
            for _, _, filters in categories
        ]
    figure = {
        "data": [trace],
        "layout": layout(
            height=100 + 28 * len(categories), showlegend=False, margin={"l": 20, "t": 10},
            xaxis={"title": {"text": "Taser reports"}, "rangemode": "tozero"},
            yaxis={"autorange": "reversed", "rangemode": "normal"},
        ),
    }  # fmt: skip
    notes = [SUBJECT_NOTE]
    if multi:
        notes.append(MULTI_NOTE)
    return Chart(
        key=key,
        title=f"{title} (unit: reports)",
        figure=figure,
        table=Table(
            ["Category", "Taser reports", "Share of Taser reports (%)"],
            [[label, count, share(count, taser_total)] for label, count in zip(labels, counts, strict=True)],
        ),
        rules=rules,
        notes=notes,
        drill=drill is not None,
    )


def injuries(*, subject, officer, taser_total):
    """Subject and officer injuries in Taser reports, side by side by severity.

    subject, officer: [(label, count)] in severity order ("Death" for subjects only).
    """
    labels = [label for label, _ in subject]
    officer_counts = dict(officer)
    figure = {
        "data": [
            {"type": "bar", "name": "Subject", "x": labels, "y": [count for _, count in subject],
             "marker": {"color": SERIES_COLOURS[5]}, "hovertemplate": "Subject, %{x}: %{y}<extra></extra>"},
            {"type": "bar", "name": "Officer", "x": labels, "y": [officer_counts.get(label) for label in labels],
             "marker": {"color": SERIES_COLOURS[0]}, "hovertemplate": "Officer, %{x}: %{y}<extra></extra>"},
        ],
        "layout": layout(barmode="group", height=320, yaxis={"title": {"text": "Taser reports"}}),
    }  # fmt: skip
    rows = []
    for label, count in subject:
        officer_count = officer_counts.get(label)
        rows.append([label, count, share(count, taser_total), officer_count, share(officer_count, taser_total)])
    return Chart(
        key="injuries",
        title="Injuries in Taser reports, subject and officer (unit: reports)",
        figure=figure,
        table=Table(["Injury", "Subject", "Subject (%)", "Officer", "Officer (%)"], rows),
        rules="categories",
        notes=["The national form records death as an injury of subjects only."],
    )


def cycles_and_video(rows):
    """Per month: the share of discharges with a cycle extended beyond 5 seconds, and of Taser reports with
    body-worn video recording.

    rows: [{"period_start", "taser_reports", "discharge", "extended_cycles", "body_worn_video"}].
    """
    x = [row["period_start"].isoformat() for row in rows]
    extended = [share(row["extended_cycles"], row["discharge"]) for row in rows]
    video = [share(row["body_worn_video"], row["taser_reports"]) for row in rows]
    figure = {
        "data": [
            {"type": "scatter", "mode": "lines+markers", "name": "Discharges with an extended cycle (%)", "x": x,
             "y": extended, "line": {"color": SERIES_COLOURS[5]},
             "hovertemplate": "%{x|%B %Y}: %{y}% of discharges<extra></extra>"},
            {"type": "scatter", "mode": "lines+markers", "name": "Taser reports with body-worn video recording (%)",
             "x": x, "y": video, "line": {"color": SERIES_COLOURS[0], "dash": "dot"},
             "marker": {"symbol": "square"}, "hovertemplate": "%{x|%B %Y}: %{y}% with video<extra></extra>"},
        ],
        "layout": layout(
            height=340, xaxis={"type": "date", "tickformat": "%b %Y"},
            yaxis={"title": {"text": "Share (%)"}, "range": [0, 100]},
        ),
    }  # fmt: skip
    table_rows = [
        [
            row["period_start"].strftime("%B %Y"), row["taser_reports"], row["discharge"], row["extended_cycles"],
            extended[i], row["body_worn_video"], video[i],
        ]
        for i, row in enumerate(rows)
    ]  # fmt: skip
    return Chart(
        key="cycles-and-video",
        title="Extended discharge cycles and body-worn video recording, per month (unit: reports)",
        figure=figure,
        table=Table(
            ["Month", "Taser reports", "Discharges", "With a cycle over 5 seconds", "Extended (% of discharges)",
             "Body-worn video recording", "Video (% of Taser reports)"],
            table_rows,
        ),
        rules="cycles-and-video",
        notes=["One discharge cycle is 5 seconds; extended or repeated cycles are a scrutiny concern."],
    )  # fmt: skip
