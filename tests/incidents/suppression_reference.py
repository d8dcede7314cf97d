"""The method of secondary suppression as it stood before the exact incremental audit, kept as the reference
the tests compare the current method with (tests/incidents/test_suppression_reference.py): every audit over the
whole system, each connected part's affine hull tested by a dense rank-revealing QR factorisation in floating
point. Slow on large forces, and for that reason alone replaced."""

from collections import defaultdict

import numpy as np
from scipy import sparse
from scipy.linalg import qr
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

TOLERANCE = 1e-7
RANK_TOLERANCE, PROJECTION_TOLERANCE = 1e-9, 1e-8


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
