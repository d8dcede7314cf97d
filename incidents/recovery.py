"""Imports that always end: leases, takeovers, the sweep of stuck batches, and retries.

A batch being imported holds a lease (ImportBatch.lease_until) that its importer renews as it
reads. An importer that dies (killed, its machine gone, its database lost for good) stops renewing,
and once the lease has lapsed the batch is another's to take: a redelivered task imports it again
from the start (the import is one transaction, so nothing of the first try was written and nothing
doubles), and `recover_imports` ends or requeues it. After IMPORT_MAX_ATTEMPTS starts it fails,
saying why. A waiting batch's lease is how long it may wait before it counts as lost from the queue.
"""

import datetime
import logging
import time

from django.conf import settings
from django.db import DatabaseError, connection, connections, models, transaction
from django.utils import timezone

from forces.services import InputError
from incidents.models import ImportBatch

logger = logging.getLogger(__name__)

UNFINISHED = (ImportBatch.Status.PENDING, ImportBatch.Status.RUNNING)
GAVE_UP = (
    "The import was started {attempts} times and its worker stopped each time before it finished; nothing was "
    "written. Retry it from this page, or import the file on the server with manage.py import_uof."
)
LOST = (
    "The import stopped without finishing: its process ended or lost the database before it could say so. "
    "Nothing was written; run it again."
)
FILE_GONE = "The uploaded file is no longer on the server, so the import cannot run; upload it again."


def new_lease():
    return timezone.now() + datetime.timedelta(seconds=settings.IMPORT_LEASE_SECONDS)


def lapsed(now=None):
    """Unfinished batches whose lease has run out (or that never had one)."""
    now = now or timezone.now()
    return models.Q(status__in=UNFINISHED) & (models.Q(lease_until__lt=now) | models.Q(lease_until__isnull=True))


def claim(batch_id) -> ImportBatch | None:
    """Take a batch to import: a waiting one, or a running one whose importer's lease has lapsed.

    None when it is not this caller's to import: finished, or running under a live lease (a
    message delivered twice), or out of attempts (then it is failed here, with the reason).
    """
    with transaction.atomic():
        batch = (
            # Ordered by id, not as the model orders: that joins the force, and would lock it too.
            ImportBatch.objects.select_for_update()
            .filter(models.Q(status=ImportBatch.Status.PENDING) | lapsed(), pk=batch_id)
            .order_by("pk")
            .first()
        )
        if batch is None:
            return None
        if batch.attempts >= settings.IMPORT_MAX_ATTEMPTS:
            _fail(batch, GAVE_UP.format(attempts=batch.attempts))
            return None
        if batch.status == ImportBatch.Status.RUNNING:
            logger.warning("Import batch %s: its importer's lease lapsed; importing it again from the start.", batch.pk)
        batch.status, batch.lease_until, batch.attempts = ImportBatch.Status.RUNNING, new_lease(), batch.attempts + 1
        batch.save(update_fields=["status", "lease_until", "attempts"])
    return batch


def lease_left(batch_id) -> float | None:
    """Seconds until the lease of a running batch runs out (0 if it has); None for a batch not running."""
    lease = ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.RUNNING).values_list(
        "lease_until", flat=True
    )
    if not lease or lease[0] is None:
        return None
    return max((lease[0] - timezone.now()).total_seconds(), 0)


def still_ours(batch) -> bool:
    """Whether a claimed batch is still this importer's: no other took it over while it waited for its force."""
    return ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.RUNNING, attempts=batch.attempts).exists()


class LeaseKeeper:
    """The progress callback of an import, renewing its batch's lease at most every third of a lease.

    The renewal goes on a connection of its own: the import's transaction would hide it until the
    end. On SQLite there is one writer, the import itself, so the lease is not renewed there; the
    embedded default runs imports in the process that serves the upload.
    """

    def __init__(self, batch, progress=None):
        self.batch, self.progress = batch, progress
        self.every = settings.IMPORT_LEASE_SECONDS / 3
        self.next = time.monotonic() + self.every

    def __call__(self, rows):
        if self.progress:
            self.progress(rows)
        if time.monotonic() >= self.next and connection.vendor == "postgresql":
            self.next = time.monotonic() + self.every
            self.renew()

    def renew(self):
        own = connections.create_connection(connection.alias)
        try:
            with own.cursor() as cursor:
                cursor.execute("SET lock_timeout = '2s'")  # a heartbeat never waits long
                cursor.execute(
                    f"UPDATE {ImportBatch._meta.db_table} SET lease_until = %s WHERE id = %s AND attempts = %s",  # noqa: S608 - our table's name
                    [new_lease(), self.batch.pk, self.batch.attempts],
                )
        except DatabaseError:  # a heartbeat missed is a lease shorter; the import goes on
            logger.warning("Could not renew the lease of import batch %s", self.batch.pk, exc_info=True)
        finally:
            own.close()


def stuck_batches():
    """Batches waiting or running past their lease, oldest first."""
    return ImportBatch.objects.filter(lapsed()).select_related("force").order_by("pk")


def requeue(batch) -> bool:
    """Put a stuck batch back to waiting, with a new lease for its wait; False if it has moved on meanwhile."""
    requeued = ImportBatch.objects.filter(lapsed(), pk=batch.pk).update(
        status=ImportBatch.Status.PENDING, lease_until=new_lease()
    )
    if requeued:
        logger.warning("Import batch %s was stuck %s; queued again.", batch.pk, batch.status)
    return bool(requeued)


def fail(batch, reason) -> bool:
    """End a stuck batch as failed with its reason; False if it has moved on meanwhile."""
    with transaction.atomic():
        stuck = ImportBatch.objects.select_for_update().filter(lapsed(), pk=batch.pk).order_by("pk").first()
        if stuck is None:
            return False
        _fail(stuck, reason)
    return True


def _fail(batch, reason):
    logger.error("Import batch %s failed: %s", batch.pk, reason)
    batch.status, batch.errors, batch.finished_at, batch.lease_until = (
        ImportBatch.Status.FAILED,
        [reason],
        timezone.now(),
        None,
    )
    batch.rows_added = batch.rows_changed = batch.rows_unchanged = batch.rows_withdrawn = 0
    batch.save()


def retry(batch) -> ImportBatch:
    """Make a failed batch wait to be imported again from its kept file, as a new start."""
    if batch.status != ImportBatch.Status.FAILED:
        raise InputError(f"Import {batch.pk} is {batch.get_status_display().lower()}; only a failed import is retried.")
    batch.status, batch.attempts, batch.lease_until = ImportBatch.Status.PENDING, 0, new_lease()
    batch.data_version = batch.finished_at = None
    batch.errors, batch.notes, batch.summary_cells = [], [], []
    batch.rows_read = batch.rows_added = batch.rows_changed = batch.rows_unchanged = 0
    batch.rows_withdrawn = batch.rows_rejected = 0
    batch.save()
    logger.info("Import batch %s is to be imported again.", batch.pk)
    return batch


def recently_imported(since) -> set[str]:
    """Forces with an import finished since `since`: the rebuild it queued may still be on its way."""
    finished = ImportBatch.objects.filter(status=ImportBatch.Status.SUCCEEDED, finished_at__gte=since)
    return set(finished.values_list("force", flat=True))
