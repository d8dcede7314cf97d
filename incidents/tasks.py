"""Celery tasks: thin, they take ids and call a service.

An upload makes a pending ImportBatch at once (so its page exists), stores the file in
the batch's folder and enqueues `import_file` on commit; `import_reports` then runs that
batch. Progress goes through the cache, because the import's own transaction hides the
counts it writes to the batch until it commits.

A successful import (or a single edit) then queues `rebuild_summary_cells` for the
summary cells it changed; beat runs `recover_imports` every few minutes (see recovery.py),
`apply_retention` and `rebuild_stale_summaries` nightly and `build_last_quarter_reports`
(dashboards.tasks) at the start of each quarter. Services never import this module: whoever
runs an import (a task, a command) queues what follows it, with `queue_summary_rebuild`.
"""

import datetime
import logging
import threading
from dataclasses import dataclass

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from forces.services import InputError
from incidents import disclosure, recovery, retention
from incidents.alerts import raise_alerts
from incidents.imports.pipeline import ImportFailed, import_reports
from incidents.imports.uploads import uploaded_file
from incidents.models import ImportBatch
from incidents.summaries import cells_of, rebuild_summaries, stale_forces

logger = logging.getLogger(__name__)

# A crashed worker's count must not stay in the cache for ever.
PROGRESS_SECONDS = 24 * 3600
UNFINISHED = recovery.UNFINISHED
NOT_QUEUED = (
    "The task queue is not answering. Your file is kept: the import starts by itself once the queue answers "
    "again, and its page shows when. There is no need to upload it again."
)
# What an upload the queue did not take tells its client to wait (Retry-After): about one sweep.
QUEUE_RETRY_SECONDS = 120


def progress_key(batch_id):
    return f"import-progress:{batch_id}"


def rows_read_so_far(batch):
    """Rows an import has read: from the cache while it runs, from the batch once it has finished."""
    if batch.status in UNFINISHED:
        return cache.get(progress_key(batch.pk), batch.rows_read)
    return batch.rows_read


class ProgressCounter:
    """The `progress` callback of import_reports: keeps the count of rows read in the cache."""

    def __init__(self, batch_id):
        self.key, self.rows = progress_key(batch_id), 0

    def __call__(self, rows):
        self.rows += rows
        try:
            cache.set(self.key, self.rows, PROGRESS_SECONDS)
        except Exception:  # noqa: BLE001 - a progress display must never fail an import
            logger.warning("Could not record import progress under %s", self.key, exc_info=True)


def enqueue_import(batch_id):
    """Queue the import of a waiting batch, once committed; False when the task queue did not answer.

    The batch holds its options (skip invalid rows, strict, new areas), so a batch queued again by
    recover_imports is imported as it was asked. A batch the queue did not take keeps its file and
    waits: recover_imports queues it once the queue answers again. Inside a transaction it is queued
    when that commits (a worker must be able to find it), and counted as queued here.
    """
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _send(batch_id), robust=True)
        return True
    return _send(batch_id)


def _send(batch_id):
    try:
        import_file.delay(batch_id)
    except OperationalError:
        logger.exception("Could not queue the import of batch %s; it waits, its file kept.", batch_id)
        return False
    except Exception:
        if not import_file.app.conf.task_always_eager:
            raise
        # Without a broker the import ran right here: its failure is on the batch and in the
        # log, and the upload's answer is its page, not a server error.
        logger.exception("The import of batch %s stopped on an unexpected error", batch_id)
    return True


@shared_task(bind=True, max_retries=20)
def import_file(self, batch_id):
    """Import the file uploaded for a waiting batch, or one whose importer is gone; the batch records the outcome."""
    # The claim means a message delivered twice (acks_late redelivers after a lost worker) never
    # imports one upload twice at once, while a batch whose importer died is taken over.
    batch = recovery.claim(batch_id)
    if batch is None:
        wait = recovery.lease_left(batch_id)
        if wait is not None and not (self.request.called_directly or self.request.is_eager):
            # Running under a lease: its importer may have died with this very task. Look again
            # when the lease has run out: by then it is renewed, finished, or this task's to take over.
            logger.warning("Import batch %s is running; looking again in %.0f s.", batch_id, wait)
            raise self.retry(countdown=wait + 1)
        logger.warning("Import batch %s is not waiting and its importer is alive or done; not importing it.", batch_id)
        return None
    batch = ImportBatch.objects.select_related("force", "uploaded_by").get(pk=batch_id)
    try:
        done = import_reports(
            uploaded_file(batch), batch.force, user=batch.uploaded_by, skip_invalid=batch.skip_invalid,
            strict=batch.strict, new_areas=batch.new_areas, progress=ProgressCounter(batch_id), batch=batch,
        )  # fmt: skip
        if done is not None:
            queue_summary_rebuild(done.force_id, done.summary_cells, counted=done.summaries_counted)
    except (ImportFailed, InputError):
        pass  # the batch holds the problems; its page and the API show them
    finally:
        cache.delete(progress_key(batch_id))
    return batch.status


@shared_task
def recover_imports():
    """Every few minutes (beat), and by hand: end or queue again every import stuck past its lease, and
    queue the rebuild of every force whose summaries lag behind its data."""
    outcome = {"queued": [], "failed": [], "rebuilds": []}
    for batch in recovery.stuck_batches():
        if batch.attempts >= settings.IMPORT_MAX_ATTEMPTS:
            ended = recovery.fail(batch, recovery.GAVE_UP.format(attempts=batch.attempts))
        elif not uploaded_file(batch).is_file():
            # import_uof's batches have no upload: their command ended, or lost the database, mid-import.
            ended = recovery.fail(
                batch, recovery.LOST if batch.status == ImportBatch.Status.RUNNING else recovery.FILE_GONE
            )
        else:
            if recovery.requeue(batch) and enqueue_import(batch.pk):
                outcome["queued"].append(batch.pk)
            continue
        if ended:
            outcome["failed"].append(batch.pk)
    settled = timezone.now() - datetime.timedelta(seconds=settings.IMPORT_LEASE_SECONDS)
    for force_id in sorted(set(stale_forces()) - recovery.recently_imported(settled)):
        logger.warning("The summaries of %s are older than its data; rebuilding them.", force_id)
        queue_summary_rebuild(force_id)
        outcome["rebuilds"].append(force_id)
    return outcome


@shared_task(autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5)
def rebuild_summary_cells(force_id, cells=None, counted=False):
    """Rebuild a force's monthly summaries (all, or the given [area id, month] cells), then its alerts.

    `counted`: the change was counted into those cells as it was made (an import's CountedChange),
    so only what follows a rebuild runs.
    """
    written = 0 if counted else rebuild_summaries(force_ids=[force_id], cells=cells)
    raise_alerts(force_id=force_id, cells=cells)
    disclosure.prepare_public_cells([force_id])
    return written


def queue_summary_rebuild(force_id, cells=None, counted=False):
    """Rebuild a force's summary cells (None: all) once the current transaction commits.

    `counted`: the cells already count the change (see rebuild_summary_cells); their alerts follow.

    A Celery task when a broker is configured, in-process otherwise, and in-process too when the
    broker does not answer: the change is committed, so its summaries must follow it now, not never.

    Every change of one force in one transaction (a hundred reports edited together) makes one
    task, of all their cells. Each change registers a commit hook holding the force's one rebuild
    of the transaction; the first hook to run sends it (a hook in a savepoint rolled back is
    dropped, the others still hold it). Counted only if every change was counted.
    """
    outermost = connection.atomic_blocks[0] if connection.in_atomic_block else None
    if not hasattr(_queued, "rebuilds") or _queued.transaction is not outermost:  # what another queued is gone
        _queued.transaction, _queued.rebuilds = outermost, {}
    rebuild = _queued.rebuilds.get(force_id)
    if rebuild is None or rebuild.sent:
        rebuild = _queued.rebuilds[force_id] = QueuedRebuild(cells, counted)
    else:
        rebuild.add(cells, counted)
    transaction.on_commit(lambda: rebuild.send(force_id), robust=True)


_queued = threading.local()  # this thread's transaction, and its rebuilds by force: connections are per thread


@dataclass
class QueuedRebuild:
    cells: list | None
    counted: bool
    sent: bool = False

    def add(self, cells, counted):
        self.cells = None if cells is None or self.cells is None else cells_of(map(tuple, [*self.cells, *cells]))
        self.counted = self.counted and counted

    def send(self, force_id):
        if not self.sent:
            self.sent = True
            _send_rebuild(force_id, self.cells, self.counted)


def _send_rebuild(force_id, cells, counted):
    try:
        rebuild_summary_cells.delay(force_id, cells, counted)
    except OperationalError:
        logger.warning("The task queue did not answer: rebuilding %s's summaries here instead.", force_id)
        rebuild_summary_cells(force_id, cells, counted)


@shared_task(autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5)
def rebuild_stale_summaries():
    """The nightly job: rebuild every force whose summaries are older than its data."""
    stale = stale_forces()
    for force_id in stale:
        rebuild_summary_cells(force_id)
    return stale


@shared_task(autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5)
def apply_retention():
    """The nightly job: remove record-level data past RECORD_RETENTION_YEARS (nothing while it is 0)."""
    if settings.RECORD_RETENTION_YEARS <= 0:
        return None
    run = retention.apply_retention(years=settings.RECORD_RETENTION_YEARS)
    return run and run.pk
