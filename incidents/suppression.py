"""The method of disclosure control: which cells of a table of counts tied by additive equations to hide.

Primary suppression hides every count from 1 to the threshold. Secondary suppression then hides more
counts, the smallest first, until no hidden count can be worked out from what is shown: a hidden count is
"worked out" when every solution of the shown equations, with each hidden count at least 1 (zero is shown,
so a hidden count is not zero), gives it the same value. incidents/disclosure.py applies it to a force's
family of public cells; docs/summaries.md describes the method and its sources.

The audit is exact and incremental. Hiding a cell never fixes a count that was free (every solution of the
smaller system is still one of the larger, with the new cell at its true value), so after the first audit
only the cells it found determined and the cells hidden since are audited again, in the parts of the
system that hold them. Whether a cell is fixed is decided by exact elimination over a prime field.
"""

import heapq
from collections import defaultdict

import numpy as np

# scipy is imported by the functions that use it: at the top, it was 48 MB of every process that loads
# the apps (an import, a management command), where only the public cells' audit needs it. A web process
# still loads it with the URLs: the API schema's example summary is suppressed by these rules.

# Below this, a rise of a hidden count in a linear programme is rounding, not a second possible value.
TOLERANCE = 1e-7
# The field of the exact elimination: the Mersenne prime 2**61 - 1. The equations' coefficients are 0 and ±1,
# and their minors small integers, so the rank over this field is the rank over the rationals.
PRIME = (1 << 61) - 1


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
    listed, memory = [cells.tolist() for cells in members], {}
    while True:
        _hide_partners(values, members, of_cell, hidden)
        determined = determined_cells(values, members, hidden, memory=memory)
        if not determined:
            return hidden
        touched = set()
        for cell in determined:
            # A partner already given to a neighbour this round may have freed this cell: the next audit says.
            helped = not touched.isdisjoint(of_cell[cell])
            partner = None if helped else _nearest_partner(cell, values, listed, of_cell, hidden)
            if partner is not None:
                hidden[partner] = True
                touched.update(of_cell[partner])


def _nearest_partner(cell, values, members, of_cell, hidden):
    """The smallest shown non-zero cell of the equations holding `cell` (`members`: each equation's cells, as
    lists), or, where they hold none, of the equations one hidden cell further on, and so on; None when none
    is left."""
    seen_cells, seen_equations, frontier = {cell}, set(), [cell]
    while frontier:
        equations = {n for c in frontier for n in of_cell[c]} - seen_equations
        seen_equations |= equations
        if not equations:
            break
        cells = np.fromiter(set().union(*(members[n] for n in equations)), dtype=np.int64)
        shown = cells[~hidden[cells] & (values[cells] != 0)]
        if len(shown):
            return int(shown[np.lexsort((shown, values[shown]))[0]])
        frontier = [c for c in cells[hidden[cells]].tolist() if c not in seen_cells]
        seen_cells.update(frontier)
    # Nothing shown is tied to it any more (partners given this round hid the last): the system is then
    # homogeneous in its part, which any multiple of a solution solves, so the cell is free.
    return None


def _hide_partners(values, members, of_cell, hidden):
    """Hide, in place, the smallest other non-zero cell of every equation with exactly one cell hidden."""
    holding = [int(np.count_nonzero(hidden[cells])) for cells in members]  # hidden cells of each equation
    waiting = set(range(len(members)))
    while waiting:
        number = waiting.pop()
        if holding[number] != 1:
            continue
        # One cell hidden and the equation adds up, so another of its cells is non-zero.
        cells = members[number]
        partner = min((c for c in cells if not hidden[c] and values[c]), key=lambda c: (values[c], c))
        hidden[partner] = True
        for other in of_cell[partner]:
            holding[other] += 1
        waiting.update(of_cell[partner])


def equation_system(values, members, hidden):
    """The equations as the public sees them: (A, b, columns) with A x = b over the hidden cells `columns`,
    each row one equation holding a hidden cell (total minus parts is zero; shown cells moved to b)."""
    from scipy import sparse

    columns = np.flatnonzero(hidden)
    lengths = np.array([len(cells) for cells in members], dtype=np.int64)
    cells = np.concatenate(members) if members else np.zeros(0, dtype=np.int64)
    signs = -np.ones(len(cells))
    signs[np.cumsum(lengths) - lengths] = 1
    equation = np.repeat(np.arange(len(members)), lengths)
    inside = hidden[cells]
    holding = np.flatnonzero(np.bincount(equation[inside], minlength=len(members)))
    row_of = np.full(len(members), -1)
    row_of[holding] = np.arange(len(holding))
    column_of = np.full(len(hidden), -1)
    column_of[columns] = np.arange(len(columns))
    a = sparse.csr_matrix(
        (signs[inside], (row_of[equation[inside]], column_of[cells[inside]])), shape=(len(holding), len(columns))
    )
    shown = ~inside & (row_of[equation] >= 0)
    b = -np.bincount(row_of[equation[shown]], weights=signs[shown] * values[cells[shown]], minlength=len(holding))
    return a, b, columns


def determined_cells(values, members, hidden, *, memory=None):
    """The hidden cells whose value every solution of the shown system agrees on (hidden counts ≥ 1).

    Exact, per connected part of the system: a cell is determined when it is fixed on the affine hull of
    the solutions. That hull is the equations plus every bound x ≥ 1 that no solution can leave (found
    by linear programming: only cells whose value is 1 can be held there); a cell is fixed on it when no
    vector of the hull's null space moves it (free_cells).

    `memory` (a dict, updated) carries what an audit learnt to the next audit of the same family with more
    cells hidden: the cells that may still be determined (those found determined, and any hidden since),
    and the cells at 1 found able to rise. Neither changes the answer, only what is audited again. The
    cells come in the order of their parts (numbered from the lowest cell) and, in a part, of their ids.
    """
    from scipy.sparse.csgraph import connected_components

    memory = {} if memory is None else memory
    a, _, columns = equation_system(values, members, hidden)
    if not len(columns):
        return []
    audited = memory.get("hidden")
    suspects = np.ones(len(columns), dtype=bool)
    if audited is not None:
        # Free before stays free: only the cells found determined and those hidden since are in doubt.
        suspects = np.isin(columns, memory["determined"]) | ~audited[columns]
    rising = memory.setdefault("rising", set())
    links = (a.T @ a).tocsr()
    _, part_of = connected_components(links != 0, directed=False)
    order = np.argsort(part_of, kind="stable")
    bounds = np.flatnonzero(np.diff(part_of[order])) + 1
    determined = []
    for local in np.split(order, bounds):
        if not suspects[local].any():
            continue
        rows = np.unique(a[:, local].nonzero()[0])
        sub_a = a[rows][:, local]
        cells = columns[local]
        at_one = values[cells] == 1
        # A cell known free and at 1 can rise: only the cells in doubt can be held at 1.
        ones = [i for i in np.flatnonzero(at_one & suspects[local]) if int(cells[i]) not in rising]
        held = _bounds_held(sub_a, ones, at_one)
        rising.update(int(cells[i]) for i in set(ones) - set(held))
        # The hull: the equations, and the bounds held (a held cell is fixed at 1, its column gone).
        free = np.zeros(len(local), dtype=bool)
        keep = np.ones(len(local), dtype=bool)
        keep[held] = False
        free[keep] = free_cells(sub_a[:, keep])
        determined.extend(int(cell) for cell in cells[~free])
    memory["hidden"], memory["determined"] = hidden.copy(), np.array(determined, dtype=np.int64)
    return determined


def free_cells(equations, *, seed=0):
    """Which unknowns a homogeneous system of `equations` (a sparse matrix of small integers) leaves free:
    those that a vector of its null space moves.

    Sparse Gaussian elimination over the field of PRIME, exact, then one null vector drawn at random: an
    unknown the system fixes is zero in every null vector, one it leaves free is non-zero in a random one
    but with odds of one in PRIME (which would only hide one cell more).
    """
    from scipy import sparse

    equations = sparse.csr_matrix(equations)
    size = equations.shape[1]
    integers = np.rint(equations.data).astype(np.int64) % PRIME
    columns, coefficients, starts = equations.indices.tolist(), integers.tolist(), equations.indptr.tolist()
    rows = []
    for start, end in zip(starts[:-1], starts[1:], strict=True):
        row = {c: v for c, v in zip(columns[start:end], coefficients[start:end], strict=True) if v}
        if row:
            rows.append(row)
    rows.sort(key=len)
    # Pivot on the unknown in the fewest equations, to keep the elimination sparse.
    occurrences = np.bincount(equations.indices, minlength=size).tolist()
    pivots, order, rank = {}, [], {}
    for row in rows:
        # Subtract the pivots' rows in the order they were chosen: each brings in only pivots chosen later.
        waiting = [(rank[c], c) for c in row if c in pivots]
        heapq.heapify(waiting)
        while waiting:
            _, column = heapq.heappop(waiting)
            factor = row.get(column)
            if not factor:
                continue
            for other, coefficient in pivots[column].items():
                value = row.get(other)
                if value is None:
                    row[other] = -factor * coefficient % PRIME
                    if other in rank:
                        heapq.heappush(waiting, (rank[other], other))
                elif value := (value - factor * coefficient) % PRIME:
                    row[other] = value
                else:
                    del row[other]
        if row:
            column = min(row, key=lambda c: (occurrences[c], c))
            lead = row[column]
            if lead == PRIME - 1:
                row = {c: PRIME - v for c, v in row.items()}
            elif lead != 1:
                inverse = pow(lead, PRIME - 2, PRIME)
                row = {c: v * inverse % PRIME for c, v in row.items()}
            pivots[column] = row
            rank[column] = len(order)
            order.append(column)
    unknowns = [c for c in range(size) if c not in pivots]
    draws = np.random.default_rng(seed).integers(1, PRIME, size=len(unknowns), dtype=np.int64)
    vector = {c: int(draw) for c, draw in zip(unknowns, draws, strict=True)}
    # Each pivot's row holds, besides its pivot, free unknowns and pivots chosen after it: solve backwards.
    for column in reversed(order):
        vector[column] = -sum(v * vector[c] for c, v in pivots[column].items() if c != column) % PRIME
    return np.array([vector[c] != 0 for c in range(size)], dtype=bool)


def _bounds_held(a, candidates, at_one):
    """Which of the `candidates` (cells at 1) no solution of a x = b, x ≥ 1 can raise above 1, given which
    cells are at 1 (`at_one`, a boolean array) in the true solution x*.

    One linear programme over the directions in which x* can move: a d = 0, with d ≥ 0 where x* is at its
    bound of 1 (elsewhere x* has room, and the solutions are convex, so a small step either way stays one).
    A candidate rises when some direction raises it; the directions form a cone, so scaled and added they
    raise every such candidate by 1 at once (Fukuda's test for implicit equalities): maximising the rises,
    each capped at 1, leaves at 0 exactly the candidates held at 1.
    """
    from scipy import sparse
    from scipy.optimize import linprog

    candidates = list(candidates)
    if not candidates:
        return []
    size, count = a.shape[1], len(candidates)
    rise = sparse.csr_matrix((np.ones(count), (range(count), candidates)), shape=(count, size))
    result = linprog(
        np.concatenate([np.zeros(size), -np.ones(count)]),
        A_ub=sparse.hstack([-rise, sparse.identity(count)]), b_ub=np.zeros(count),
        A_eq=sparse.hstack([a, sparse.csr_matrix((a.shape[0], count))]), b_eq=np.zeros(a.shape[0]),
        bounds=[(0, None) if one else (None, None) for one in at_one] + [(0, 1)] * count, method="highs",
    )  # fmt: skip
    if result.status != 0:  # no answer: hold them all, which can only hide more
        return candidates
    rose = result.x[size:] > 0.5
    return [c for c, up in zip(candidates, rose, strict=True) if not up]
