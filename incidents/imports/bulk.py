"""Writing many rows at once: ids reserved in advance, PostgreSQL's COPY (rows in bulk elsewhere), in the background."""

import collections
import contextlib
import csv
import io
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, cast

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.db import connection, connections, models
from django.db.models import QuerySet

from forces.models import Force
from incidents.models import CedUse, ImportBatch, UseOfForceReport

logger = logging.getLogger(__name__)

TEXT_TYPES = {"CharField", "TextField", "SlugField", "JSONField"}
# psycopg2 sends COPY data in pieces of this size, taking the GIL for each. Given by position:
# Django's debug cursor (DEBUG on) passes copy_expert no keyword arguments.
COPY_CHUNK_BYTES = 1 << 20


def next_data_version(force: Force) -> int:
    """The data version a new batch of this force gets."""
    latest = ImportBatch.objects.filter(force=force).aggregate(latest=models.Max("data_version"))["latest"]
    return (latest or 0) + 1


def reserve_ids(model: type[models.Model], count: int, cursor: Any = None) -> list[int]:
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


def field_of(model: type[models.Model], name: str) -> models.Field:
    """The concrete field `name` of the model (a bulk write names no relation's reverse side)."""
    return cast(models.Field, model._meta.get_field(name))


def defaults_for_omitted(model: type[models.Model], names: Iterable[str]) -> dict[str, Any]:
    """{field name: value} for the columns a bulk write leaves out.

    Model defaults live in Python, not in the schema ("" for text columns without one, as
    Django does), so a bulk write must give them itself.
    """
    return {
        field.name: json.dumps(field.get_default()) if isinstance(field, models.JSONField) else field.get_default()
        for field in model._meta.concrete_fields
        if field.name not in names and not field.primary_key and (field.has_default() or not field.null)
    }


def analyze(cursor: Any, table: str, *columns: str) -> None:
    """Give the query planner statistics of what bulk writes put in `table` (of these columns, or every one).

    Autovacuum analyses a table only some time after it changed (never a temporary one, and never when it is off).
    Until then PostgreSQL plans as if the rows were not there: joins on a million-row temporary table as if it were
    empty (an anti-join of hours), and a list of an area's reports by a subject's ethnicity as a read of all the
    area's reports (300-700 ms at 5,000,000 reports, against 1-10 ms once analysed).
    """
    if connection.vendor == "postgresql" and columns:
        cursor.execute(f"ANALYZE {table} ({', '.join(columns)})")
    else:
        cursor.execute(f"ANALYZE {table}")


def bulk_insert(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]], table: str | None = None
) -> None:
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
    column_list = ", ".join(field_of(model, name).column for name in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            buffer = io.StringIO()
            csv.writer(buffer).writerows(rows)
            buffer.seek(0)
            # csv writes None and "" alike as an empty field, which COPY reads as NULL;
            # FORCE_NOT_NULL makes it "" for the columns that cannot be NULL.
            not_null = [
                field_of(model, name).column
                for name in columns
                if not field_of(model, name).null and field_of(model, name).get_internal_type() in TEXT_TYPES
            ]
            options = f", FORCE_NOT_NULL ({', '.join(not_null)})" if not_null else ""
            cursor.copy_expert(f"COPY {table} ({column_list}) FROM STDIN WITH (FORMAT csv{options})", buffer)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            # Any iterable of rows does (the stubs ask for a sequence): rows are not all held at once.
            statement = f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})"
            cursor.executemany(statement, rows)  # type: ignore[arg-type]


def delete_reports(reports: QuerySet[UseOfForceReport]) -> None:
    """Delete reports and their CED uses in SQL, without loading them (millions of rows)."""
    ids_sql, params = reports.values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {CedUse._meta.db_table} WHERE report_id IN ({ids_sql})", params)
        cursor.execute(f"DELETE FROM {UseOfForceReport._meta.db_table} WHERE id IN ({ids_sql})", params)


def copy_arrays(cursor: Any, model: type[models.Model], table: str, arrays: dict[str, pa.Array]) -> None:
    """Write pyarrow columns (keyed by model field name) to `table` through `cursor`, COPY on PostgreSQL.

    The CSV is made by pyarrow, not row by row in Python: a million rows take seconds.
    """
    statement, data = arrow_copy(model, table, arrays)
    if connection.vendor == "postgresql":
        cursor.copy_expert(statement, data, COPY_CHUNK_BYTES)
    else:
        cursor.executemany(statement, data)


def arrow_copy(model: type[models.Model], table: str, arrays: dict[str, pa.Array]) -> tuple[str, Any]:
    """(statement, data) that write `arrays` to `table`: COPY and a CSV on PostgreSQL, else an INSERT and rows."""
    length = len(next(iter(arrays.values())))
    arrays = arrays | {name: pa.array([value] * length) for name, value in defaults_for_omitted(model, arrays).items()}
    names = list(arrays)
    columns = ", ".join(field_of(model, name).column for name in names)
    if connection.vendor == "postgresql":
        # Booleans as 1 and 0, not as "true" and "false": the CSV of a report is half as long,
        # and PostgreSQL reads it in a tenth less time.
        values = [pc.cast(array, pa.uint8()) if pa.types.is_boolean(array.type) else array for array in arrays.values()]
        data = io.BytesIO()
        # Every text is quoted, which keeps "" apart from NULL, an unquoted empty field.
        options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
        rows = pa.table(values, names=names)
        if "occurred_on" in names:
            # In date order: most of the reports' indexes begin with the force and the date, and a piece
            # of rows over a whole year, in the file's order, put each row in another part of each of them.
            rows = rows.sort_by("occurred_on")
        pacsv.write_csv(rows, data, options)
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

    The batches a table is given are gathered into pieces of at least `rows` rows. One thread
    makes each piece's CSV, in date order, while the other copies the one before it, so
    PostgreSQL copies without waiting and Python converts the next batch meanwhile. At most
    `depth` pieces wait, which bounds memory; an error in either thread surfaces at the next
    call. Elsewhere (SQLite) each batch is written at once, in this thread.
    """

    # Most of the reports' indexes begin with the force and the date. Rows in date order a piece of
    # 3,300 (a batch) spread over a year still put each row on another page of each index; in pieces
    # of 16,384 a million-row import took 22.7-22.8 s against 25.1-30.3 s, and copying the reports
    # all in date order (alone, without the import's Python) 14 s against 18-19. PostgreSQL is the
    # slower side: two pieces waiting keep it busy (one stalled it: 33-36 s), and each more costs
    # memory (four: 401-405 MB at the peak, two: 393 MB).
    def __init__(self, depth: int = 2, rows: int = 16_384) -> None:
        self.raw: Any = connection.connection if connection.vendor == "postgresql" else None
        self.errors = connection.wrap_database_errors  # this thread's connection's, used from the other
        self.csv_maker = ThreadPoolExecutor(max_workers=1) if self.raw else None
        self.copier = ThreadPoolExecutor(max_workers=1) if self.raw else None
        self.pending: collections.deque[Future[Any]] = collections.deque()
        self.depth = depth
        # Batches gathered, by (model, table, their columns' names and types), until they hold `rows`
        self.gathered: dict[tuple[Any, ...], list[dict[str, pa.Array]]] = {}
        self.rows, self.rows_gathered = rows, 0
        self.tables: dict[str, int] = {}  # each table written, numbered in the order first written

    def copy(self, model: type[models.Model], table: str, arrays: dict[str, pa.Array]) -> None:
        """copy_arrays(…, model, table, arrays), now or in the threads."""
        if self.raw is None or self.csv_maker is None:
            with connection.cursor() as cursor:
                return copy_arrays(cursor, model, table, arrays)
        shape = (model, table, tuple((name, array.type) for name, array in arrays.items()))
        if any(key[:2] == shape[:2] and key != shape for key in self.gathered):
            self._flush()
        self.tables.setdefault(table, len(self.tables))
        self.gathered.setdefault(shape, []).append(arrays)
        self.rows_gathered += len(next(iter(arrays.values())))
        if self.rows_gathered >= self.rows:
            self._flush()

    def _flush(self) -> None:
        # In the order the tables were first written: a table's rows may refer to an earlier one's.
        for (model, table, _), pieces in sorted(self.gathered.items(), key=lambda item: self.tables[item[0][1]]):
            arrays = {name: _end_to_end([piece[name] for piece in pieces]) for name in pieces[0]}
            made = cast(ThreadPoolExecutor, self.csv_maker).submit(arrow_copy, model, table, arrays)
            self._queue(self._copy, made)
        self.gathered, self.rows_gathered = {}, 0

    def _queue(self, *call: Any) -> None:
        # Only the threaded path (PostgreSQL) queues, where the copier exists.
        self.pending.append(cast(ThreadPoolExecutor, self.copier).submit(*call))
        while len(self.pending) > self.depth:
            self.pending.popleft().result()

    def _copy(self, made: Future[tuple[str, Any]]) -> None:
        statement, data = made.result()
        # Django's own error classes, and its note that the connection failed: a dropped connection
        # is then replaced before the batch records the failure (see _record_failure).
        with self.errors, self.raw.cursor() as cursor:
            cursor.copy_expert(statement, data, COPY_CHUNK_BYTES)

    def wait(self) -> None:
        """Wait for all the work; raise the first error."""
        self._flush()
        while self.pending:
            self.pending.popleft().result()

    def __enter__(self) -> "InBackground":
        return self

    def __exit__(self, *exc_info: object) -> None:
        for pool in (self.copier, self.csv_maker):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)


def _end_to_end(arrays: list[Any]) -> pa.ChunkedArray:
    """Arrays (or chunked ones) of one type as one chunked array, without copying them."""
    chunks = [chunk for array in arrays for chunk in getattr(array, "chunks", [array])]
    return pa.chunked_array(chunks, type=arrays[0].type)


@contextlib.contextmanager
def id_source() -> Iterator[Any]:
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
