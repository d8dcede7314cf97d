"""Disclosure control: what the public may see of a force's counts. Every output that crosses a trust
boundary reads its hidden cells here: the public pages and their chart CSVs, the summaries API for anyone
but the force's own staff, /compare/ for other forces, and the panels' public summaries.

Primary suppression hides every count from 1 to SUPPRESSION_THRESHOLD. Secondary suppression then hides
more counts, the smallest first, until no hidden count can be worked out from what is shown: not from one
total and its parts, and not from the whole linked system of totals (areas add up to the force, months to
quarters, quarters to financial years, levels and groups to their totals). A hidden count is "worked out"
when every solution of that system, with each hidden count at least 1 (zero is shown, so a hidden count is
not zero), gives it the same value; docs/summaries.md describes the method and its sources.

A force's public cells are one family: every count of every area and of the force, for every month, quarter
and financial year held, suppressed together once per data version (and cached), so that no difference
between overlapping periods gives a hidden count away, and a page, its CSV and the API show the same cells.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.core.cache import cache
from scipy import sparse
from scipy.linalg import qr
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from forces.models import Force
from incidents.models import MonthlySummary
from incidents.queries import (
    ADDITIVE_GROUPS,
    API_MEASURES,
    GROUPS,
    summaries_as_of,
)
from oversight.police_calendar import PERIOD_MONTHS, PERIODS, months_back, period_start

logger = logging.getLogger(__name__)

# The row of the whole force, beside its areas' rows (an area id, or None: reports without an area).
FORCE_TOTAL = "force"
# How long a force's suppressed family is kept; a new data version makes a new one anyway.
FAMILY_SECONDS = 24 * 3600
# Below this, a rise of a hidden count in a linear programme is rounding, not a second possible value.
TOLERANCE = 1e-7
# A diagonal entry of R this much smaller than the largest is rounding: the rows beyond the rank. And a unit
# vector whose projection onto the row space falls short of 1 by less than this lies in it. (A free count's
# falls short by the square of its entry in a null vector, far more than this on tables of whole numbers.)
RANK_TOLERANCE, PROJECTION_TOLERANCE = 1e-9, 1e-8


# --- the method: suppression of a table of counts tied by additive equations -------------------------


def suppressed_cells(values, equations, *, threshold, secondary=True):
    """Which cells to hide: a boolean array over `values` (counts), given `equations` (total id, [part ids]).

    Primary: every count from 1 to `threshold`. Secondary (unless switched off): first, wherever one total
    and its parts hold exactly one hidden cell, the smallest other non-zero cell of them is hidden too;
    then the whole system is audited (determined_cells) and, for each hidden cell it still determines,
    the smallest shown non-zero cell of an equation holding it is hidden; until the audit finds none.
    """
    values = np.asarray(values, dtype=np.int64)
    hidden = (values >= 1) & (values <= threshold)
    if not secondary:
        return hidden
    members = [np.array([total, *parts]) for total, parts in equations]
    of_cell = defaultdict(list)
    for number, cells in enumerate(members):
        for cell in cells:
            of_cell[cell].append(number)
    settled = set()
    while True:
        _hide_partners(values, members, of_cell, hidden)
        determined = determined_cells(values, members, hidden, settled=settled)
        if not determined:
            return hidden
        touched = set()
        for cell in determined:
            # A partner already given to a neighbour this round may have freed this cell: the next audit says.
            helped = not touched.isdisjoint(of_cell[cell])
            partner = None if helped else _nearest_partner(cell, values, members, of_cell, hidden)
            if partner is not None:
                hidden[partner] = True
                touched.update(of_cell[partner])


def _nearest_partner(cell, values, members, of_cell, hidden):
    """The smallest shown non-zero cell of the equations holding `cell`, or, where they hold none, of the
    equations one hidden cell further on, and so on; None when none is left."""
    seen_cells, seen_equations, frontier = {cell}, set(), [cell]
    while frontier:
        equations = {n for c in frontier for n in of_cell[c]} - seen_equations
        seen_equations |= equations
        cells = {c for n in equations for c in members[n]}
        shown = [c for c in cells if not hidden[c] and values[c]]
        if shown:
            return min(shown, key=lambda c: (values[c], c))
        frontier = [c for c in cells - seen_cells if hidden[c]]
        seen_cells.update(frontier)
    # Nothing shown is tied to it any more (partners given this round hid the last): the system is then
    # homogeneous in its part, which any multiple of a solution solves, so the cell is free.
    return None


def _hide_partners(values, members, of_cell, hidden):
    """Hide, in place, the smallest other non-zero cell of every equation with exactly one cell hidden."""
    waiting = set(range(len(members)))
    while waiting:
        cells = members[waiting.pop()]
        if np.count_nonzero(hidden[cells]) != 1:
            continue
        # One cell hidden and the equation adds up, so another of its cells is non-zero.
        partner = min((c for c in cells if not hidden[c] and values[c]), key=lambda c: (values[c], c))
        hidden[partner] = True
        waiting.update(of_cell[partner])


def equation_system(values, members, hidden):
    """The equations as the public sees them: (A, b, columns) with A x = b over the hidden cells `columns`,
    each row one equation holding a hidden cell (total minus parts is zero; shown cells moved to b)."""
    columns = np.flatnonzero(hidden)
    column_of = {cell: i for i, cell in enumerate(columns)}
    rows, cols, coefficients, b = [], [], [], []
    for cells in members:
        if not hidden[cells].any():
            continue
        signs = np.ones(len(cells))
        signs[1:] = -1
        known = 0.0
        for cell, sign in zip(cells, signs, strict=True):
            if hidden[cell]:
                rows.append(len(b))
                cols.append(column_of[cell])
                coefficients.append(sign)
            else:
                known += sign * values[cell]
        b.append(-known)
    a = sparse.csr_matrix((coefficients, (rows, cols)), shape=(len(b), len(columns)))
    return a, np.array(b), columns


def determined_cells(values, members, hidden, *, settled=None):
    """The hidden cells whose value every solution of the shown system agrees on (hidden counts ≥ 1).

    Exact, per connected part of the system: a cell is determined when it is fixed on the affine hull of
    the solutions. That hull is the equations plus every bound x ≥ 1 that no solution can leave (found
    by linear programming: only cells whose value is 1 can be held there); a cell is fixed on it when its
    unit vector lies in the row space of those equations (fixed_by).

    `settled` (a set, updated) holds the parts found to determine nothing: a part whose cells and equations
    have not changed since is not audited again.
    """
    settled = set() if settled is None else settled
    a, b, columns = equation_system(values, members, hidden)
    if not len(columns):
        return []
    links = (a.T @ a).tocsr()
    _, part_of = connected_components(links != 0, directed=False)
    determined = []
    for part in np.unique(part_of):
        local = np.flatnonzero(part_of == part)
        cells = frozenset(columns[local].tolist())
        if cells in settled:
            continue
        rows = np.unique(a[:, local].nonzero()[0])
        sub_a, sub_b = a[rows][:, local], b[rows]
        truth = values[columns[local]].astype(float)
        held = _bounds_held(sub_a, sub_b, np.flatnonzero(truth == 1))
        hull = sub_a.toarray()
        if len(held):
            hull = np.vstack([hull, np.eye(len(local))[held]])
        fixed = [int(columns[local[i]]) for i in np.flatnonzero(fixed_by(hull))]
        if not fixed:
            settled.add(cells)
        determined.extend(fixed)
    return determined


def fixed_by(equations):
    """Which unknowns a homogeneous system of `equations` (a dense matrix) fixes: those whose unit vector
    lies in its row space, i.e. whose diagonal entry of the projection onto the row space is 1.

    The row space comes from a QR factorisation with column pivoting (rank-revealing) of the transpose,
    several times faster than the singular value decomposition of a null space on systems this sparse.
    """
    q, r, _ = qr(equations.T, mode="economic", pivoting=True)
    diagonal = np.abs(np.diag(r))
    rank = int(np.count_nonzero(diagonal > RANK_TOLERANCE * max(diagonal.max(initial=0), 1)))
    projection = np.einsum("ij,ij->i", q[:, :rank], q[:, :rank])
    return projection > 1 - PROJECTION_TOLERANCE


def _bounds_held(a, b, candidates):
    """Which of the `candidates` (cells at 1) no solution of a x = b, x ≥ 1 can raise above 1."""
    candidates = list(candidates)
    size = a.shape[1]
    while candidates:
        # Maximise the rise (capped at 1) of the candidates; those that rise are free, and the rest are
        # tried again until none can rise.
        count = len(candidates)
        rise = sparse.csr_matrix((np.ones(count), (range(count), candidates)), shape=(count, size))
        result = linprog(
            np.concatenate([np.zeros(size), -np.ones(count)]),
            A_ub=sparse.hstack([-rise, sparse.identity(count)]), b_ub=-np.ones(count),
            A_eq=sparse.hstack([a, sparse.csr_matrix((a.shape[0], count))]), b_eq=b,
            bounds=[(1, None)] * size + [(0, 1)] * count, method="highs",
        )  # fmt: skip
        rose = result.x[size:] > TOLERANCE
        if not rose.any():
            return candidates
        candidates = [c for c, up in zip(candidates, rose, strict=True) if not up]
    return []


def hidden_names(counts, groups=(), *, threshold=None):
    """The names among `counts` ({name: count}) of one small table that the public may not see, given the
    groups that add up ((total, [parts])); the same method as a force's family."""
    threshold = settings.SUPPRESSION_THRESHOLD if threshold is None else threshold
    names = list(counts)
    index = {name: i for i, name in enumerate(names)}
    equations = [(index[total], [index[p] for p in parts]) for total, parts in groups]
    hidden = suppressed_cells(
        [counts[name] for name in names], equations, threshold=threshold, secondary=settings.SECONDARY_SUPPRESSION
    )
    return {name for name, hide in zip(names, hidden, strict=True) if hide}


# --- a force's public family of cells -----------------------------------------------------------------


@dataclass
class PublicCells:
    """A force's suppressed family: the cells hidden, as (row, period, period start, measure)."""

    hidden: frozenset
    cells: int
    primary: int

    def hidden_measures(self, row, period, start):
        """The measures hidden in one row (FORCE_TOTAL or an area id) of one period."""
        return {m for m in API_MEASURES if (row, period, start, m) in self.hidden}

    def is_hidden(self, row, period, start, measure):
        return (row, period, start, measure) in self.hidden


def family_key(force):
    """The cache key of the force's family as its summaries now stand."""
    version, built_at = summaries_as_of(force=force)
    threshold, secondary = settings.SUPPRESSION_THRESHOLD, settings.SECONDARY_SUPPRESSION
    return f"disclosure:{force.pk}:{version}:{built_at and built_at.timestamp()}:{threshold}:{secondary}"


def public_cells(force):
    """The force's public family, suppressed once per data version (and kept in the cache)."""
    threshold, secondary = settings.SUPPRESSION_THRESHOLD, settings.SECONDARY_SUPPRESSION
    key = family_key(force)
    family = cache.get(key)
    if family is None:
        keys, values, equations = table_family(force)
        hidden = suppressed_cells(values, equations, threshold=threshold, secondary=secondary)
        primary = int(np.count_nonzero((values >= 1) & (values <= threshold)))
        family = PublicCells(frozenset(k for k, h in zip(keys, hidden, strict=True) if h), len(keys), primary)
        cache.set(key, family, FAMILY_SECONDS)
    return family


def prepare_public_cells(force_ids):
    """Suppress the families of these forces now, after a rebuild, so that no public reader waits for it.

    A family costs seconds for a large force; a failure here is logged and left to the first reader."""
    for force in Force.objects.filter(pk__in=force_ids):
        try:
            public_cells(force)
        except Exception:  # noqa: BLE001 - the rebuild has succeeded; the page can still suppress on demand
            logger.exception("Could not prepare the public figures of %s", force.pk)


def table_family(force):
    """Every public cell of the force and the equations tying them: (keys, values, equations).

    Keys are (row, period, period start, measure): each area's rows (None: no area recorded) and the force's,
    for every month, quarter and financial year from the first month held to the last.
    """
    cells = MonthlySummary.objects.filter(force=force).values_list("area", "month", *API_MEASURES).order_by()
    counts = defaultdict(lambda: np.zeros(len(API_MEASURES), dtype=np.int64))
    for area, month, *row in cells:
        counts[(area, month)] += row
    if not counts:
        return [], np.zeros(0, dtype=np.int64), []
    areas = sorted({area for area, _ in counts}, key=lambda a: (a is None, a or 0))
    first, last = min(month for _, month in counts), max(month for _, month in counts)
    months = [first]
    while months[-1] < last:
        months.append(months_back(months[-1], -1))
    starts = {period: sorted({period_start(m, period) for m in months}) for period in PERIODS}

    keys, values, ids = [], [], {}

    def cell(row, period, start, measure_index):
        key = (row, period, start, API_MEASURES[measure_index])
        if key not in ids:
            ids[key] = len(keys)
            keys.append(key)
        return ids[key]

    # Counts of every row and period, as sums of months.
    table = {}
    for period in PERIODS:
        for start in starts[period]:
            end = months_back(start, -PERIOD_MONTHS[period])
            for area in areas:
                table[(area, period, start)] = sum(
                    (counts[(area, m)] for m in months if start <= m < end and (area, m) in counts),
                    np.zeros(len(API_MEASURES), dtype=np.int64),
                )
            table[(FORCE_TOTAL, period, start)] = sum(table[(area, period, start)] for area in areas)
    for (row, period, start), row_counts in table.items():
        for index, count in enumerate(row_counts):
            cell(row, period, start, index)
            values.append(int(count))

    measure_index = {name: i for i, name in enumerate(API_MEASURES)}
    equations = []
    rows = [FORCE_TOTAL, *areas]
    for row in rows:
        for period in PERIODS:
            for start in starts[period]:
                for total, parts in ADDITIVE_GROUPS:
                    equations.append(
                        (cell(row, period, start, measure_index[total]),
                         [cell(row, period, start, measure_index[p]) for p in parts])
                    )  # fmt: skip
    for period in PERIODS:
        for start in starts[period]:
            for index in range(len(API_MEASURES)):
                equations.append(
                    (cell(FORCE_TOTAL, period, start, index), [cell(area, period, start, index) for area in areas])
                )
    # Months add up to their quarter, quarters to their financial year.
    for whole, part in (("quarter", "month"), ("financial_year", "quarter")):
        for row in rows:
            for start in starts[whole]:
                end = months_back(start, -PERIOD_MONTHS[whole])
                inside = [s for s in starts[part] if start <= s < end]
                for index in range(len(API_MEASURES)):
                    equations.append((cell(row, whole, start, index), [cell(row, part, s, index) for s in inside]))
    return keys, np.array(values, dtype=np.int64), equations


# --- outputs ----------------------------------------------------------------------------------------


def hide_in_row(row, hidden):
    """A summary row as the public may see it: the `hidden` counts None, with the rates and ratios built on
    them (a rate times its population, or a ratio times the White rate, gives the count back)."""
    for name in hidden:
        row[name] = None
    for group, _ in GROUPS:
        if f"ethnicity_{group}" in hidden and f"ethnicity_{group}_rate_per_1000" in row:
            row[f"ethnicity_{group}_rate_per_1000"] = None
        if group != "white" and {f"ethnicity_{group}", "ethnicity_white"} & hidden:
            for part in ("ratio", "ratio_low", "ratio_high"):
                if f"ethnicity_{group}_{part}" in row:
                    row[f"ethnicity_{group}_{part}"] = None
    row["suppressed"] = sorted(hidden, key=API_MEASURES.index)
    return row


def public_summary_rows(rows, *, exact_for, by_area, forces):
    """Suppress, in place, the summaries API's rows of forces whose exact figures the caller may not see.

    `exact_for` is None when every force's are exact, else the set of those force ids; `forces` maps
    force ids to forces. Returns whether any row was suppressed.
    """
    applied = False
    families, area_ids = {}, {}
    for row in rows:
        force_id = row["force"]
        if exact_for is None or force_id in exact_for:
            row["suppressed"] = []
            continue
        if force_id not in families:
            force = forces[force_id]
            families[force_id] = public_cells(force)
            area_ids[force_id] = dict(force.areas.values_list("code", "pk"))
        if by_area:
            where = area_ids[force_id].get(row["area"]) if row["area"] else None
        else:
            where = FORCE_TOTAL
        hide_in_row(row, families[force_id].hidden_measures(where, row["period"], row["period_start"]))
        applied = True
    return applied
