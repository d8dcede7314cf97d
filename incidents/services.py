import collections
import contextlib
import csv
import datetime
import hashlib
import io
import json
import logging
import math
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.mail import send_mail
from django.db import connection, connections, models, transaction
from django.db.models.functions import Cast, Concat, TruncMonth
from django.utils import timezone
from django.utils.text import slugify
from kombu.exceptions import OperationalError as KombuOperationalError

from forces.models import Area, CapabilityRecord, Force, Role
from forces.services import InputError
from incidents import queries, readers, recovery
from incidents.columns import Unrecognised
from incidents.models import (
    DISCHARGE_LEVELS,
    INCIDENT_MEASURES,
    NON_DISCHARGE_LEVELS,
    SUMMARY_MEASURES,
    Alert,
    CedLevel,
    CedUse,
    ImportBatch,
    MonthlySummary,
    QuarterlyReport,
    RetentionRun,
    UseOfForceReport,
)
from incidents.queries import months_back, period_start
from oversight.api import cell

try:  # CPython's own MD5: for texts this short, OpenSSL's set-up per text costs more than the hashing
    from _md5 import md5
except ImportError:  # a Python built without it
    md5 = hashlib.md5

logger = logging.getLogger(__name__)

TEXT_TYPES = {"CharField", "TextField", "SlugField", "JSONField"}
# psycopg2 sends COPY data in pieces of this size, taking the GIL for each. Given by position:
# Django's debug cursor (DEBUG on) passes copy_expert no keyword arguments.
COPY_CHUNK_BYTES = 1 << 20


def next_data_version(force):
    """The data version a new batch of this force gets."""
    latest = ImportBatch.objects.filter(force=force).aggregate(latest=models.Max("data_version"))["latest"]
    return (latest or 0) + 1


def reserve_ids(model, count, cursor=None):
    """`count` fresh primary keys for rows about to be bulk-written (call inside the transaction).

    `cursor` is the one to use, if not this thread's (imports write from a thread of their own).
    """
    table = model._meta.db_table
    with contextlib.nullcontext(cursor) if cursor else connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The sequence looked up once, not once an id (which took PostgreSQL 3 µs each).
            cursor.execute(
                "SELECT nextval((SELECT pg_get_serial_sequence(%s, 'id'))::regclass) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: the transaction holds the write lock, so nobody else takes these ids.
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + count))


def defaults_for_omitted(model, names):
    """{field name: value} for the columns a bulk write leaves out.

    Model defaults live in Python, not in the schema ("" for text columns without one, as
    Django does), so a bulk write must give them itself.
    """
    return {
        field.name: json.dumps(field.get_default()) if isinstance(field, models.JSONField) else field.get_default()
        for field in model._meta.concrete_fields
        if field.name not in names and not field.primary_key and (field.has_default() or not field.null)
    }


def bulk_insert(model, columns, rows, table=None):
    """Write rows (tuples in `columns` order, None for NULL) as fast as the backend allows.

    PostgreSQL gets one COPY per call; SQLite a prepared executemany. Rows bypass
    Model.save(), so callers give every derived column (e.g. highest_ced_level) itself;
    the database constraints still check each row. `table` writes to a staging copy instead.
    """
    table = table or model._meta.db_table
    omitted = defaults_for_omitted(model, columns)
    columns = [*columns, *omitted]
    defaults = tuple(omitted.values())
    rows = (row + defaults for row in map(tuple, rows)) if defaults else rows
    column_list = ", ".join(model._meta.get_field(name).column for name in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            buffer = io.StringIO()
            csv.writer(buffer).writerows(rows)
            buffer.seek(0)
            # csv writes None and "" alike as an empty field, which COPY reads as NULL;
            # FORCE_NOT_NULL makes it "" for the columns that cannot be NULL.
            not_null = [
                model._meta.get_field(name).column
                for name in columns
                if not model._meta.get_field(name).null
                and model._meta.get_field(name).get_internal_type() in TEXT_TYPES
            ]
            options = f", FORCE_NOT_NULL ({', '.join(not_null)})" if not_null else ""
            cursor.copy_expert(f"COPY {table} ({column_list}) FROM STDIN WITH (FORMAT csv{options})", buffer)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})", rows)


def delete_reports(reports):
    """Delete reports and their CED uses in SQL, without loading them (millions of rows)."""
    ids_sql, params = reports.values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {CedUse._meta.db_table} WHERE report_id IN ({ids_sql})", params)
        cursor.execute(f"DELETE FROM {UseOfForceReport._meta.db_table} WHERE id IN ({ids_sql})", params)


def copy_arrays(cursor, model, table, arrays):
    """Write pyarrow columns (keyed by model field name) to `table` through `cursor`, COPY on PostgreSQL.

    The CSV is made by pyarrow, not row by row in Python: a million rows take seconds.
    """
    statement, data = arrow_copy(model, table, arrays)
    if connection.vendor == "postgresql":
        cursor.copy_expert(statement, data, COPY_CHUNK_BYTES)
    else:
        cursor.executemany(statement, data)


def arrow_copy(model, table, arrays):
    """(statement, data) that write `arrays` to `table`: COPY and a CSV on PostgreSQL, else an INSERT and rows."""
    length = len(next(iter(arrays.values())))
    arrays = arrays | {name: pa.array([value] * length) for name, value in defaults_for_omitted(model, arrays).items()}
    names = list(arrays)
    columns = ", ".join(model._meta.get_field(name).column for name in names)
    if connection.vendor == "postgresql":
        # Booleans as 1 and 0, not as "true" and "false": the CSV of a report is half as long,
        # and PostgreSQL reads it in a tenth less time.
        values = [pc.cast(array, pa.uint8()) if pa.types.is_boolean(array.type) else array for array in arrays.values()]
        data = io.BytesIO()
        # Every text is quoted, which keeps "" apart from NULL, an unquoted empty field.
        options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
        pacsv.write_csv(pa.table(values, names=names), data, options)
        data.seek(0)
        return f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)", data
    values = [
        (pc.cast(array, pa.string()) if pa.types.is_date(array.type) else array).to_pylist()
        for array in arrays.values()
    ]
    placeholders = ", ".join(["%s"] * len(names))
    return f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", list(zip(*values, strict=True))


class InBackground:
    """Writes an import's rows in order from two threads, on this transaction's connection (PostgreSQL).

    One thread makes each piece's CSV while the other copies the one before it, so PostgreSQL
    copies without waiting and Python converts the next batch meanwhile. At most `depth` pieces
    wait, which bounds memory; an error in either thread surfaces at the next call. Elsewhere
    (SQLite) each piece is written at once, in this thread.
    """

    def __init__(self, depth=32):
        self.raw = connection.connection if connection.vendor == "postgresql" else None
        self.errors = connection.wrap_database_errors  # this thread's connection's, used from the other
        self.csv_maker = ThreadPoolExecutor(max_workers=1) if self.raw else None
        self.copier = ThreadPoolExecutor(max_workers=1) if self.raw else None
        self.pending = collections.deque()
        self.depth = depth

    def copy(self, model, table, arrays):
        """copy_arrays(…, model, table, arrays), now or in the threads."""
        if self.raw is None:
            with connection.cursor() as cursor:
                return copy_arrays(cursor, model, table, arrays)
        made = self.csv_maker.submit(arrow_copy, model, table, arrays)
        self._queue(self._copy, made)

    def __call__(self, work, *args):
        """work(cursor, *args), now or in the copying thread, after what is queued before it."""
        if self.raw is None:
            with connection.cursor() as cursor:
                return work(cursor, *args)
        self._queue(self._run, work, *args)

    def _queue(self, *call):
        self.pending.append(self.copier.submit(*call))
        while len(self.pending) > self.depth:
            self.pending.popleft().result()

    def _copy(self, made):
        statement, data = made.result()
        with self.errors, self.raw.cursor() as cursor:
            cursor.copy_expert(statement, data, COPY_CHUNK_BYTES)

    def _run(self, work, *args):
        # Django's own error classes, and its note that the connection failed: a dropped connection
        # is then replaced before the batch records the failure (see _record_failure).
        with self.errors, self.raw.cursor() as cursor:
            return work(cursor, *args)

    def wait(self):
        """Wait for all the work; raise the first error."""
        while self.pending:
            self.pending.popleft().result()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        for pool in (self.copier, self.csv_maker):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def id_source():
    """A cursor to reserve_ids with while the transaction's connection is busy copying (PostgreSQL).

    A sequence is outside transactions, so ids taken on a connection of their own are as much
    the import's; an import that fails leaves a gap, as it would anyway. On SQLite: None, the
    transaction's own connection.
    """
    if connection.vendor != "postgresql":
        yield None
        return
    own = connections.create_connection(connection.alias)
    try:
        with own.cursor() as cursor:
            yield cursor
    finally:
        own.close()


# --- imports ----------------------------------------------------------------------------

# Changed reports and their CED uses, staged; the reports an edition withdraws.
STAGING, STAGING_CED, WITHDRAWN = "import_staging", "import_staging_ced", "import_withdrawn"
REPORT, CED_USE = UseOfForceReport._meta.db_table, CedUse._meta.db_table
# Met boroughs whose name differs from the ONS name of the area.
AREA_ALIASES = {"city of westminster": "westminster"}
OTHER_AREAS = {"heathrow", "out of force"}
AREA_KINDS = {Area.Kind.BOROUGH: "boroughs", Area.Kind.CSP: "community safety partnerships"}
ANALYZE_AFTER_ROWS = 10_000
UNEXPECTED = "The import stopped on an unexpected error."


class ImportFailed(Exception):
    """The file had problems and nothing was written; the batch holds them."""

    def __init__(self, batch):
        super().__init__(f"{batch.source_name}: {batch.rows_rejected} problem(s); nothing was imported.")
        self.batch = batch


def import_reports(
    path, force, *, user=None, skip_invalid=False, strict=False, new_areas=False, progress=None, batch=None
):
    """Import a use-of-force file for one force as a new data version; all or nothing.

    Returns the succeeded ImportBatch (None when another importer took `batch` over). Raises
    InputError for a file that is not a use-of-force table, and ImportFailed (batch saved as
    failed, with its problems) for rows with problems unless `skip_invalid`, which writes the
    good rows and a reject file beside the input. `batch` is a pending batch made earlier (by an
    upload), used instead of a new one; its data version is given when it runs.

    A categorical value outside its vocabulary is kept on the record as published, counted
    as not stated and listed in the batch's `unrecognised`; with `strict` it is a problem.
    A file whose areas are mostly unknown to a force that has areas is refused as another
    force's (InputError), unless `new_areas`.
    """
    problems = readers.Problems()
    readers.use_lean_memory_pool()
    try:
        table = readers.open_table(path)
        file_format = format_of(table)
        with transaction.atomic():
            Force.objects.select_for_update().get(pk=force.pk)  # one import per force at a time
            if batch is None:
                batch = ImportBatch(force=force, uploaded_by=user, source_name=table.path.name)
            elif batch.pk is not None and not recovery.still_ours(batch):
                # Taken over while this waited for its force: the other importer does it.
                logger.warning("Import batch %s was taken over by another importer; leaving it to it.", batch.pk)
                return None
            batch.data_version = next_data_version(force)
            batch.source_format, batch.status = file_format.FORMAT, ImportBatch.Status.RUNNING
            batch.lease_until = recovery.new_lease()
            batch.save()
        with transaction.atomic():
            Force.objects.select_for_update().get(pk=force.pk)
            progress = recovery.LeaseKeeper(batch, progress)
            options = ImportOptions(skip_invalid, None if strict else Unrecognised(), new_areas)
            _stage_and_apply(table, file_format, force, batch, problems, options, progress)
            if problems.count and not skip_invalid:
                raise ImportFailed(batch)
    except Exception as error:
        if batch is not None and batch.pk is not None:
            _record_failure(batch, error, problems)
        raise
    batch.status, batch.errors, batch.finished_at = ImportBatch.Status.SUCCEEDED, problems.summary(), timezone.now()
    batch.save()
    queue_summary_rebuild(force.pk, batch.summary_cells)
    return batch


def _record_failure(batch, error, problems):
    """Nothing was written; the batch says why, for the upload page, the API and the admin."""
    # A connection the database dropped (a restart, a failover) is replaced: the batch must not be
    # left "running" for ever by the failure it is to record.
    if connection.errors_occurred and not connection.is_usable():
        connection.close()
    batch.status, batch.finished_at = ImportBatch.Status.FAILED, timezone.now()
    batch.rows_added = batch.rows_changed = batch.rows_unchanged = batch.rows_withdrawn = 0
    if isinstance(error, ImportFailed):
        batch.errors, batch.rows_rejected = problems.summary(), problems.count
    else:
        batch.errors = [str(error) if isinstance(error, InputError) else UNEXPECTED]
    batch.save()


def format_of(table):
    """The format module that reads this table: the Met export or the canonical CSV."""
    from incidents import canonical, met_format

    for file_format in (canonical, met_format):
        if file_format.is_header(table.header):
            return file_format
    shown = ", ".join(table.header[:6]) + (", …" if len(table.header) > 6 else "")
    raise InputError(
        f"{table.path.name}: not a use-of-force export: neither the Met format (IncidentDate, …) nor the canonical "
        f"CSV (source_key, occurred_on, …); its columns: {shown}."
    )


@dataclass
class ImportOptions:
    skip_invalid: bool
    unrecognised: Unrecognised | None  # None: values outside the vocabularies are problems (strict)
    new_areas: bool


def _stage_and_apply(table, file_format, force, batch, problems, options, progress):
    """Read the file batch by batch; add new reports straight away, stage changed ones, count unchanged ones.

    Each row is matched in Python to the report it revises, by its source key, against the
    force's reports held in memory (HeldReports): an unchanged row is not even converted, a
    new one is written to the reports table at once, in the background, while the next batch
    converts. Changed reports are corrected together at the end.
    """
    unknown = sorted((name for name in table.header if not file_format.is_known(name)), key=str.lower)
    if unknown:
        batch.notes.append(f"Ignored {len(unknown)} column(s) the product does not know: {', '.join(unknown)}.")
    skip_invalid, unrecognised = options.skip_invalid, options.unrecognised
    area_ids = AreaFinder(force, batch)
    rejects = RejectFile(table) if skip_invalid else None
    _create_import_tables()
    held, seen, applied = HeldReports(force.pk, file_format.FORMAT), SeenKeys(), Applied()
    numbered = getattr(file_format, "NUMBERED_IDENTITY", False)
    with InBackground() as database, id_source() as ids_cursor:
        for first_row, rows in table.batches():
            numbers = np.arange(first_row, first_row + rows.num_rows)
            keys, key_digests = _source_keys(file_format.identity(rows), numbers, seen, problems, numbered)
            contents, content_hashes = content_digests(rows)
            found, at, unchanged = held.match(key_digests, contents)
            applied.revises |= bool(found.any())
            convert = ~unchanged
            to_convert = pa.array(convert)
            if convert.any():
                part, part_numbers = rows.filter(to_convert), numbers[convert]
                errors = RowNumbers(problems, part_numbers)
                if unrecognised is not None:
                    unrecognised.start_batch()
                report, ced_uses = file_format.convert(part, 0, errors, area_ids, force.pk, unrecognised)
            bad = problems.take_batch()
            batch.rows_read += rows.num_rows
            if rejects is not None and bad:
                rejects.write(rows, first_row, bad)
            if progress:
                progress(rows.num_rows)
            if problems.count and not skip_invalid:
                continue  # keep reading to count every problem; nothing will be written
            held.matched[at[unchanged]] = True
            applied.unchanged += int(unchanged.sum())
            applied.cover(held.days[at[unchanged]])
            if not convert.any():
                continue
            good = ~np.isin(part_numbers, list(bad))
            if unrecognised is not None:
                unrecognised.count(good)
            report |= {
                "force": pa.array([force.pk] * len(part_numbers)),
                "import_batch": pa.array([batch.pk] * len(part_numbers), pa.int64()),
                "data_version": pa.array([batch.data_version] * len(part_numbers), pa.int64()),
                "source_row": pa.array(part_numbers, pa.int64()),
                "source_key": pc.filter(keys, to_convert),
                "content_hash": pc.filter(content_hashes, to_convert),
            }
            applied.note(report, good)
            added, changed = good & ~found[convert], good & found[convert]
            applied.added += int(added.sum())
            changed_at = at[convert][changed]
            held.matched[changed_at] = True
            applied.changed += len(changed_at)
            if added.any():
                reports = _subset(report, ced_uses, added)
                ids = np.array(reserve_ids(UseOfForceReport, int(added.sum()), ids_cursor), np.int64)
                _write_reports(database, (REPORT, CED_USE), *reports, ids)
            if changed.any():
                reports = _subset(report, ced_uses, changed)
                _write_reports(database, (STAGING, STAGING_CED), *reports, held.ids[changed_at])
        database(_apply_changes, applied)
        database.wait()
    if rejects is not None:
        rejects.close()
        if problems.count:
            batch.notes.append(
                f"{problems.count} problem(s) in {rejects.rows} row(s); those rows are in {rejects.path.name}."
            )
    batch.rows_rejected = rejects.rows if rejects is not None else problems.count
    if batch.rows_read == 0:
        raise InputError(f"{table.path.name}: the file has a header but no rows.")
    # A file that revises the force's own reports is the force's, whatever its areas.
    if not options.new_areas and not applied.revises:
        area_ids.check_belongs(table.path.name)
    if unrecognised is not None:
        batch.unrecognised, notes = unrecognised.report()
        batch.notes += notes
    if not (problems.count and not skip_invalid):
        _withdraw_and_count(batch, applied, held)


def _create_import_tables():
    with connection.cursor() as cursor:
        for name, model in ((STAGING, UseOfForceReport), (STAGING_CED, CedUse)):
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
            cursor.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {model._meta.db_table} WHERE 1 = 0")
        cursor.execute(f"DROP TABLE IF EXISTS {WITHDRAWN}")
        cursor.execute(f"CREATE TEMP TABLE {WITHDRAWN} (report_id bigint)")


def md5_digests(texts):
    """The MD5 digest of each text of a pyarrow string array: (16-byte numpy values, hex pyarrow strings)."""
    texts = pc.cast(texts, pa.large_string())
    offsets = np.frombuffer(texts.buffers()[1], np.int64)[texts.offset : texts.offset + len(texts) + 1]
    return _md5_digests(texts.buffers()[2], offsets[:-1], offsets[1:])


def _md5_digests(data, starts, ends):
    """md5_digests of each data[start:end], read from the buffer in place."""
    data = memoryview(data or b"")
    raw = b"".join(md5(data[start:end]).digest() for start, end in zip(starts.tolist(), ends.tolist(), strict=True))
    hex_offsets = np.arange(0, 32 * (len(starts) + 1), 32, dtype=np.int32)
    hexes = pa.StringArray.from_buffers(len(starts), pa.py_buffer(hex_offsets), pa.py_buffer(raw.hex().encode()))
    return np.frombuffer(raw, "S16"), hexes


# Rows written with the unit separator between cells, as they are, one a line.
ROWS_AS_LINES = pacsv.WriteOptions(include_header=False, delimiter="\x1f", quoting_style="none")


def content_digests(batch):
    """md5_digests of each row's cells joined by \\x1f: the digest by which a correction is seen.

    pyarrow's CSV writer, unquoted, writes the same bytes a line per row, in two thirds
    of the time of the join (which reads a cell of each of some 270 columns per row).
    It refuses cells holding a quote, a line break or the separator: those batches are
    joined cell by cell.
    """
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
    """

    def __init__(self):
        self.runs = []  # (sorted digests, the file row of each), oldest first; equal digests in file order

    def add(self, digests, rows):
        """Remember these digests (in file order); for each, the times seen before and the first row it was on."""
        order = np.argsort(digests, kind="stable")
        keys, key_rows = digests[order], rows[order]
        positions = np.arange(len(keys))
        starts_run = np.ones(len(keys), bool)
        starts_run[1:] = keys[1:] != keys[:-1]
        run_start = np.maximum.accumulate(np.where(starts_run, positions, 0))
        before, first_row = positions - run_start, key_rows[run_start]
        seen = np.zeros(len(keys), bool)
        for run_keys, run_rows in self.runs:
            left = np.searchsorted(run_keys, keys, "left")
            right = np.searchsorted(run_keys, keys, "right")
            before += right - left
            # The oldest run that holds a digest holds its first row, first among its equals.
            first_here = (right > left) & ~seen
            first_row[first_here] = run_rows[left[first_here]]
            seen |= first_here
        self._keep(keys, key_rows)
        unsorted = np.empty_like(order)
        unsorted[order] = positions
        return before[unsorted], first_row[unsorted]

    def _keep(self, keys, rows):
        while self.runs and len(self.runs[-1][0]) <= len(keys):
            older_keys, older_rows = self.runs.pop()
            # Equal digests stay in file order: the newer go after the older.
            at = np.searchsorted(older_keys, keys, "right")
            keys, rows = np.insert(older_keys, at, keys), np.insert(older_rows, at, rows)
        self.runs.append((keys, rows))


def _source_keys(identity, numbers, seen, problems, numbered):
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

    def __init__(self, problems, numbers):
        self.problems, self.numbers = problems, numbers

    def add(self, index, column, value, phrase):
        self.problems.add(int(self.numbers[index]), column, value, phrase)


class HeldReports:
    """A force's reports as an import matches rows against them, sorted by the digest of their source key.

    51 bytes a report in numpy arrays; read once per import, with the force locked. Every report
    an import wrote has a source key: these are all the reports an edition may withdraw.
    """

    def __init__(self, force_id, source_format):
        read = _held_by_copy if connection.vendor == "postgresql" else _held_by_rows
        parts = read(force_id, source_format)  # {field: its arrays}
        self.keys = _joined(parts["key"], "S16")
        order = np.argsort(self.keys)
        self.keys = self.keys[order]
        self.contents, self.ids, self.current, self.days, self.of_format = (
            _joined(parts[name], held)[order] for name, _, held in HELD_FIELDS[1:]
        )
        self.matched = np.zeros(len(self.keys), bool)  # held again by the file, as they are or corrected

    def match(self, key_digests, content_digests):
        """For each row, from its key and content digests: whether a report has its key, that
        report's place among these (0 where none), and whether it is current and unchanged."""
        n = len(key_digests)
        if not len(self.keys):
            return np.zeros(n, bool), np.zeros(n, np.int64), np.zeros(n, bool)
        at = np.minimum(np.searchsorted(self.keys, key_digests), len(self.keys) - 1)
        found = self.keys[at] == key_digests
        unchanged = found & self.current[at] & (self.contents[at] == content_digests)
        return found, at, unchanged

    def withdrawn(self, start, end):
        """The ids of the current reports of this format from `start` to `end` the file did not hold."""
        in_years = (self.days >= np.datetime64(start)) & (self.days <= np.datetime64(end))
        return self.ids[self.current & self.of_format & in_years & ~self.matched]


# Each field of a held report: its name, how PostgreSQL's binary COPY sends it (big-endian; a date
# as days from 2000-01-01) and how it is held.
HELD_FIELDS = (
    ("key", "S16", "S16"), ("content", "S16", "S16"), ("id", ">i8", np.int64), ("current", "?", bool),
    ("day", ">i4", "datetime64[D]"), ("of_format", "?", bool),
)  # fmt: skip


def _held_query(digests):
    """The held reports' fields, in HELD_FIELDS order; its parameters: the force, the file's format, the force."""
    key, content = digests
    return (
        f"SELECT {key}, {content}, id, withdrawn_in_version IS NULL, occurred_on, "
        f"coalesce(import_batch_id IN (SELECT id FROM {ImportBatch._meta.db_table} "
        f"WHERE force_id = %s AND source_format = %s), false) "
        f"FROM {REPORT} WHERE force_id = %s AND source_key <> ''"
    )


def _held_by_rows(force_id, source_format):
    parts = {name: [] for name, _, _ in HELD_FIELDS}
    with connection.chunked_cursor() as cursor:
        cursor.execute(_held_query(("source_key", "content_hash")), [force_id, source_format, force_id])
        while rows := cursor.fetchmany(50_000):
            key_texts, hashes, ids, current, days, of_format = zip(*rows, strict=True)
            parts["key"].append(md5_digests(pa.array(key_texts, pa.string()))[0])
            # A report written otherwise than by an import (the demo) has no content digest.
            parts["content"].append(np.frombuffer(bytes.fromhex("".join(h or "0" * 32 for h in hashes)), "S16"))
            for (name, _, held), values in zip(HELD_FIELDS[2:], (ids, current, days, of_format), strict=True):
                parts[name].append(np.array(values, held))
    return parts


# A held report as PostgreSQL's binary COPY writes it: the number of fields, then each field's
# length and value. None is NULL, so every row has this one length.
HELD_ROW = np.dtype(
    [("fields", ">i2")]
    + [column for name, sent, _ in HELD_FIELDS for column in ((f"{name}_length", ">i4"), (name, sent))]
)
COPY_SIGNATURE, COPY_HEADER_BYTES, COPY_TRAILER = b"PGCOPY\n\xff\r\n\x00", 19, b"\xff\xff"
DAYS_1970_TO_2000 = 10_957


def _held_by_copy(force_id, source_format):
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

    def __init__(self):
        self.data = bytearray()
        self.parts = {name: [] for name, _, _ in HELD_FIELDS}
        self.header_read = False

    def write(self, data):
        self.data += data
        if len(self.data) >= 4 << 20:
            self._take_rows()

    def _take_rows(self):
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

    def finish(self):
        self._take_rows()
        if bytes(self.data) != COPY_TRAILER:
            raise ValueError("PostgreSQL's binary COPY of the held reports ended unexpectedly.")


def _joined(parts, dtype):
    """The parts as one array, letting go of them (a million reports' worth is held once, not twice)."""
    array = np.concatenate([np.empty(0, dtype), *parts])
    parts.clear()
    return array


def _subset(report, ced_uses, keep):
    """The reports where `keep` is true, their CED uses, and each use's position among those reports."""
    reports = {name: pc.filter(array, pa.array(keep)) for name, array in report.items()}
    use_rows = ced_uses["row"].to_numpy(zero_copy_only=False)
    use_kept = keep[use_rows]
    uses = {name: pc.filter(ced_uses[name], pa.array(use_kept)) for name in ced_uses.column_names if name != "row"}
    positions = np.cumsum(keep) - 1
    return reports, uses, positions[use_rows[use_kept]]


def _write_reports(database, tables, reports, uses, use_rows, ids):
    """Write reports under these ids, and their CED uses, to these tables (reports', uses')."""
    reports["id"], uses["report"] = pa.array(ids), pa.array(ids[use_rows])
    database.copy(UseOfForceReport, tables[0], reports)
    if len(use_rows):
        database.copy(CedUse, tables[1], uses)


@dataclass
class Applied:
    """What an import did, added up batch by batch."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    first: datetime.date | None = None  # the range of the dates of the rows the file holds
    last: datetime.date | None = None
    touched: set = field(default_factory=set)  # (area id, first of month) of reports added or changed
    revises: bool = False  # whether any row has the key of a report the force holds

    def note(self, report, good):
        """Remember where the converted rows fall: their months and areas, and their dates' range."""
        keep = pa.array(good)
        dates, areas = pc.filter(report["occurred_on"], keep), pc.filter(report["area"], keep)
        if not len(dates):
            return
        self.cover(dates.to_numpy(zero_copy_only=False))
        months = pc.floor_temporal(dates, unit="month")
        cells = pa.table({"area": areas, "month": months}).group_by(["area", "month"]).aggregate([])
        self.touched.update(zip(cells["area"].to_pylist(), cells["month"].to_pylist(), strict=True))

    def cover(self, days):
        """Widen the dates' range to take in these (numpy dates)."""
        if len(days):
            low, high = days.min().item(), days.max().item()
            self.first, self.last = min(self.first or low, low), max(self.last or high, high)


def _apply_changes(cursor, applied):
    """Correct the staged changed reports, in set-based SQL: their CED uses are replaced."""
    cursor.execute(f"SELECT COUNT(*) FROM {STAGING}")
    if not cursor.fetchone()[0]:
        return
    fields = [f for f in UseOfForceReport._meta.concrete_fields if f.name not in ("id", "withdrawn_in_version")]
    updated = [f.column for f in fields if f.name not in ("force", "source_key")]
    ced_columns = [f.column for f in CedUse._meta.concrete_fields if f.name != "id"]
    _analyze(cursor, STAGING, "id")
    cursor.execute(f"DELETE FROM {CED_USE} WHERE report_id IN (SELECT id FROM {STAGING})")
    # The summary cells to rebuild include where the changed reports were.
    cursor.execute(f"SELECT DISTINCT r.area_id, r.occurred_on FROM {REPORT} r JOIN {STAGING} s ON s.id = r.id")
    applied.touched.update(cursor.fetchall())
    assignments = ", ".join(f"{column} = s.{column}" for column in updated)
    cursor.execute(
        f"UPDATE {REPORT} SET {assignments}, withdrawn_in_version = NULL FROM {STAGING} s WHERE {REPORT}.id = s.id"
    )
    columns = ", ".join(ced_columns)
    cursor.execute(f"INSERT INTO {CED_USE} ({columns}) SELECT {columns} FROM {STAGING_CED}")


def _withdraw_and_count(batch, applied, held):
    """Withdraw what the edition no longer holds, within the financial years it covers; count it all.

    The reports to withdraw are found among those held, in memory: in SQL, an anti-join of the
    force's reports with those the file held took 2.4 s of a re-import of a million rows.
    """
    batch.rows_added, batch.rows_changed, batch.rows_unchanged = applied.added, applied.changed, applied.unchanged
    touched = set(applied.touched)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and batch.rows_added > ANALYZE_AFTER_ROWS:
            # The planner's statistics predate the rows just added: it would take the table
            # for nearly empty and plan later queries of it as quadratic nested loops.
            _analyze(cursor, REPORT, "force_id", "source_key", "occurred_on", "import_batch_id", "withdrawn_in_version")
        withdrawn = held.withdrawn(*financial_year_bounds(applied.first, applied.last)) if applied.first else []
        if len(withdrawn):
            _write_ids(cursor, WITHDRAWN, withdrawn)
            _analyze(cursor, WITHDRAWN, "report_id")
            in_withdrawn = f"id IN (SELECT report_id FROM {WITHDRAWN})"
            cursor.execute(f"UPDATE {REPORT} SET withdrawn_in_version = %s WHERE {in_withdrawn}", [batch.data_version])
            batch.rows_withdrawn = cursor.rowcount
            cursor.execute(f"SELECT DISTINCT area_id, occurred_on FROM {REPORT} WHERE {in_withdrawn}")
            touched.update(cursor.fetchall())
        batch.summary_cells = cells_of(touched)
        for name in (STAGING, STAGING_CED, WITHDRAWN):
            cursor.execute(f"DROP TABLE {name}")


def _write_ids(cursor, table, ids):
    if connection.vendor == "postgresql":
        # Written by pyarrow: a million ids as Python text would take some 70 MB more at once.
        data = io.BytesIO()
        pacsv.write_csv(pa.table({"report_id": ids}), data, pacsv.WriteOptions(include_header=False))
        data.seek(0)
        cursor.copy_expert(f"COPY {table} (report_id) FROM STDIN WITH (FORMAT csv)", data, COPY_CHUNK_BYTES)
    else:
        cursor.executemany(f"INSERT INTO {table} (report_id) VALUES (%s)", [(i,) for i in ids.tolist()])


def _analyze(cursor, table, *columns):
    """Give the planner statistics (autovacuum never analyses temporary tables).

    Without them PostgreSQL plans joins on a temporary table as if it were empty, and a
    million-row anti-join then takes hours.
    """
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {table} ({', '.join(columns)})")
    else:
        cursor.execute(f"ANALYZE {table}")


def financial_year_bounds(first, last):
    """1 April of the financial year holding `first` to 31 March of the one holding `last`."""
    first, last = (datetime.date.fromisoformat(str(d)[:10]) for d in (first, last))
    start_year = first.year if first.month >= 4 else first.year - 1
    end_year = last.year + 1 if last.month >= 4 else last.year
    return datetime.date(start_year, 4, 1), datetime.date(end_year, 3, 31)


class AreaFinder:
    """Maps area names or codes in a file to the force's areas, creating unknown ones for review."""

    def __init__(self, force, batch):
        self.force, self.batch = force, batch
        areas = Area.objects.filter(force=force)
        self.ids = {self.key(area.name): area.id for area in areas}
        self.codes = {area.code: area.id for area in areas}
        self.held = set(self.ids.values())  # the force's areas before the import
        self.seen = set()  # the ids of the areas the file names (but other areas: out of force, Heathrow)
        self.created = {}  # id → (name, code) of the areas the file made

    def by_code(self, codes, names):
        ids = []
        for code, name in zip(codes, names, strict=True):
            if code and code not in self.codes:
                self.codes[code] = self.by_name_for_code(code, name) or self.create(name or code, code)
            ids.append(self.codes.get(code))
        self.seen.update(area_id for area_id in set(ids) if area_id is not None)
        return ids

    def check_belongs(self, file_name):
        """Refuse a file most of whose areas the force, which has areas, does not know: another force's file.

        The sentence names the force whose areas they are, found by name or code.
        """
        named = self.seen - {self.ids[key] for key in OTHER_AREAS if key in self.ids}
        unknown = [self.created[area_id] for area_id in named if area_id in self.created]
        if not self.held or len(unknown) * 2 <= len(named):
            return
        others = Area.objects.exclude(force=self.force)
        keys = {self.key(name) for name, _ in unknown}
        codes = {code for _, code in unknown}
        matches = collections.Counter()
        kinds = {}
        for area in others.only("force_id", "name", "code", "kind"):
            if self.key(area.name) in keys or area.code in codes:
                matches[area.force_id] += 1
                kinds.setdefault(area.force_id, collections.Counter())[area.kind] += 1
        advice = (
            f"nothing was imported; if they are new areas of {self.force.pk}, import the file again allowing new "
            "areas (--new-areas)."
        )
        if not matches:
            raise InputError(
                f"{file_name}: {len(unknown)} of {len(named)} areas are not areas of {self.force.pk} (nor of any other "
                f"force); {advice}"
            )
        other, count = matches.most_common(1)[0]
        kind = AREA_KINDS.get(kinds[other].most_common(1)[0][0], "areas")
        raise InputError(
            f"{file_name}: {count} of {len(named)} areas are {kind} of {other}, not {self.force.pk}; {advice}"
        )

    def by_name_for_code(self, code, name):
        """The force's area of this name, when the file gives it a code the force does not use.

        Codes change when `import_areas` replaces a force's own codes with ONS ones, so a file
        exported before (or elsewhere) can name an area under its old code. The name decides;
        the area keeps its code, which only the ONS lookup sets.
        """
        area_id = self.ids.get(self.key(name)) if name else None
        if area_id is not None:
            held = next(held for held, held_id in self.codes.items() if held_id == area_id)
            self.batch.notes.append(
                f"Area code '{code}' is not one of the force's; its rows were counted in the force's area "
                f"'{name}', whose code is {held}."
            )
        return area_id

    @staticmethod
    def key(name):
        key = " ".join(name.replace("&", "and").split()).casefold()
        return AREA_ALIASES.get(key, key)

    def __call__(self, names):
        ids = [self.find(name) for name in names]
        self.seen.update(area_id for area_id in ids if area_id is not None)
        return ids

    def find(self, name):
        if not name:
            return None
        key = self.key(name)
        if key not in self.ids:
            kind = Area.Kind.OTHER if key in OTHER_AREAS else None
            self.create(name, self.free_code(f"{self.force.pk[:12]}-{slugify(name)}"), kind)
        return self.ids[key]

    def free_code(self, code):
        """`code` cut to the column's 20 characters, numbered if another area already holds it."""
        candidate, number = code[:20], 1
        while candidate in self.codes:
            number += 1
            candidate = f"{code[: 19 - len(str(number))].rstrip('-')}-{number}"
        return candidate

    def create(self, name, code, kind=None):
        kind = kind or (Area.Kind.BOROUGH if self.force.pk == "metropolitan" else Area.Kind.CSP)
        area = Area.objects.create(force=self.force, code=code, name=name, kind=kind, needs_review=True)
        self.batch.notes.append(f"Area '{name}' was not known and has been created; review it in the admin.")
        self.ids[self.key(name)] = self.codes[code] = area.id
        self.created[area.id] = (name, code)
        return area.id


class RejectFile:
    """The rows that had problems, with their reasons, beside the input file."""

    def __init__(self, table):
        self.path = table.path.with_name(f"{table.path.stem}.rejects.csv")
        self.handle = self.path.open("w", newline="", encoding="utf-8")
        self.writer = csv.writer(self.handle)
        # The file's own text goes back to the person who fixes it: no cell of it may run as a formula.
        self.writer.writerow(["row", "problems", *map(cell, table.header)])
        self.rows = 0

    def write(self, rows, first_row, bad):
        indexes = sorted(row - first_row for row in bad)
        values = [pc.take(column, pa.array(indexes)).to_pylist() for column in rows.columns]
        for position, index in enumerate(indexes):
            row = first_row + index
            self.writer.writerow([row, cell("; ".join(bad[row])), *(cell(column[position]) for column in values)])
        self.rows += len(indexes)

    def close(self):
        self.handle.close()


# --- summaries --------------------------------------------------------------------------------


def month_of(day):
    return day.replace(day=1)


def next_month(month):
    return months_back(month, -1)


def cells_of(pairs):
    """(area id or None, date) pairs → the sorted [area id, "YYYY-MM-01"] cells they fall in (JSON-ready)."""
    cells = {(area, month_of(datetime.date.fromisoformat(str(day)[:10])).isoformat()) for area, day in pairs}
    return sorted(map(list, cells), key=lambda cell: (cell[1], cell[0] is not None, cell[0] or 0))


def _in_cells(cells, date_field, area_field):
    """A filter matching the given cells: one term per month, naming that month's areas."""
    by_month = collections.defaultdict(set)
    for area, month in cells:
        by_month[datetime.date.fromisoformat(str(month))].add(area)
    condition = models.Q(pk__in=[])
    for month, areas in by_month.items():
        in_areas = models.Q(**{f"{area_field}__in": [a for a in areas if a is not None]})
        if None in areas:
            in_areas |= models.Q(**{f"{area_field}__isnull": True})
        if date_field == "month":
            condition |= models.Q(month=month) & in_areas
        else:
            condition |= models.Q(**{f"{date_field}__gte": month, f"{date_field}__lt": next_month(month)}) & in_areas
    return condition


def summary_aggregates():
    """{summary column: aggregate over reports} for every measure of a summary cell."""
    aggregates = {
        name: models.Count("pk", filter=condition) if condition else models.Count("pk")
        for name, (_, condition) in SUMMARY_MEASURES.items()
    }
    # Reports without an incident reference are each an incident of their own.
    aggregates["incidents"] = models.Count(
        "incident_reference", distinct=True, filter=~models.Q(incident_reference="")
    ) + models.Count("pk", filter=models.Q(incident_reference=""))
    return aggregates


def rebuild_summaries(*, force_ids=None, cells=None):
    """Rebuild monthly summary cells from the current reports; returns the number of cells written.

    `force_ids` None means every force; `cells` ([area id or None, "YYYY-MM-01"] pairs) limits
    the rebuild to those cells of one force, as after an import or an edit. One transaction:
    readers see the old cells or the new ones, never a half-built cell. The forces are locked
    first, in id order: two rebuilds of one force run one after the other (no double count,
    no lost update) and two rebuilds of different forces never deadlock.

    Months before record retention's horizon are never rebuilt: their reports were removed and
    their cells are all that is left of them (see apply_retention).
    """
    with transaction.atomic():
        locked = Force.objects.select_for_update().order_by("pk")
        if force_ids is not None:
            locked = locked.filter(pk__in=force_ids)
        force_ids = list(locked.values_list("pk", flat=True))
        if not force_ids:
            return 0
        versions = _latest_versions(force_ids)
        old = MonthlySummary.objects.filter(force__in=force_ids)
        reports = UseOfForceReport.objects.current().filter(force__in=force_ids)
        if frozen := queries.summaries_frozen_before():
            old, reports = old.filter(month__gte=frozen), reports.filter(occurred_on__gte=frozen)
            if cells is not None:
                cells = [cell for cell in cells if str(cell[1]) >= frozen.isoformat()]
        if cells is not None:  # [] rebuilds no cell: it brings the data version up to date
            old = old.filter(_in_cells(cells, "month", "area"))
            reports = reports.filter(_in_cells(cells, "occurred_on", "area"))
        old.delete()
        written = _insert_summaries(reports, versions) if cells != [] else 0
        # Every change since the cells were built has its own rebuild queued, so the cells not
        # rebuilt now (other cells, months kept by retention) are as right for the current
        # version as for theirs.
        MonthlySummary.objects.filter(force__in=force_ids).update(data_version=_version_by_force(versions))
        return written


def _latest_versions(force_ids):
    """{force id: its latest successful data version} of the forces that have one."""
    return dict(
        ImportBatch.objects.filter(force__in=force_ids, status=ImportBatch.Status.SUCCEEDED)
        .values("force")
        .annotate(version=models.Max("data_version"))
        .values_list("force", "version")
    )


def _version_by_force(versions):
    """The data version of a row's force: a CASE over the few forces rebuilt."""
    return models.Case(*(models.When(force=f, then=v) for f, v in versions.items()), default=0)


def _insert_summaries(reports, versions):
    """Write the summary cells of `reports`; returns the number of cells written.

    The GROUP BY runs as a plain SELECT, which PostgreSQL may spread over parallel workers
    (an INSERT … SELECT never is); its result is small, a row per area-month.
    """
    aggregates = summary_aggregates()
    rows = (
        reports.annotate(cell_month=TruncMonth("occurred_on"))
        .values("force", "area", "cell_month")
        .annotate(**aggregates)
        .values_list("force", "area", "cell_month", *aggregates)
        .order_by()
    )
    incidents = incident_counts(reports)
    built_at = timezone.now()
    cells = [
        MonthlySummary(
            force_id=force, area_id=area, month=month, data_version=versions.get(force, 0), built_at=built_at,
            **dict(zip(aggregates, counts, strict=True)), **incidents.get((force, area, str(month)[:10]), {}),
        )
        for force, area, month, *counts in rows
    ]  # fmt: skip
    MonthlySummary.objects.bulk_create(cells, batch_size=500)
    return len(cells)


def incident_counts(reports):
    """{(force, area, "YYYY-MM-01"): INCIDENT_MEASURES} of the Taser incidents among `reports`.

    Two steps: each incident of a cell at the highest level any of its reports used, then the
    incidents of each cell by that level. The inner step is the ORM's own SQL, so the cell
    filters of an incremental rebuild hold in it; only the outer count is written out here.
    """
    per_incident = (
        reports.filter(ced_used=True)
        .annotate(
            cell_month=TruncMonth("occurred_on"),
            # A report without an incident reference is an incident of its own.
            incident_key=models.Case(
                models.When(incident_reference="", then=Concat(models.Value("#"), Cast("pk", models.CharField()))),
                default="incident_reference",
            ),
        )
        .values("force", "area", "cell_month", "incident_key")
        .annotate(top=models.Max("highest_ced_level"))
        .order_by()
    )
    inner, params = per_incident.query.sql_with_params()
    levels = {f"incidents_level_{level.name.lower()}": [int(level)] for level in CedLevel}
    levels["incidents_discharge"] = [int(level) for level in DISCHARGE_LEVELS]
    levels["incidents_non_discharge"] = [int(level) for level in NON_DISCHARGE_LEVELS]
    counted = ", ".join(
        f"COUNT(*) FILTER (WHERE top IN ({', '.join(map(str, levels[name]))}))" if name in levels else "COUNT(*)"
        for name in INCIDENT_MEASURES
    )
    sql = f'SELECT "force", "area", "cell_month", {counted} FROM ({inner}) per_incident GROUP BY 1, 2, 3'
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {
            (force, area, str(month)[:10]): dict(zip(INCIDENT_MEASURES, counts, strict=True))
            for force, area, month, *counts in cursor.fetchall()
        }


def queue_summary_rebuild(force_id, cells=None):
    """Rebuild a force's summary cells (None: all) once the current transaction commits.

    A Celery task when a broker is configured, in-process otherwise, and in-process too when the
    broker does not answer: the change is committed, so its summaries must follow it now, not never.
    """
    transaction.on_commit(lambda: _send_rebuild(force_id, cells), robust=True)


def _send_rebuild(force_id, cells):
    from incidents.tasks import rebuild_summary_cells  # tasks import services; this runs after both load

    try:
        rebuild_summary_cells.delay(force_id, cells)
    except KombuOperationalError:
        logger.warning("The task queue did not answer: rebuilding %s's summaries here instead.", force_id)
        rebuild_summary_cells(force_id, cells)


def stale_forces():
    """Ids of the forces whose summaries do not reflect their current data version or reports.

    A force is stale when it has reports but no summaries, summaries but no reports, or cells
    older than its data version. Months kept by record retention have no reports by design.
    """
    versions = dict(
        ImportBatch.objects.filter(status=ImportBatch.Status.SUCCEEDED)
        .values("force")
        .annotate(version=models.Max("data_version"))
        .values_list("force", "version")
    )
    built = dict(
        MonthlySummary.objects.values("force")
        .annotate(version=models.Min("data_version"))
        .values_list("force", "version")
    )
    current = UseOfForceReport.objects.current().filter(force=models.OuterRef("pk"))
    summarised = MonthlySummary.objects.all()
    if frozen := queries.summaries_frozen_before():
        current, summarised = current.filter(occurred_on__gte=frozen), summarised.filter(month__gte=frozen)
    with_reports = set(Force.objects.filter(models.Exists(current)).values_list("pk", flat=True))
    live = set(summarised.values_list("force", flat=True).distinct())
    return sorted(
        force
        for force in with_reports | set(built)
        if (force in with_reports) != (force in live) or built.get(force, 0) < versions.get(force, 0)
    )


# --- record retention -------------------------------------------------------------------------


def retention_horizon(years, today=None):
    """The first day of the month `years` years before this one: reports before it are past retention.

    A whole month, so that each monthly summary is of reports that are either all kept or all removed.
    """
    return months_back((today or timezone.localdate()).replace(day=1), 12 * years)


def past_retention(horizon):
    """(reports to remove, reports kept) among those that occurred before `horizon`.

    A report a scrutiny panel sampled is kept while the panel's record of it is: its case,
    reviews and finding refer to it, and published findings are public records.
    """
    from scrutiny.models import SampledCase  # scrutiny's models import this app's

    older = UseOfForceReport.objects.filter(occurred_on__lt=horizon)
    sampled = models.Exists(SampledCase.objects.filter(report=models.OuterRef("pk")))
    return older.exclude(sampled), older.filter(sampled)


def apply_retention(*, years, today=None):
    """Remove the record-level data of reports that occurred more than `years` years ago, keeping
    the monthly summaries; returns the RetentionRun, or None when there was nothing to do.

    Removed: the reports (withdrawn ones too) and their CED uses, what the audit trail says of
    them, and uploaded files (with their reject files) of imports made before the horizon.
    The months before the horizon are first summarised once more from the reports as they
    stand, then kept as they are: rebuilds never touch them again. One transaction, with every
    force locked as a rebuild locks them: no import or rebuild runs half-way through it.
    """
    horizon = retention_horizon(years, today)
    with transaction.atomic():
        force_ids = list(Force.objects.select_for_update().order_by("pk").values_list("pk", flat=True))
        previous = queries.summaries_frozen_before()
        removed, kept = past_retention(horizon)
        report_count = removed.count()
        if report_count == 0 and previous is not None and previous >= horizon:
            return None
        # The months about to be kept for good, summarised as the reports now stand (a rebuild
        # queued for them may not have run yet).
        months = MonthlySummary.objects.filter(month__lt=horizon)
        reports = UseOfForceReport.objects.current().filter(occurred_on__lt=horizon)
        if previous is not None:
            months, reports = months.filter(month__gte=previous), reports.filter(occurred_on__gte=previous)
        months.delete()
        _insert_summaries(reports, _latest_versions(force_ids))
        run = RetentionRun(
            removed_before=max(horizon, previous or horizon), years=years, reports_removed=report_count,
            ced_uses_removed=CedUse.objects.filter(report__in=removed).count(), reports_kept=kept.count(),
        )  # fmt: skip
        run.audit_entries_removed = _remove_audit_entries(removed, horizon)
        delete_reports(removed)
        uploads = list(ImportBatch.objects.filter(created_at__date__lt=horizon).values_list("pk", flat=True))
        run.save()
    run.uploads_removed = _remove_uploads(uploads)
    if run.uploads_removed:
        run.save(update_fields=["uploads_removed"])
    return run


def _remove_audit_entries(removed, horizon):
    """Delete the audit entries about the reports being removed and their CED uses, and about reports
    (and their devices) deleted by hand earlier that occurred before the horizon; returns how many.

    Entries are few (records changed one at a time), so they are read and matched here.
    """
    from auditlog.models import LogEntry  # only retention deletes from the audit trail

    from oversight.triggers import RETENTION_SETTING

    kinds = ContentType.objects.get_for_models(UseOfForceReport, CedUse)
    report_type, device_type = kinds[UseOfForceReport], kinds[CedUse]
    entries = list(
        LogEntry.objects.filter(content_type__in=[report_type, device_type]).values_list(
            "pk", "content_type", "object_id", "additional_data"
        )
    )

    def report_of(content_type, object_id, data):
        return object_id if content_type == report_type.pk else (data or {}).get("report")

    named = {report_of(*entry[1:]) for entry in entries} - {None}
    going, existing = set(), set()
    for chunk in _chunks(sorted(named)):
        going |= set(removed.filter(pk__in=chunk).values_list("pk", flat=True))
        existing |= set(UseOfForceReport.objects.filter(pk__in=chunk).values_list("pk", flat=True))
    # Reports deleted by hand: their entries remember when they occurred.
    for _, content_type, object_id, data in entries:
        occurred_on = (data or {}).get("occurred_on", "9999")
        if content_type == report_type.pk and object_id not in existing and occurred_on < str(horizon):
            going.add(object_id)
    doomed = [pk for pk, *entry in entries if report_of(*entry) in going]
    if doomed:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"SET LOCAL {RETENTION_SETTING} = 'on'")
            for chunk in _chunks(doomed):
                LogEntry.objects.filter(pk__in=chunk).delete()
            if connection.vendor == "postgresql":
                cursor.execute(f"SET LOCAL {RETENTION_SETTING} = 'off'")
    return len(doomed)


def _chunks(items, size=500):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _remove_uploads(batch_ids):
    """Delete the folders of these imports' uploaded files; returns how many there were."""
    from incidents.tasks import upload_folder  # tasks import services; this runs after both load

    removed = 0
    for batch_id in batch_ids:
        folder = upload_folder(batch_id)
        if folder.is_dir():
            shutil.rmtree(folder)
            removed += 1
    return removed


# --- alerts -----------------------------------------------------------------------------------

ALERT_P = 0.001  # one false alarm in a thousand steady area-months
HIGH_USE_MIN_REPORTS = 5
HISTORY_MONTHS = 12
MIN_HISTORY_MONTHS = 6  # months with records needed before an area's use is judged unusual
USUALLY_REPORTS = 10  # months with records, of the trailing 12, for a silent month to be flagged
NOT_STATED_SHARE = 0.2
NOT_STATED_MIN_REPORTS = 20


def poisson_upper_tail(observed, expected):
    """P(X ≥ observed) for X ~ Poisson(expected)."""
    if observed <= 0:
        return 1.0
    term = below = math.exp(-expected)
    for k in range(1, observed):
        term *= expected / k
        below += term
    return max(0.0, 1.0 - below)


def raise_alerts(*, force_id, cells=None):
    """Re-evaluate the alerts of a force's rebuilt months; e-mail its PCC staff the new ones.

    Unusually high use: a month's Taser reports against the monthly mean of the area's
    trailing 12 months (months with records), flagged when P(X ≥ observed) under a Poisson
    distribution with that mean is below ALERT_P. See docs/summaries.md.
    """
    data = {(s.area_id, s.month): s for s in MonthlySummary.objects.filter(force_id=force_id)}
    if cells is None:  # every month from the first with data to the last, silent ones too
        first, last = min((m for _, m in data), default=None), max((m for _, m in data), default=None)
        months = []
        while first and first <= last:
            months.append(first)
            first = next_month(first)
    else:
        months = sorted({datetime.date.fromisoformat(month) for _, month in cells})
    if not months:
        return []
    latest = max((month for _, month in data), default=None)
    version = max((s.data_version for s in data.values()), default=0)
    areas = {area: name for area, name in Area.objects.filter(force_id=force_id).values_list("pk", "name")}
    now = timezone.now()
    alerts = []
    for month in months:
        trailing = [months_back(month, n) for n in range(1, HISTORY_MONTHS + 1)]
        for area in sorted({area for area, _ in data if area is not None}):
            history = [data[(area, m)] for m in trailing if (area, m) in data]
            cell = data.get((area, month))
            new = dict(force_id=force_id, area_id=area, month=month, data_version=version, raised_at=now)
            place = f"{areas.get(area, 'Area')}, {month:%B %Y}"
            if cell is None:
                expected = sum(s.reports for s in history) / len(history) if history else 0
                # Silent by chance is unlikely: P(no report | Poisson mean) = e^-mean below the threshold.
                if latest and month <= latest and len(history) >= USUALLY_REPORTS and math.exp(-expected) < ALERT_P:
                    message = (
                        f"{place}: no reports, where the area had a mean of {expected:.1f} a month in the "
                        f"{len(history)} of the last 12 months with records"
                    )
                    alerts.append(
                        Alert(kind=Alert.Kind.NO_RECORDS, observed=0, expected=expected, message=message, **new)
                    )
                continue
            if len(history) >= MIN_HISTORY_MONTHS and cell.taser_reports >= HIGH_USE_MIN_REPORTS:
                expected = sum(s.taser_reports for s in history) / len(history)
                p = poisson_upper_tail(cell.taser_reports, expected)
                if p < ALERT_P:
                    message = (
                        f"{place}: {cell.taser_reports} Taser reports against a monthly mean of {expected:.1f} "
                        f"over the previous {len(history)} months with records (Poisson p = {p:.1g})"
                    )
                    alerts.append(
                        Alert(kind=Alert.Kind.HIGH_USE, observed=cell.taser_reports, expected=expected, p_value=p,
                              message=message, **new)
                    )  # fmt: skip
            if cell.taser_reports >= NOT_STATED_MIN_REPORTS:
                for measure, what in (("level_not_stated", "highest level"), ("ethnicity_not_reported", "ethnicity")):
                    share = getattr(cell, measure) / cell.taser_reports
                    if share > NOT_STATED_SHARE:
                        message = f"{place}: {what} not stated in {share:.0%} of {cell.taser_reports} Taser reports"
                        alerts.append(
                            Alert(kind=Alert.Kind.NOT_STATED, observed=getattr(cell, measure), message=message, **new)
                        )
    with transaction.atomic():
        existing = Alert.objects.filter(force_id=force_id, month__in=months)
        known = set(existing.values_list("area_id", "month", "kind", "message"))
        existing.delete()
        Alert.objects.bulk_create(alerts)
    fresh = [a for a in alerts if (a.area_id, a.month, a.kind, a.message) not in known]
    if fresh:
        _mail_alerts(force_id, fresh)
    return alerts


def _mail_alerts(force_id, alerts):
    recipients = list(
        get_user_model()
        .objects.filter(groups__name=Role.PCC_STAFF, force_scope__force_id=force_id, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if recipients:
        lines = "\n".join(f"- {alert.message}" for alert in alerts)
        send_mail(f"Taser oversight: {len(alerts)} new alert(s)", lines, None, recipients, fail_silently=True)


# --- summaries follow edits made one record at a time (the admin, the API) ---------------------


def remember_summary_cell(sender, instance, **kwargs):
    """pre_save: where the report counted before this save, for the rebuild after it."""
    if instance.pk:
        instance._cell_before = UseOfForceReport.objects.filter(pk=instance.pk).values_list(
            "force_id", "area_id", "occurred_on"
        ).first()  # fmt: skip


def report_changed(sender, instance, **kwargs):
    """post_save and post_delete of a report: rebuild the cells it left and entered."""
    places = [getattr(instance, "_cell_before", None), (instance.force_id, instance.area_id, instance.occurred_on)]
    for force_id in {place[0] for place in places if place}:
        cells = cells_of((area, day) for force, area, day in filter(None, places) if force == force_id)
        queue_summary_rebuild(force_id, cells)


def ced_use_changed(sender, instance, **kwargs):
    """post_save and post_delete of a CED use: its report's cell counts extended cycles."""
    report = UseOfForceReport.objects.filter(pk=instance.report_id).values_list("force_id", "area_id", "occurred_on")
    for force_id, area_id, day in report:
        queue_summary_rebuild(force_id, cells_of([(area_id, day)]))


# --- quarterly PCC reports ----------------------------------------------------------------------

COUNTING_RULES = [
    "The unit of count is the report: one officer's use of force on one person. Three officers at one "
    "event file three reports; reports sharing an incident reference form one incident.",
    "A report that used several CED levels counts once, at its highest: angle drive stun > fired > drive stun "
    "> arced > red-dotted > aimed > drawn. Discharge is angle drive stun, fired or drive stun.",
    "Not stated is kept as recorded, never guessed.",
    "Ethnicity, age and health condition are the officer's perception; population baselines are Census 2021 "
    "residents by self-identified ethnic group, so rates and ratios compare two different kinds of category.",
    "Rate ratios are against the White group, with 95% confidence intervals by the log method; none is given "
    "where a count is zero or a population is missing.",
    "Records withdrawn by a later edition of the source are not counted.",
]
HEADLINE = ["reports", "incidents", "taser_reports", "discharge", "level_fired"]


def quarter_label(quarter):
    """Police quarters follow the financial year: April–June is Q1."""
    number = (quarter.month - 4) % 12 // 3 + 1
    year = quarter.year if quarter.month >= 4 else quarter.year - 1
    end = months_back(quarter, -2)
    return f"Q{number} {year}/{str(year + 1)[2:]} ({quarter:%B} to {end:%B %Y})"


def build_quarterly_report(*, force_id, quarter, area_id=None):
    """Build and keep a snapshot of one quarter's report for a force (or one of its areas)."""
    from scrutiny.models import Action, Finding  # scrutiny's models import this app's

    force = Force.objects.get(pk=force_id)
    area = Area.objects.get(pk=area_id, force=force) if area_id else None
    quarter = period_start(quarter, "quarter")
    end, previous, last_year = months_back(quarter, -3), months_back(quarter, 3), months_back(quarter, 12)

    def totals(start):
        return queries.summary_totals(force=force, start=start, end=months_back(start, -3), area=area)

    now, before, year_ago = totals(quarter), totals(previous), totals(last_year)
    labels = {name: str(MonthlySummary._meta.get_field(name).verbose_name) for name in queries.MEASURES}

    def change(value, base):
        return {"change": value - base, "change_percent": round((value - base) / base * 100, 1) if base else None}

    def figure(name):
        return {
            "measure": name, "label": labels[name].capitalize(), "value": now[name],
            "previous_quarter": before[name], "same_quarter_last_year": year_ago[name],
            "on_previous_quarter": change(now[name], before[name]),
            "on_same_quarter_last_year": change(now[name], year_ago[name]),
        }  # fmt: skip

    def share(part, whole):
        return round(part / whole, 4) if whole else None

    def listed(names):
        return [{"measure": n, "label": labels[n], "value": now[n]} for n in names]

    capability = _capability(force, end)
    findings = Finding.objects.filter(
        sampled_case__sample__panel__force=force, recorded_at__date__gte=quarter, recorded_at__date__lt=end
    )
    actions = Action.objects.filter(finding__sampled_case__sample__panel__force=force)
    open_actions = actions.exclude(status=Action.Status.CLOSED).filter(created_at__date__lt=end)
    reports = UseOfForceReport.objects.current().filter(force=force, occurred_on__gte=quarter, occurred_on__lt=end)
    if area:
        reports = reports.filter(area=area)
    first_version = reports.aggregate(v=models.Min("import_batch__data_version"))["v"]
    late = reports.filter(import_batch__data_version__gt=first_version).count() if first_version else 0
    taser = now["taser_reports"]
    figures = {
        "period": {"start": quarter.isoformat(), "end": end.isoformat(), "label": quarter_label(quarter)},
        "force": force.name,
        "area": area.name if area else None,
        "unit": queries.UNIT_OF_COUNT,
        "headline": [figure(name) for name in HEADLINE],
        "fired_share": {
            "value": share(now["level_fired"], taser),
            "previous_quarter": share(before["level_fired"], before["taser_reports"]),
            "same_quarter_last_year": share(year_ago["level_fired"], year_ago["taser_reports"]),
        },
        "levels": listed([f"level_{level.name.lower()}" for level in sorted(CedLevel, reverse=True)]),
        "areas": [] if area else queries.area_rates(force=force, start=quarter, end=end),
        "disproportionality": queries.disproportionality(force=force, start=quarter, end=end, area=area),
        "outcomes": listed([n for n in queries.MEASURES if n.startswith("outcome_")]),
        "subject_injuries": listed([n for n in queries.MEASURES if n.startswith("subject_injury_")]),
        "officer_injuries": listed([n for n in queries.MEASURES if n.startswith("officer_injury_")]),
        "capability": capability
        and {**capability, "uses_per_trained_officer": share(taser, capability["officers_trained"])},
        "scrutiny": {
            "findings": list(findings.values("panel_grade").annotate(count=models.Count("pk")).order_by("panel_grade")),
            "open_actions": open_actions.count(),
            "overdue_actions": open_actions.filter(due_on__lt=end).count(),
        },
        "data_quality": {
            "late_reports": late,
            "not_stated": [
                {"label": label, "share": share(now[name], taser)}
                for name, label in (
                    ("level_not_stated", "Highest CED level not stated"),
                    ("ethnicity_not_reported", "Ethnicity not reported"),
                    ("age_not_reported", "Age not reported"),
                    ("health_not_reported", "Health condition not reported"),
                )
            ],
        },
        "counting_rules": COUNTING_RULES,
    }
    return QuarterlyReport.objects.create(
        force=force, area=area, quarter=quarter, data_version=queries.summaries_version(force=force),
        built_at=timezone.now(), figures=figures,
    )  # fmt: skip


def _capability(force, end):
    """Devices and trained officers as recorded on the latest date before `end`, all device models together."""
    latest = CapabilityRecord.objects.filter(force=force, as_of__lt=end).aggregate(day=models.Max("as_of"))["day"]
    if latest is None:
        return None
    records = CapabilityRecord.objects.filter(force=force, as_of=latest)
    sums = records.aggregate(devices=models.Sum("devices_in_service"), officers_trained=models.Sum("officers_trained"))
    return {"as_of": latest.isoformat(), **sums}


def quarterly_report_rows(report):
    """Every figure of a report as (section, measure, column, value) rows, for its CSV."""
    figures = report.figures
    yield ("report", "period", "", figures["period"]["label"])
    yield ("report", "data_version", "", report.data_version)
    yield ("report", "unit", "", figures["unit"])
    for item in figures["headline"]:
        for column in ("value", "previous_quarter", "same_quarter_last_year"):
            yield ("headline", item["label"], column, item[column])
        for against in ("on_previous_quarter", "on_same_quarter_last_year"):
            for column, value in item[against].items():
                yield ("headline", item["label"], f"{column}_{against}", value)
    for column, value in figures["fired_share"].items():
        yield ("headline", "Fired share of Taser reports", column, value)
    for section in ("levels", "outcomes", "subject_injuries", "officer_injuries"):
        for item in figures[section]:
            yield (section, item["label"], "value", item["value"])
    for row in figures["areas"]:
        # A report built before every rate was per 1,000 keeps its areas' rates per 10,000.
        rate = "rate_per_10000" if "rate_per_10000" in row else "rate_per_1000"
        for column in ("reports", "discharge", "population", rate, "note"):
            yield ("areas", row["name"], column, row[column])
    for row in figures["disproportionality"]:
        for column in ("reports", "population", "rate_per_1000", "ratio", "ratio_low", "ratio_high", "note"):
            yield ("disproportionality", row["label"], column, row[column])
    for column, value in (figures["capability"] or {}).items():
        yield ("capability", column, "", value)
    for item in figures["scrutiny"]["findings"]:
        yield ("scrutiny", "findings graded " + item["panel_grade"], "", item["count"])
    yield ("scrutiny", "open actions", "", figures["scrutiny"]["open_actions"])
    yield ("scrutiny", "overdue actions", "", figures["scrutiny"]["overdue_actions"])
    yield ("data_quality", "late reports", "", figures["data_quality"]["late_reports"])
    for item in figures["data_quality"]["not_stated"]:
        yield ("data_quality", item["label"], "share", item["share"])
