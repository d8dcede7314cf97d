"""Disclosure control: what the public may see of a force's counts. Every output that crosses a trust
boundary reads its hidden cells here: the public pages and their chart CSVs, the summaries API for anyone
but the force's own staff, /compare/ for other forces, and the panels' public summaries.

Primary suppression hides every count from 1 to SUPPRESSION_THRESHOLD. Secondary suppression then hides
more counts, the smallest first, until no hidden count can be worked out from what is shown: not from one
total and its parts, and not from the whole linked system of totals (areas add up to the force, months to
quarters, quarters to financial years, levels and groups to their totals). A hidden count is "worked out"
when every solution of that system, with each hidden count at least 1 (zero is shown, so a hidden count is
not zero), gives it the same value. The method is in incidents/suppression.py; docs/summaries.md describes
it and its sources.

A force's public cells are one family: every count of every area and of the force, for every month, quarter
and financial year held, suppressed together once per version of its summaries, so that no difference
between overlapping periods gives a hidden count away, and a page, its CSV and the API show the same cells.
The family is kept in the database (PublicFamily), for every process, with the cache in front of it; one
process at a time makes a force's family, and the others wait for it.
"""

import datetime
import json
import logging
import time
import zlib
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, connection, transaction

from forces.models import Force
from incidents.models import MonthlySummary, PublicFamily
from incidents.queries import (
    ADDITIVE_GROUPS,
    API_MEASURES,
    GROUPS,
    summaries_as_of,
)
from incidents.suppression import suppressed_cells
from oversight.police_calendar import PERIOD_MONTHS, PERIODS, months_back, period_start

logger = logging.getLogger(__name__)

# The row of the whole force, beside its areas' rows (an area id, or None: reports without an area).
FORCE_TOTAL = "force"
# How long a force's suppressed family is kept in the cache; a new data version makes a new one anyway.
FAMILY_SECONDS = 24 * 3600
# How long a reader waits for another process making the same family before making it itself.
FAMILY_LOCK_SECONDS = 30
# The first key of PostgreSQL's advisory locks on families (the second is the force's).
FAMILY_LOCK_CLASS = 24


# --- small tables ------------------------------------------------------------------------------------


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
    key: str = ""
    seconds: float = 0.0  # how long suppressing it took, where it was made

    def hidden_measures(self, row, period, start):
        """The measures hidden in one row (FORCE_TOTAL or an area id) of one period."""
        return {m for m in API_MEASURES if (row, period, start, m) in self.hidden}

    def is_hidden(self, row, period, start, measure):
        return (row, period, start, measure) in self.hidden


def _key(force_id, version, built_at):
    threshold, secondary = settings.SUPPRESSION_THRESHOLD, settings.SECONDARY_SUPPRESSION
    return f"disclosure:{force_id}:{version}:{built_at and built_at.timestamp()}:{threshold}:{secondary}"


def family_key(force):
    """The key of the force's family as its summaries now stand (in the cache and in PublicFamily)."""
    return _key(force.pk, *summaries_as_of(force=force))


def public_cells(force):
    """The force's public family at the current version of its summaries: from the cache, else from the
    database, else made now (by one process at a time) and kept in both."""
    key = family_key(force)
    family = cache.get(key)
    if family is None:
        family = stored_family(force, key) or _made_once(force)
        cache.set(family.key, family, FAMILY_SECONDS)
    return family


def prepare_public_cells(force_ids):
    """Suppress the families of these forces now, after a rebuild, so that no public reader waits for it.

    A family costs seconds for a large force; a failure here is logged and left to the first reader."""
    for force in Force.objects.filter(pk__in=force_ids):
        try:
            public_cells(force)
        except Exception:  # noqa: BLE001 - the rebuild has succeeded; the page can still suppress on demand
            logger.exception("Could not prepare the public figures of %s", force.pk)


def stored_family(force, key):
    """The family kept in the database under `key`, or None."""
    row = PublicFamily.objects.filter(force=force, key=key).values_list("hidden", "cells", "primary").first()
    if row is None:
        return None
    hidden, cells, primary = row
    return PublicCells(_decoded(bytes(hidden)), cells, primary, key)


def _made_once(force):
    """Make the force's family under its lock, unless another process made it meanwhile, and keep it; after
    FAMILY_LOCK_SECONDS of waiting, make it without keeping it (the process holding the lock will)."""
    try:
        with transaction.atomic(), _family_lock(force):
            # The summaries may have moved on while this process waited: the family of the version now held.
            family = stored_family(force, family_key(force))
            if family is None:
                family = suppressed_family(force)
                PublicFamily.objects.filter(force=force).exclude(key=family.key).delete()
                PublicFamily.objects.create(
                    force=force,
                    key=family.key,
                    hidden=_encoded(family.hidden),
                    cells=family.cells,
                    primary=family.primary,
                    seconds=family.seconds,
                )
            return family
    except OperationalError:
        logger.warning("Waited too long for the public figures of %s: suppressing them here too", force.pk)
        return suppressed_family(force)


@contextmanager
def _family_lock(force):
    """Hold the force's family lock to the end of the transaction, waiting at most FAMILY_LOCK_SECONDS.

    PostgreSQL: an advisory lock on the force. SQLite: the transaction itself (BEGIN IMMEDIATE, see
    settings) holds the database's one write lock, for which other processes wait as long as its timeout."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('lock_timeout')")
            (before,) = cursor.fetchone()
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{FAMILY_LOCK_SECONDS * 1000}"])
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [FAMILY_LOCK_CLASS, _lock_number(force.pk)])
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [before])
    yield


def _lock_number(force_id):
    """The force's id as a signed 32-bit number, the second key of its advisory lock."""
    number = zlib.crc32(force_id.encode())
    return number - (1 << 32) if number >= 1 << 31 else number


def suppressed_family(force):
    """Suppress the force's family now, from its summaries as they stand, keyed by their version."""
    started = time.perf_counter()
    counts, key = _summary_counts(force)
    keys, values, equations = family_of_counts(counts)
    threshold, secondary = settings.SUPPRESSION_THRESHOLD, settings.SECONDARY_SUPPRESSION
    hidden = suppressed_cells(values, equations, threshold=threshold, secondary=secondary)
    primary = int(np.count_nonzero((values >= 1) & (values <= threshold)))
    chosen = frozenset(k for k, h in zip(keys, hidden, strict=True) if h)
    return PublicCells(chosen, len(keys), primary, key, time.perf_counter() - started)


def _encoded(hidden):
    """Hidden cells, compactly: for each (row, period, start) a bit mask over the measures, compressed."""
    masks = defaultdict(int)
    for row, period, start, measure in hidden:
        masks[(row, period, start)] |= 1 << API_MEASURES.index(measure)
    rows = [[row, period, start.isoformat(), mask] for (row, period, start), mask in masks.items()]
    return zlib.compress(json.dumps({"measures": API_MEASURES, "rows": rows}, separators=(",", ":")).encode())


def _decoded(data):
    payload = json.loads(zlib.decompress(data))
    measures = payload["measures"]
    return frozenset(
        (row, period, datetime.date.fromisoformat(start), measure)
        for row, period, start, mask in payload["rows"]
        for bit, measure in enumerate(measures)
        if mask >> bit & 1
    )


def table_family(force):
    """Every public cell of the force and the equations tying them: (keys, values, equations); see
    family_of_counts."""
    return family_of_counts(_summary_counts(force)[0])


def _summary_counts(force):
    """({(area, month): counts of API_MEASURES}, the family key of those summaries), in one read."""
    cells = MonthlySummary.objects.filter(force=force).values_list(
        "area", "month", "data_version", "built_at", *API_MEASURES
    )
    counts = defaultdict(lambda: np.zeros(len(API_MEASURES), dtype=np.int64))
    version, built_at = None, None
    for area, month, data_version, built, *row in cells.order_by():
        counts[(area, month)] += row
        version = data_version if version is None else min(version, data_version)
        built_at = built if built_at is None else max(built_at, built)
    return dict(counts), _key(force.pk, version or 0, built_at)


def family_of_counts(counts):
    """Every public cell of a force and the equations tying them: (keys, values, equations), from its
    summaries' counts {(area id or None, month): counts of API_MEASURES}.

    Keys are (row, period, period start, measure): each area's rows (None: no area recorded) and the force's,
    for every month, quarter and financial year from the first month held to the last.
    """
    counts = defaultdict(lambda: np.zeros(len(API_MEASURES), dtype=np.int64), counts)
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
