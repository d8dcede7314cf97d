import csv
import datetime
import hashlib
import io
import json

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.text import slugify

from forces.models import Area, Force
from forces.services import InputError
from incidents import readers
from incidents.models import CedUse, ImportBatch, UseOfForceReport

TEXT_TYPES = {"CharField", "TextField", "SlugField", "JSONField"}


def next_data_version(force):
    """The data version a new batch of this force gets."""
    latest = ImportBatch.objects.filter(force=force).aggregate(latest=models.Max("data_version"))["latest"]
    return (latest or 0) + 1


def reserve_ids(model, count):
    """`count` fresh primary keys for rows about to be bulk-written (call inside the transaction)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
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


def bulk_insert_arrow(model, table, arrays):
    """Write pyarrow columns (keyed by model field name) to `table`, COPY on PostgreSQL.

    The CSV is made by pyarrow, not row by row in Python: a million rows take seconds.
    """
    length = len(next(iter(arrays.values())))
    arrays = arrays | {name: pa.array([value] * length) for name, value in defaults_for_omitted(model, arrays).items()}
    names = list(arrays)
    columns = ", ".join(model._meta.get_field(name).column for name in names)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            buffer = io.BytesIO()
            # Quoting every value keeps "" apart from NULL, which is an unquoted empty field.
            options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
            pacsv.write_csv(pa.table(arrays), buffer, options)
            buffer.seek(0)
            cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)", buffer)
        else:
            values = [
                (pc.cast(array, pa.string()) if pa.types.is_date(array.type) else array).to_pylist()
                for array in arrays.values()
            ]
            placeholders = ", ".join(["%s"] * len(names))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", zip(*values, strict=True))


# --- imports ----------------------------------------------------------------------------

STAGING, STAGING_CED = "import_staging", "import_staging_ced"
REPORT, CED_USE = UseOfForceReport._meta.db_table, CedUse._meta.db_table
# Met boroughs whose name differs from the ONS name of the area.
AREA_ALIASES = {"city of westminster": "westminster"}
OTHER_AREAS = {"heathrow", "out of force"}
ANALYZE_AFTER_ROWS = 10_000
UNEXPECTED = "The import stopped on an unexpected error."


class ImportFailed(Exception):
    """The file had problems and nothing was written; the batch holds them."""

    def __init__(self, batch):
        super().__init__(f"{batch.source_name}: {batch.rows_rejected} problem(s); nothing was imported.")
        self.batch = batch


def import_reports(path, force, *, user=None, skip_invalid=False, progress=None, batch=None):
    """Import a use-of-force file for one force as a new data version; all or nothing.

    Returns the succeeded ImportBatch. Raises InputError for a file that is not a
    use-of-force table, and ImportFailed (batch saved as failed, with its problems)
    for rows with problems unless `skip_invalid`, which writes the good rows and a
    reject file beside the input. `batch` is a pending batch made earlier (by an
    upload), used instead of a new one; its data version is given when it runs.
    """
    problems = readers.Problems()
    try:
        table = readers.open_table(path)
        file_format = format_of(table)
        with transaction.atomic():
            Force.objects.select_for_update().get(pk=force.pk)  # one import per force at a time
            if batch is None:
                batch = ImportBatch(force=force, uploaded_by=user, source_name=table.path.name)
            batch.data_version = next_data_version(force)
            batch.source_format, batch.status = file_format.FORMAT, ImportBatch.Status.RUNNING
            batch.save()
        with transaction.atomic():
            Force.objects.select_for_update().get(pk=force.pk)
            _stage_and_apply(table, file_format, force, batch, problems, skip_invalid, progress)
            if problems.count and not skip_invalid:
                raise ImportFailed(batch)
    except Exception as error:
        if batch is not None and batch.pk is not None:
            _record_failure(batch, error, problems)
        raise
    batch.status, batch.errors, batch.finished_at = ImportBatch.Status.SUCCEEDED, problems.summary(), timezone.now()
    batch.save()
    return batch


def _record_failure(batch, error, problems):
    """Nothing was written; the batch says why, for the upload page, the API and the admin."""
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


def _stage_and_apply(table, file_format, force, batch, problems, skip_invalid, progress):
    unknown = sorted((name for name in table.header if not file_format.is_known(name)), key=str.lower)
    if unknown:
        batch.notes.append(f"Ignored {len(unknown)} column(s) the product does not know: {', '.join(unknown)}.")
    area_ids = AreaFinder(force, batch)
    rejects = RejectFile(table) if skip_invalid else None
    with connection.cursor() as cursor:
        for name, model in ((STAGING, UseOfForceReport), (STAGING_CED, CedUse)):
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
            cursor.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {model._meta.db_table} WHERE 1 = 0")
    for first_row, rows in table.batches():
        report, ced_uses, identity = file_format.convert(rows, first_row, problems, area_ids, force.pk)
        bad = problems.take_batch()
        batch.rows_read += rows.num_rows
        if rejects is not None and bad:
            rejects.write(rows, first_row, bad)
        if progress:
            progress(rows.num_rows)
        if problems.count and not skip_invalid:
            continue  # keep reading to count every problem; nothing will be written
        keep = pa.array([first_row + i not in bad for i in range(rows.num_rows)])
        numbered = getattr(file_format, "NUMBERED_IDENTITY", False)
        _stage(report, ced_uses, identity, rows, first_row, keep, bad, force, batch, numbered)
    if rejects is not None:
        rejects.close()
        if problems.count:
            batch.notes.append(
                f"{problems.count} problem(s) in {rejects.rows} row(s); those rows are in {rejects.path.name}."
            )
    batch.rows_rejected = rejects.rows if rejects is not None else problems.count
    if batch.rows_read == 0:
        raise InputError(f"{table.path.name}: the file has a header but no rows.")
    if not (problems.count and not skip_invalid):
        _apply(force, batch, numbered=getattr(file_format, "NUMBERED_IDENTITY", False), problems=problems)


def _stage(report, ced_uses, identity, rows, first_row, keep, bad, force, batch, numbered):
    """Write one batch's good rows into the staging tables."""
    if numbered:  # a long natural identity, kept short as a digest and numbered later
        identity = pa.array([hashlib.md5(t.encode(), usedforsecurity=False).hexdigest() for t in identity.to_pylist()])
    raw = pc.binary_join_element_wise(*rows.columns, "\x1f").to_pylist()
    content = [hashlib.md5(text.encode(), usedforsecurity=False).hexdigest() for text in raw]
    n = rows.num_rows
    arrays = {name: pc.filter(array, keep) for name, array in report.items()}
    arrays |= {
        "force": pc.filter(pa.array([force.pk] * n), keep),
        "import_batch": pc.filter(pa.array([batch.pk] * n, pa.int64()), keep),
        "data_version": pc.filter(pa.array([batch.data_version] * n, pa.int64()), keep),
        "source_row": pc.filter(pa.array(range(first_row, first_row + n), pa.int64()), keep),
        "source_key": pc.filter(identity, keep),
        "content_hash": pc.filter(pa.array(content), keep),
    }
    bulk_insert_arrow(UseOfForceReport, STAGING, arrays)
    uses = [use for use in ced_uses if first_row + use["row"] not in bad]
    if uses:
        columns = [name for name in uses[0] if name != "row"]
        # The staging copy of a CED use holds its report's file row where the report id will go.
        rows_out = [(first_row + use["row"], *(use[name] for name in columns)) for use in uses]
        bulk_insert(CedUse, ["report", *columns], rows_out, table=STAGING_CED)


def _apply(force, batch, numbered, problems):
    """Add, correct and withdraw reports from the staging tables, in set-based SQL."""
    fields = [f for f in UseOfForceReport._meta.concrete_fields if f.name not in ("id", "withdrawn_in_version")]
    columns = [f.column for f in fields]
    updated = [c for c in columns if c not in ("force_id", "source_key")]
    ced_columns = [f.column for f in CedUse._meta.concrete_fields if f.name not in ("id", "report")]
    same_record = f"{REPORT}.force_id = s.force_id AND {REPORT}.source_key = s.source_key"
    differs = f"({REPORT}.content_hash <> s.content_hash OR {REPORT}.withdrawn_in_version IS NOT NULL)"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE INDEX {STAGING}_row ON {STAGING} (source_row)")
        # Autovacuum never analyses temporary tables; without statistics PostgreSQL plans
        # joins on them as if they were empty, and a million-row anti-join then takes hours.
        cursor.execute(f"ANALYZE {STAGING}")
        if numbered:
            # Reports without a reference are told apart by when, where and whom, then by
            # their order in the file: the nth such row keeps key "…-n" across editions.
            cursor.execute(
                f"UPDATE {STAGING} SET source_key = {STAGING}.source_key || '-' || CAST(n.k AS TEXT) FROM ("
                f"SELECT source_row, ROW_NUMBER() OVER (PARTITION BY source_key ORDER BY source_row) AS k "
                f"FROM {STAGING}) AS n WHERE n.source_row = {STAGING}.source_row"
            )
        else:
            cursor.execute(
                f"SELECT source_key, MIN(source_row), MAX(source_row) FROM {STAGING} GROUP BY source_key "
                f"HAVING COUNT(*) > 1 ORDER BY MIN(source_row)"
            )
            for key, first, again in cursor.fetchall():
                problems.add(again, "source_key", key, f"repeats row {first}; each record appears once")
            if problems.count:
                raise ImportFailed(batch)
        cursor.execute(f"CREATE INDEX {STAGING}_key ON {STAGING} (force_id, source_key)")
        cursor.execute(f"ANALYZE {STAGING}")  # the keys have changed since
        cursor.execute(f"ANALYZE {STAGING_CED}")
        cursor.execute(
            f"DELETE FROM {CED_USE} WHERE report_id IN (SELECT {REPORT}.id FROM {REPORT} JOIN {STAGING} s "
            f"ON {same_record} WHERE {differs})"
        )
        assignments = ", ".join(f"{column} = s.{column}" for column in updated)
        cursor.execute(
            f"UPDATE {REPORT} SET {assignments}, withdrawn_in_version = NULL FROM {STAGING} s "
            f"WHERE {same_record} AND {differs}"
        )
        batch.rows_changed = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {REPORT} ({', '.join(columns)}) SELECT {', '.join('s.' + c for c in columns)} "
            f"FROM {STAGING} s WHERE NOT EXISTS (SELECT 1 FROM {REPORT} WHERE {same_record})"
        )
        batch.rows_added = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {CED_USE} (report_id, {', '.join(ced_columns)}) "
            f"SELECT {REPORT}.id, {', '.join('c.' + c for c in ced_columns)} FROM {STAGING_CED} c "
            f"JOIN {STAGING} s ON s.source_row = c.report_id JOIN {REPORT} ON {same_record} "
            f"WHERE {REPORT}.import_batch_id = %s",
            [batch.pk],
        )
        if connection.vendor == "postgresql" and batch.rows_added > ANALYZE_AFTER_ROWS:
            # The planner's statistics predate the rows just added: it would take the table
            # for nearly empty and plan the withdrawal below as a quadratic nested loop.
            cursor.execute(f"ANALYZE {REPORT}")
        cursor.execute(f"SELECT COUNT(*), MIN(occurred_on), MAX(occurred_on) FROM {STAGING}")
        staged, first, last = cursor.fetchone()
        batch.rows_unchanged = staged - batch.rows_added - batch.rows_changed
        if staged:
            # What an edition no longer holds, within the financial years it covers, is withdrawn.
            start, end = financial_year_bounds(first, last)
            cursor.execute(
                f"UPDATE {REPORT} SET withdrawn_in_version = %s WHERE force_id = %s AND withdrawn_in_version IS NULL "
                f"AND occurred_on >= %s AND occurred_on <= %s AND import_batch_id IN "
                f"(SELECT id FROM {ImportBatch._meta.db_table} WHERE force_id = %s AND source_format = %s) "
                f"AND NOT EXISTS (SELECT 1 FROM {STAGING} s WHERE {same_record})",
                [batch.data_version, force.pk, start, end, force.pk, batch.source_format],
            )
            batch.rows_withdrawn = cursor.rowcount
        for name in (STAGING, STAGING_CED):
            cursor.execute(f"DROP TABLE {name}")


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

    def by_code(self, codes, names):
        ids = []
        for code, name in zip(codes, names, strict=True):
            if code and code not in self.codes:
                self.codes[code] = self.create(name or code, code)
            ids.append(self.codes.get(code))
        return ids

    @staticmethod
    def key(name):
        key = " ".join(name.replace("&", "and").split()).casefold()
        return AREA_ALIASES.get(key, key)

    def __call__(self, names):
        return [self.find(name) for name in names]

    def find(self, name):
        if not name:
            return None
        key = self.key(name)
        if key not in self.ids:
            kind = Area.Kind.OTHER if key in OTHER_AREAS else None
            self.ids[key] = self.create(name, f"{self.force.pk[:12]}-{slugify(name)}"[:20], kind)
        return self.ids[key]

    def create(self, name, code, kind=None):
        kind = kind or (Area.Kind.BOROUGH if self.force.pk == "metropolitan" else Area.Kind.CSP)
        area = Area.objects.create(force=self.force, code=code, name=name, kind=kind, needs_review=True)
        self.batch.notes.append(f"Area '{name}' was not known and has been created; review it in the admin.")
        return area.id


class RejectFile:
    """The rows that had problems, with their reasons, beside the input file."""

    def __init__(self, table):
        self.path = table.path.with_name(f"{table.path.stem}.rejects.csv")
        self.handle = self.path.open("w", newline="", encoding="utf-8")
        self.writer = csv.writer(self.handle)
        self.writer.writerow(["row", "problems", *table.header])
        self.rows = 0

    def write(self, rows, first_row, bad):
        indexes = sorted(row - first_row for row in bad)
        values = [pc.take(column, pa.array(indexes)).to_pylist() for column in rows.columns]
        for position, index in enumerate(indexes):
            row = first_row + index
            self.writer.writerow([row, "; ".join(bad[row]), *(column[position] for column in values)])
        self.rows += len(indexes)

    def close(self):
        self.handle.close()
