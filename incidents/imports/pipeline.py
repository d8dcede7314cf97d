"""Importing a use-of-force file as a new data version of a force: all or nothing, or the good rows."""

import datetime
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from forces.models import Force
from forces.services import InputError
from incidents import readers, recovery
from incidents.columns import Unrecognised
from incidents.imports.areas import AreaFinder
from incidents.imports.bulk import (
    COPY_CHUNK_BYTES,
    InBackground,
    analyze,
    id_source,
    next_data_version,
    reserve_ids,
)
from incidents.imports.matching import HeldReports, RowNumbers, SeenKeys, content_digests, reports_subset, source_keys
from incidents.imports.uploads import RejectFile
from incidents.models import CedUse, ImportBatch, UseOfForceReport
from incidents.summaries import CountedChange, cells_of, reports_in_cells
from oversight.police_calendar import financial_year_bounds

logger = logging.getLogger(__name__)

# Changed reports and their CED uses, staged; the reports an edition withdraws; the reports whose
# figures an edition changes (those it adds, changes or withdraws, and those sharing an incident with them).
STAGING, STAGING_CED, WITHDRAWN = "import_staging", "import_staging_ced", "import_withdrawn"
TOUCHED = "import_touched"
REPORT, CED_USE = UseOfForceReport._meta.db_table, CedUse._meta.db_table
ANALYZE_AFTER_ROWS = 10_000
UNEXPECTED = "The import stopped on an unexpected error."


class ImportFailed(Exception):
    """The file had problems and nothing was written; the batch holds them."""

    def __init__(self, batch: ImportBatch) -> None:
        super().__init__(f"{batch.source_name}: {batch.rows_rejected} problem(s); nothing was imported.")
        self.batch = batch


def import_reports(
    path: str | Path,
    force: Force,
    *,
    user: Any = None,
    skip_invalid: bool = False,
    strict: bool = False,
    new_areas: bool = False,
    progress: Callable[[int], object] | None = None,
    batch: ImportBatch | None = None,
) -> ImportBatch | None:
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

    A change small beside the summary cells it falls in is counted into them here, in the
    import's transaction (`batch.summaries_counted`); a larger one is left to a rebuild of those
    cells. The caller queues what follows either way: the rebuild (or, when counted, only the
    alerts) of the batch's `summary_cells` (incidents.tasks.queue_summary_rebuild).
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
    return batch


def _record_failure(batch: ImportBatch, error: Exception, problems: readers.Problems) -> None:
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


def format_of(table: readers.Table) -> ModuleType:
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


def _stage_and_apply(
    table: readers.Table,
    file_format: ModuleType,
    force: Force,
    batch: ImportBatch,
    problems: readers.Problems,
    options: ImportOptions,
    progress: Callable[[int], object] | None,
) -> None:
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
    # What the force holds, as its summaries last counted it: whether to look the file's rows up one by one.
    held = HeldReports(force.pk, file_format.FORMAT, holds=reports_in_cells(force.pk))
    seen, applied = SeenKeys(), Applied()
    numbered = getattr(file_format, "NUMBERED_IDENTITY", False)
    with InBackground() as database, id_source() as ids_cursor:
        held.settle = database.wait
        for first_row, rows in table.batches():
            numbers = np.arange(first_row, first_row + rows.num_rows)
            keys, key_digests = source_keys(file_format.identity(rows), numbers, seen, problems, numbered)
            contents, content_hashes = content_digests(rows, file_format.digest_name)
            found, at, unchanged = held.match(keys, key_digests, contents)
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
            held.hold_again(at[unchanged])
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
            held.hold_again(changed_at)
            applied.changed += len(changed_at)
            if added.any():
                reports = reports_subset(report, ced_uses, added)
                ids = np.array(reserve_ids(UseOfForceReport, int(added.sum()), ids_cursor), np.int64)
                _write_reports(database, (REPORT, CED_USE), *reports, ids)
                applied.added_ids.append(ids)
            if changed.any():
                reports = reports_subset(report, ced_uses, changed)
                _write_reports(database, (STAGING, STAGING_CED), *reports, held.ids[changed_at])
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


def _create_import_tables() -> None:
    with connection.cursor() as cursor:
        for name, model in ((STAGING, UseOfForceReport), (STAGING_CED, CedUse)):
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
            cursor.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {model._meta.db_table} WHERE 1 = 0")
        cursor.execute(f"DROP TABLE IF EXISTS {WITHDRAWN}")
        cursor.execute(f"CREATE TEMP TABLE {WITHDRAWN} (report_id bigint)")
        cursor.execute(f"DROP TABLE IF EXISTS {TOUCHED}")
        # `added`: a report the import added, which has nothing to take away from the summaries.
        cursor.execute(f"CREATE TEMP TABLE {TOUCHED} (report_id bigint, added boolean NOT NULL DEFAULT true)")


def _write_reports(
    database: InBackground,
    tables: tuple[str, str],
    reports: dict[str, pa.Array],
    uses: dict[str, pa.Array],
    use_rows: np.ndarray,
    ids: np.ndarray,
) -> None:
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
    # (area id, first of month) of reports added or changed
    touched: set[tuple[int | None, datetime.date]] = field(default_factory=set)
    revises: bool = False  # whether any row has the key of a report the force holds
    added_ids: list = field(default_factory=list)  # numpy arrays of the ids of the reports added

    def note(self, report: dict[str, pa.Array], good: np.ndarray) -> None:
        """Remember where the converted rows fall: their months and areas, and their dates' range."""
        keep = pa.array(good)
        dates, areas = pc.filter(report["occurred_on"], keep), pc.filter(report["area"], keep)
        if not len(dates):
            return
        self.cover(dates.to_numpy(zero_copy_only=False))
        months = pc.floor_temporal(dates, unit="month")
        cells = pa.table({"area": areas, "month": months}).group_by(["area", "month"]).aggregate([])
        self.touched.update(zip(cells["area"].to_pylist(), cells["month"].to_pylist(), strict=True))

    def cover(self, days: np.ndarray) -> None:
        """Widen the dates' range to take in these (numpy dates)."""
        if len(days):
            low, high = days.min().item(), days.max().item()
            self.first, self.last = min(self.first or low, low), max(self.last or high, high)


def _apply_changes(cursor: Any, applied: Applied) -> None:
    """Correct the staged changed reports, in set-based SQL: their CED uses are replaced."""
    cursor.execute(f"SELECT COUNT(*) FROM {STAGING}")
    if not cursor.fetchone()[0]:
        return
    fields = [f for f in UseOfForceReport._meta.concrete_fields if f.name not in ("id", "withdrawn_in_version")]
    updated = [f.column for f in fields if f.name not in ("force", "source_key")]
    ced_columns = [f.column for f in CedUse._meta.concrete_fields if f.name != "id"]
    analyze(cursor, STAGING, "id")
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


def _withdraw_and_count(batch: ImportBatch, applied: Applied, held: HeldReports) -> None:
    """Correct, withdraw what the edition no longer holds (within the financial years it covers), count it all.

    The reports to withdraw are found among those held (see HeldReports.withdrawn). A change
    small beside its cells is counted into the summaries here: what the touched reports counted
    is taken away before the corrections and withdrawals, and what they count after is added.
    """
    batch.rows_added, batch.rows_changed, batch.rows_unchanged = applied.added, applied.changed, applied.unchanged
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and batch.rows_added > max(ANALYZE_AFTER_ROWS, held.holds // 10):
            # The planner's statistics predate the rows just added: it would take the table
            # for nearly empty and plan later queries of it as quadratic nested loops, and the
            # report lists by an area or a subject's ethnicity as scans of the whole area. Every
            # column: the lists filter by most of them. (Not worth it for rows few beside what the
            # force holds: ANALYZE samples the whole table.)
            analyze(cursor, REPORT)
            analyze(cursor, CED_USE)
        covered = applied.first and applied.last and financial_year_bounds(applied.first, applied.last)
        withdrawn = held.withdrawn(*covered) if covered else np.empty(0, np.int64)
        in_withdrawn = f"id IN (SELECT report_id FROM {WITHDRAWN})"
        if len(withdrawn):
            _write_ids(cursor, WITHDRAWN, withdrawn)
            analyze(cursor, WITHDRAWN, "report_id")
            cursor.execute(f"SELECT DISTINCT area_id, occurred_on FROM {REPORT} WHERE {in_withdrawn}")
            applied.touched.update(cursor.fetchall())
        change = _counted_change(cursor, batch, applied, len(withdrawn))
        _apply_changes(cursor, applied)
        if len(withdrawn):
            cursor.execute(f"UPDATE {REPORT} SET withdrawn_in_version = %s WHERE {in_withdrawn}", [batch.data_version])
            batch.rows_withdrawn = cursor.rowcount
        if change is not None:
            touched = Q(id__in=RawSQL(f"SELECT report_id FROM {TOUCHED}", []))  # noqa: S611
            change.count(touched, batch.data_version or 0)
        batch.summaries_counted = change is not None
        batch.summary_cells = cells_of(applied.touched)
        for name in (STAGING, STAGING_CED, WITHDRAWN, TOUCHED):
            cursor.execute(f"DROP TABLE {name}")


def _counted_change(cursor: Any, batch: ImportBatch, applied: Applied, withdrawn: int) -> CountedChange | None:
    """The edition's change of the summaries, begun (a CountedChange), or None when a rebuild of its cells
    is to follow instead.

    Counting reads each report changed twice (as it was, as it is) and each added once, where a
    rebuild reads every report of the cells once: the change is counted when it is under half
    the reports its cells hold. A first import, whose cells hold nothing yet, is rebuilt after.
    """
    changes = applied.added + applied.changed + withdrawn
    if changes and 2 * changes >= reports_in_cells(batch.force_id, cells_of(applied.touched)):
        return None
    in_touched = f"(SELECT report_id FROM {TOUCHED})"
    cursor.execute(f"INSERT INTO {TOUCHED} (report_id, added) SELECT id, false FROM {STAGING}")
    cursor.execute(f"INSERT INTO {TOUCHED} (report_id, added) SELECT report_id, false FROM {WITHDRAWN}")
    if applied.added_ids:
        _write_ids(cursor, TOUCHED, np.concatenate(applied.added_ids))
    # Every report of an incident the edition touches, so that its incident is counted whole.
    cursor.execute(
        f"INSERT INTO {TOUCHED} (report_id, added) SELECT id, false FROM {REPORT} WHERE force_id = %s "
        f"AND incident_reference <> '' AND incident_reference IN ("
        f"SELECT incident_reference FROM {REPORT} WHERE id IN {in_touched} AND incident_reference <> '' "
        f"UNION SELECT incident_reference FROM {STAGING} WHERE incident_reference <> '')",
        [batch.force_id],
    )
    analyze(cursor, TOUCHED, "report_id")
    # The reports added are already written: as they were, the touched reports are the others.
    held = Q(id__in=RawSQL(f"SELECT report_id FROM {TOUCHED} WHERE NOT added", []))  # noqa: S611
    return CountedChange(batch.force_id, held & ~Q(import_batch=batch.pk))


def _write_ids(cursor: Any, table: str, ids: np.ndarray) -> None:
    if connection.vendor == "postgresql":
        # Written by pyarrow: a million ids as Python text would take some 70 MB more at once.
        data = io.BytesIO()
        pacsv.write_csv(pa.table({"report_id": ids}), data, pacsv.WriteOptions(include_header=False))
        data.seek(0)
        cursor.copy_expert(f"COPY {table} (report_id) FROM STDIN WITH (FORMAT csv)", data, COPY_CHUNK_BYTES)
    else:
        cursor.executemany(f"INSERT INTO {table} (report_id) VALUES (%s)", [(i,) for i in ids.tolist()])
