"""What every chart shares: a Plotly figure, the table of exactly what it plots, and its page furniture.

No domain code: the builders live in each app's charts.py. Figures are plain dicts in Plotly's
figure schema (`{"data": [...], "layout": {...}}`): the page draws them with plotly.js, and
building them needs no validation pass at request time (the tests validate them with
plotly.graph_objects instead).
"""

from dataclasses import dataclass, field

# Okabe–Ito: distinguishable for the common kinds of colour blindness. Series that are not
# ladder levels take these in order.
SERIES_COLOURS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#7b2d26", "#999999"]
FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
SUPPRESSED = "suppressed"


@dataclass
class Table:
    """The figures a chart plots, as rows under column headings (the "show as table" and the CSV)."""

    columns: list[str]
    rows: list[list]

    def shown(self):
        """(row heading, [cells]) as the page prints them: thousands separated, "—" for a figure that does
        not exist. Formatted here once: a template filter per cell cost a dashboard a fifth of its time."""
        return [(row[0], [shown(value) for value in row[1:]]) for row in self.rows]


def shown(value):
    if value is None:
        return "—"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:,}"
    return value


@dataclass
class Chart:
    """One chart of a page.

    `key` names it in the page and in `?chart=<key>&format=csv`; `title` says what it counts and
    in which unit; `rules` is the anchor of its counting rule on the counting-rules page;
    `drill` is the report-list query string of each plotted point (in the figure's customdata),
    for roles that may open records; `empty_reason` says why nothing is drawn.
    """

    key: str
    title: str
    figure: dict
    table: Table
    rules: str
    notes: list[str] = field(default_factory=list)
    drill: bool = False
    # Why nothing is drawn, when the figures hold nothing to draw (the table may still list zeros).
    empty_reason: str = ""

    @property
    def is_empty(self):
        return not self.table.rows or bool(self.empty_reason)


def layout(**extra):
    """The layout every figure starts from: readable type, room for labels, a legend below."""
    base = {
        "font": {"family": FONT, "size": 13, "color": "#1b1b1b"},
        "margin": {"l": 60, "r": 20, "t": 20, "b": 50},
        "legend": {"orientation": "h", "y": -0.2},
        "hovermode": "closest",
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "xaxis": {"gridcolor": "#e0e0e0", "automargin": True},
        "yaxis": {"gridcolor": "#e0e0e0", "automargin": True, "rangemode": "tozero"},
    }
    for key, value in extra.items():
        base[key] = {**base[key], **value} if isinstance(base.get(key), dict) and isinstance(value, dict) else value
    return base


def rounded(value, digits=2):
    return None if value is None else round(value, digits)


def suppression_note(rows):
    """The note a chart needs when some of its figures are suppressed: they are gaps, not zeros."""
    if any(row.get("suppressed") for row in rows):
        return [
            "Some figures are suppressed because they are small enough to identify someone, or would give such a "
            "figure away: the chart leaves them out (a gap, not a zero) and the table marks them."
        ]
    return []
