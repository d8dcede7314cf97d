import csv
import io
import json

from django.db import connection, models

from incidents.models import CedUse, ImportBatch, UseOfForceReport

TEXT_TYPES = {"CharField", "TextField", "SlugField", "JSONField"}


def next_data_version(force):
    """The data version a new batch of this force gets."""
    latest = ImportBatch.objects.filter(force=force).order_by("-data_version").values_list("data_version", flat=True)
    return (latest.first() or 0) + 1


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
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 - table name from model meta
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + count))


def bulk_insert(model, columns, rows):
    """Write rows (tuples in `columns` order, None for NULL) as fast as the backend allows.

    PostgreSQL gets one COPY per call; SQLite a prepared executemany. Rows bypass
    Model.save(), so callers give every derived column (e.g. highest_ced_level) itself;
    the database constraints still check each row.
    """
    table = model._meta.db_table
    # Model defaults live in Python, not in the schema: give them for the columns left out
    # ("" for text columns without one, as Django does).
    omitted = [
        field
        for field in model._meta.concrete_fields
        if field.name not in columns and not field.primary_key and (field.has_default() or not field.null)
    ]
    columns = [*columns, *(field.name for field in omitted)]
    defaults = tuple(
        json.dumps(field.get_default()) if isinstance(field, models.JSONField) else field.get_default()
        for field in omitted
    )
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
            cursor.executemany(f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})", rows)  # noqa: S608


def delete_reports(reports):
    """Delete reports and their CED uses in SQL, without loading them (millions of rows)."""
    ids_sql, params = reports.values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {CedUse._meta.db_table} WHERE report_id IN ({ids_sql})", params)  # noqa: S608
        cursor.execute(f"DELETE FROM {UseOfForceReport._meta.db_table} WHERE id IN ({ids_sql})", params)  # noqa: S608
