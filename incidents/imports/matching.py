"""Matching a file's rows to the force's reports they revise: digests of keys and contents, the reports held."""

import datetime
import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.db import connection

from incidents.columns import normal
from incidents.imports.bulk import COPY_CHUNK_BYTES
from incidents.models import ImportBatch, UseOfForceReport
from incidents.models.reports import SOURCE_KEY_UNIQUE
from incidents.readers import Problems

md5: Callable[[Any], Any]
try:  # CPython's own MD5: for texts this short, OpenSSL's set-up per text costs more than the hashing
    from _md5 import md5  # type: ignore[import-not-found,no-redef]
except ImportError:  # a Python built without it
    md5 = hashlib.md5

REPORT = UseOfForceReport._meta.db_table


def md5_digests(texts: pa.Array) -> tuple[np.ndarray, pa.StringArray]:
    """The MD5 digest of each text of a pyarrow string array: (16-byte numpy values, hex pyarrow strings)."""
    texts = pc.cast(texts, pa.large_string())
    offsets = np.frombuffer(texts.buffers()[1], np.int64)[texts.offset : texts.offset + len(texts) + 1]
    return _md5_digests(texts.buffers()[2], offsets[:-1], offsets[1:])


def _md5_digests(data: Any, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, pa.StringArray]:
    """md5_digests of each data[start:end], read from the buffer in place."""
    data = memoryview(data or b"")
    raw = b"".join(md5(data[start:end]).digest() for start, end in zip(starts.tolist(), ends.tolist(), strict=True))
    hex_offsets = np.arange(0, 32 * (len(starts) + 1), 32, dtype=np.int32)
    hexes = pa.StringArray.from_buffers(len(starts), pa.py_buffer(hex_offsets), pa.py_buffer(raw.hex().encode()))
    return np.frombuffer(raw, "S16"), hexes


# Rows written with the unit separator between cells, as they are, one a line.
ROWS_AS_LINES = pacsv.WriteOptions(include_header=False, delimiter="\x1f", quoting_style="none")


def content_digests(
    batch: pa.RecordBatch | pa.Table, column_name: Callable[[str], str] = normal
) -> tuple[np.ndarray, pa.StringArray]:
    """md5_digests of each row's cells joined by \\x1f: the digest by which a correction is seen.

    pyarrow's CSV writer, unquoted, writes the same bytes a line per row, in two thirds
    of the time of the join (which reads a cell of each of some 270 columns per row).
    It refuses cells holding a quote, a line break or the separator: those batches are
    joined cell by cell.

    The cells are taken in the order of their columns' names, not the file's: an edition that
    publishes the same rows with its columns in another order changes none of them (it had marked
    every row changed, and rewritten it). `column_name` gives the name a column is ordered by: by
    default as written, case- and spacing-blind; a format that accepts other spellings of a column
    gives each of them the same name, so that a respelt column changes nothing either.
    """
    names = batch.schema.names
    batch = batch.select(sorted(range(len(names)), key=lambda column: column_name(names[column])))
    sink = pa.BufferOutputStream()
    try:
        pacsv.write_csv(batch, sink, ROWS_AS_LINES)
    except pa.ArrowInvalid:
        return md5_digests(pc.binary_join_element_wise(*batch.columns, "\x1f"))
    lines = sink.getvalue()
    ends = np.flatnonzero(np.frombuffer(lines, np.uint8) == ord("\n"))
    starts = np.concatenate([[0], ends[:-1] + 1])
    return _md5_digests(lines, starts, ends)


class SeenKeys:
    """The record identities of a file seen so far: 16-byte digests in a few sorted runs.

    16 MB hold a million rows' identities, where a Python set of them would take ten times that.
    A run is merged into the one before it once it is as large: each digest is then moved some
    ten times in a million rows, not once a batch (which took 1.9 s of a million-row import).
    A digest is held as two 64-bit numbers, its first and last 8 bytes, which numpy sorts and
    searches several times faster than 16-byte strings (see _equal_range).
    """

    def __init__(self) -> None:
        # (first halves, last halves, the file row of each), sorted by digest, oldest first;
        # equal digests in file order
        self.runs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, digests: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Remember these digests (in file order); for each, the times seen before and the first row it was on."""
        high, low = _halves(digests)
        order = np.lexsort((low, high))  # stable: equal digests stay in file order
        keys, key_rows = (high[order], low[order]), rows[order]
        positions = np.arange(len(order))
        starts_run = np.ones(len(order), bool)
        starts_run[1:] = (keys[0][1:] != keys[0][:-1]) | (keys[1][1:] != keys[1][:-1])
        run_start = np.maximum.accumulate(np.where(starts_run, positions, 0))
        before, first_row = positions - run_start, key_rows[run_start]
        seen = np.zeros(len(order), bool)
        for *run_keys, run_rows in self.runs:
            left, right = _equal_range(run_keys, keys)
            before += right - left
            # The oldest run that holds a digest holds its first row, first among its equals.
            first_here = (right > left) & ~seen
            first_row[first_here] = run_rows[left[first_here]]
            seen |= first_here
        self._keep(keys, key_rows)
        unsorted = np.empty_like(order)
        unsorted[order] = positions
        return before[unsorted], first_row[unsorted]

    def _keep(self, keys: tuple[np.ndarray, np.ndarray], rows: np.ndarray) -> None:
        while self.runs and len(self.runs[-1][2]) <= len(rows):
            *older_keys, older_rows = self.runs.pop()
            # Equal digests stay in file order: the newer go after the older.
            _, at = _equal_range(older_keys, keys)
            keys = (np.insert(older_keys[0], at, keys[0]), np.insert(older_keys[1], at, keys[1]))
            rows = np.insert(older_rows, at, rows)
        self.runs.append((*keys, rows))


def _halves(digests: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """16-byte digests as (first 8 bytes, last 8 bytes), each a big-endian number: their order is the bytes'."""
    halves = np.frombuffer(np.ascontiguousarray(digests, "S16").tobytes(), ">u8").astype(np.uint64)
    return halves[0::2], halves[1::2]


def _equal_range(run: Sequence[np.ndarray], keys: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Where each digest's equals are in a run sorted by (first half, last half): np.searchsorted's left and right.

    Searched by the first half; among the run's digests with that first half (almost always
    copies of one digest), by the last half. Distinct digests that share their first 8 bytes
    (about one chance in 40 million in a file of a million identities) are searched one by one.
    """
    (run_high, run_low), (high, low) = run, keys
    left = np.searchsorted(run_high, high, "left")
    # Most digests are not in the run: only those whose first half is look for where it ends.
    tied = np.flatnonzero(run_high[np.minimum(left, len(run_high) - 1)] == high) if len(run_high) else left[:0]
    end = left.copy()
    end[tied] = np.searchsorted(run_high, high[tied], "right")
    right = left.copy()
    first_low, last_low = run_low[left[tied]], run_low[end[tied] - 1]
    # One digest in the range: this one's equals are all of it or none, before it or after it.
    below, equal = last_low < low[tied], last_low == low[tied]
    left[tied[below]] = end[tied[below]]
    right[tied[below | equal]] = end[tied[below | equal]]
    for at in tied[first_low != last_low]:
        within = run_low[left[at] : end[at]]
        left[at], right[at] = (
            left[at] + np.searchsorted(within, low[at], "left"),
            left[at] + np.searchsorted(within, low[at], "right"),
        )
    return left, right


def source_keys(
    identity: pa.Array, numbers: np.ndarray, seen: SeenKeys, problems: Problems, numbered: bool
) -> tuple[pa.Array, np.ndarray]:
    """Each row's source key, and its digest.

    Rows without a reference are told apart by when, where and whom, then by their order in
    the file: the nth row with one identity has key "…-n" in every edition. A reference (the
    canonical CSV) must not repeat.
    """
    raw, hexes = md5_digests(identity)
    before, first = seen.add(raw, numbers)
    if not numbered:
        texts = identity.to_pylist() if before.any() else []
        for i in np.flatnonzero(before):
            if texts[i]:  # an empty key is reported as empty, once, not as a repeat too
                problems.add(numbers[i], "source_key", texts[i], f"repeats row {first[i]}; each record appears once")
        return identity, raw
    keys = pc.binary_join_element_wise(hexes, pc.cast(pa.array(before + 1), pa.string()), "-")
    # Held reports are known by the digest of their key's text, whatever format wrote them.
    return keys, md5_digests(keys)[0]


class RowNumbers:
    """The problems of some rows of a batch, converted on their own, under their file row numbers."""

    def __init__(self, problems: Problems, numbers: np.ndarray) -> None:
        self.problems, self.numbers = problems, numbers

    def add(self, index: int, column: str, value: Any, phrase: str) -> None:
        self.problems.add(int(self.numbers[index]), column, value, phrase)


# A re-import of a million rows looked up 125,000 of them (an eighth) before reading them all, and
# took 1.08 times its first import instead of under half: look-ups by key cost far more a report.
LOOKUPS_AT_MOST = 25_000


class HeldReports:
    """A force's reports as an import matches rows against them, sorted by the digest of their source key.

    Every report an import wrote has a source key: these are all the reports an edition may withdraw. A
    file small beside what the force holds reads only the reports its rows name, batch by batch, through
    the index that keeps a source key unique in its force, and at the end those of its format in the
    years it covers (see `withdrawn`). Once the rows looked up pass a sixteenth of what the force holds,
    or LOOKUPS_AT_MOST, looking each up would cost more than reading them all: the force's reports are
    then read at once (51 bytes a report in numpy arrays) and matched in memory.
    Read with the force locked.
    """

    def __init__(self, force_id: str, source_format: str, holds: int | None = None) -> None:
        self.force_id, self.source_format, self.holds = force_id, source_format, holds or 0
        # Rows to look up one by one before reading everything; 0 reads everything at once.
        self.lookups_left = min(holds // 16, LOOKUPS_AT_MOST) if holds else 0
        self.held_again: list[np.ndarray] = []  # by key: the ids of the reports the file held again
        # By key, what to wait for before a look-up: the rows the import's connection is still
        # copying in another thread (InBackground.wait); one connection runs one statement at a time.
        self.settle: Callable[[], None] | None = None
        if self.lookups_left:
            self._keep(_empty_parts())
        else:
            self._read_all()

    @property
    def by_key(self) -> bool:
        return self.lookups_left > 0

    def _read_all(self) -> None:
        read = _held_by_copy if connection.vendor == "postgresql" else _held_by_rows
        self._keep(read(self.force_id, self.source_format))
        self.matched = np.isin(self.ids, np.concatenate([np.empty(0, np.int64), *self.held_again]))
        self.held_again = []
        self.lookups_left = 0

    def _keep(self, parts: dict[str, list[np.ndarray]]) -> None:
        keys = _joined(parts["key"], "S16")
        order = np.argsort(keys)
        self.keys = keys[order]
        self.contents, self.ids, self.current, self.days, self.of_format = (
            _joined(parts[name], held)[order] for name, _, held in HELD_FIELDS[1:]
        )
        self.matched = np.zeros(len(self.keys), bool)  # held again by the file, as they are or corrected

    def match(
        self, keys: pa.Array, key_digests: np.ndarray, content_digests: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each row, from its key text and its key and content digests: whether a report has its key,
        that report's place among these (0 where none), and whether it is current and unchanged.

        By key, the places are among the reports this batch's keys name, until the next batch."""
        if self.by_key:
            if len(keys) < self.lookups_left:
                self.lookups_left -= len(keys)
                if self.settle is not None:
                    self.settle()
                self._keep(_held_by_keys(self.force_id, self.source_format, keys.unique().to_pylist()))
            else:
                self._read_all()
        n = len(key_digests)
        if not len(self.keys):
            return np.zeros(n, bool), np.zeros(n, np.int64), np.zeros(n, bool)
        at = np.minimum(np.searchsorted(self.keys, key_digests), len(self.keys) - 1)
        found = self.keys[at] == key_digests
        unchanged = found & self.current[at] & (self.contents[at] == content_digests)
        return found, at, unchanged

    def hold_again(self, at: np.ndarray) -> None:
        """The reports at these places are held by the file (as they are or corrected): not withdrawn."""
        if self.by_key:
            self.held_again.append(self.ids[at])
        else:
            self.matched[at] = True

    def withdrawn(self, start: datetime.date, end: datetime.date) -> np.ndarray:
        """The ids of the current reports of this format from `start` to `end` the file did not hold."""
        if not self.by_key:
            in_years = (self.days >= np.datetime64(start)) & (self.days <= np.datetime64(end))
            return self.ids[self.current & self.of_format & in_years & ~self.matched]
        candidates = _held_of_format(self.force_id, self.source_format, start, end)
        return candidates[~np.isin(candidates, np.concatenate([np.empty(0, np.int64), *self.held_again]))]


def _empty_parts() -> dict[str, list[np.ndarray]]:
    return {name: [] for name, _, _ in HELD_FIELDS}


def _held_by_keys(force_id: str, source_format: str, keys: list[str]) -> dict[str, list[np.ndarray]]:
    """The held reports of these source keys (texts), from the index of the source key unique in its force."""
    parts = _empty_parts()
    with connection.cursor() as cursor:
        # One array parameter on PostgreSQL; SQLite takes a few hundred parameters at a time.
        size = len(keys) if connection.vendor == "postgresql" else 500
        for start in range(0, len(keys), size):
            cursor.execute(*held_by_keys_query(force_id, source_format, keys[start : start + size]))
            _take_rows(parts, cursor.fetchall())
    return parts


def held_by_keys_query(force_id: str, source_format: str, keys: list[str]) -> tuple[str, list[Any]]:
    """The query of _held_by_keys, with its parameters."""
    query, params = _held_query(("source_key", "content_hash")), [force_id, source_format, force_id]
    if connection.vendor != "postgresql":
        return f"{query} AND source_key IN ({', '.join(['%s'] * len(keys))})", [*params, *keys]
    # The force and the key joined, as the hash index of their uniqueness holds them.
    joined = SOURCE_KEY_UNIQUE.joined_sql(UseOfForceReport, connection.schema_editor())
    return f"{query} AND {joined} = ANY(%s)", [*params, [f"{force_id} {key}" for key in keys]]


def _held_of_format(force_id: str, source_format: str, start: datetime.date, end: datetime.date) -> np.ndarray:
    """The ids of the force's current reports of this format from `start` to `end` (numpy), as they were before
    the running import (whose batch has not succeeded yet) added any."""
    succeeded = ImportBatch.objects.filter(
        force=force_id, source_format=source_format, status=ImportBatch.Status.SUCCEEDED
    )
    batches = list(succeeded.values_list("pk", flat=True))
    if not batches:
        return np.empty(0, np.int64)
    ids = (
        UseOfForceReport.objects.current()
        .filter(force=force_id, occurred_on__range=(start, end), import_batch__in=batches)
        .exclude(source_key="")
        .values_list("pk", flat=True)
        .order_by()
    )
    return np.fromiter(ids.iterator(chunk_size=50_000), np.int64)


# Each field of a held report: its name, how PostgreSQL's binary COPY sends it (big-endian; a date
# as days from 2000-01-01) and how it is held.
HELD_FIELDS: tuple[tuple[str, str, Any], ...] = (
    ("key", "S16", "S16"), ("content", "S16", "S16"), ("id", ">i8", np.int64), ("current", "?", bool),
    ("day", ">i4", "datetime64[D]"), ("of_format", "?", bool),
)  # fmt: skip


def _held_query(digests: tuple[str, str]) -> str:
    """The held reports' fields, in HELD_FIELDS order; its parameters: the force, the file's format, the force."""
    key, content = digests
    return (
        f"SELECT {key}, {content}, id, withdrawn_in_version IS NULL, occurred_on, "
        f"coalesce(import_batch_id IN (SELECT id FROM {ImportBatch._meta.db_table} "
        f"WHERE force_id = %s AND source_format = %s), false) "
        f"FROM {REPORT} WHERE force_id = %s AND source_key <> ''"
    )


def _held_by_rows(force_id: str, source_format: str) -> dict[str, list[np.ndarray]]:
    parts = _empty_parts()
    with connection.chunked_cursor() as cursor:
        cursor.execute(_held_query(("source_key", "content_hash")), [force_id, source_format, force_id])
        while rows := cursor.fetchmany(50_000):
            _take_rows(parts, rows)
    return parts


def _take_rows(parts: dict[str, list[np.ndarray]], rows: list[tuple]) -> None:
    """Add held reports fetched as rows (key texts, content digests in hex, …) to the parts."""
    if not rows:
        return
    key_texts, hashes, ids, current, days, of_format = zip(*rows, strict=True)
    parts["key"].append(md5_digests(pa.array(key_texts, pa.string()))[0])
    # A report written otherwise than by an import (the demo) has no content digest.
    parts["content"].append(np.frombuffer(bytes.fromhex("".join(h or "0" * 32 for h in hashes)), "S16"))
    for (name, _, held), values in zip(HELD_FIELDS[2:], (ids, current, days, of_format), strict=True):
        parts[name].append(np.array(values, held))


# A held report as PostgreSQL's binary COPY writes it: the number of fields, then each field's
# length and value. None is NULL, so every row has this one length.
HELD_ROW = np.dtype(
    [("fields", ">i2")]
    + [column for name, sent, _ in HELD_FIELDS for column in ((f"{name}_length", ">i4"), (name, sent))]
)
COPY_SIGNATURE, COPY_HEADER_BYTES, COPY_TRAILER = b"PGCOPY\n\xff\r\n\x00", 19, b"\xff\xff"
DAYS_1970_TO_2000 = 10_957


def _held_by_copy(force_id: str, source_format: str) -> dict[str, list[np.ndarray]]:
    """The held reports as PostgreSQL's binary COPY sends them, digests made by PostgreSQL.

    A million reports take 1.5–2.2 s, where fetching them as rows and digesting their keys here took 3.6 s.
    """
    held = _HeldRows()
    digests = ("decode(md5(source_key), 'hex')", "decode(coalesce(nullif(content_hash, ''), repeat('0', 32)), 'hex')")
    with connection.cursor() as cursor:
        query = cursor.mogrify(_held_query(digests), [force_id, source_format, force_id]).decode()
        cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT binary)", held, COPY_CHUNK_BYTES)
    held.finish()
    return held.parts


class _HeldRows:
    """Takes the binary COPY of held reports a few MB at a time (as a file psycopg2 writes to)."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.parts: dict[str, list[np.ndarray]] = {name: [] for name, _, _ in HELD_FIELDS}
        self.header_read = False

    def write(self, data: bytes) -> None:
        self.data += data
        if len(self.data) >= 4 << 20:
            self._take_rows()

    def _take_rows(self) -> None:
        if not self.header_read:
            if bytes(self.data[: len(COPY_SIGNATURE)]) != COPY_SIGNATURE:
                raise ValueError("PostgreSQL's binary COPY began with an unknown signature.")
            del self.data[:COPY_HEADER_BYTES]
            self.header_read = True
        whole = len(self.data) // HELD_ROW.itemsize * HELD_ROW.itemsize
        rows = np.frombuffer(bytes(self.data[:whole]), HELD_ROW)
        del self.data[:whole]
        lengths = [(name + "_length", np.dtype(sent).itemsize) for name, sent, _ in HELD_FIELDS]
        if (rows["fields"] != len(HELD_FIELDS)).any() or any((rows[name] != n).any() for name, n in lengths):
            raise ValueError("PostgreSQL's binary COPY of the held reports is not laid out as expected.")
        # Copies in the types held, so that the rows as sent (72 bytes each) are let go of.
        days = rows["day"].astype(np.int64) + DAYS_1970_TO_2000
        for name, _, held in HELD_FIELDS:
            self.parts[name].append((days if name == "day" else rows[name]).astype(held))

    def finish(self) -> None:
        self._take_rows()
        if bytes(self.data) != COPY_TRAILER:
            raise ValueError("PostgreSQL's binary COPY of the held reports ended unexpectedly.")


def _joined(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
    """The parts as one array, letting go of them (a million reports' worth is held once, not twice)."""
    array = np.concatenate([np.empty(0, dtype), *parts])
    parts.clear()
    return array


def reports_subset(
    report: dict[str, pa.Array], ced_uses: pa.Table, keep: np.ndarray
) -> tuple[dict[str, pa.Array], dict[str, pa.Array], np.ndarray]:
    """The reports where `keep` is true, their CED uses, and each use's position among those reports."""
    reports = {name: pc.filter(array, pa.array(keep)) for name, array in report.items()}
    use_rows = ced_uses["row"].to_numpy(zero_copy_only=False)
    use_kept = keep[use_rows]
    uses = {name: pc.filter(ced_uses[name], pa.array(use_kept)) for name in ced_uses.column_names if name != "row"}
    positions = np.cumsum(keep) - 1
    return reports, uses, positions[use_rows[use_kept]]
