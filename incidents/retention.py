"""Record retention: reports past the horizon removed, their months kept as summaries."""

import datetime
import functools
import operator
import shutil
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from forces.models import Force
from forces.versions import bump_figures_version
from incidents import queries
from incidents.imports.bulk import delete_reports
from incidents.imports.uploads import upload_folder
from incidents.models import CURRENT, CedUse, ImportBatch, MonthlySummary, RetentionRun, UseOfForceReport
from incidents.summaries import insert_summaries, latest_versions
from oversight.police_calendar import months_back


def retention_horizon(years: int, today: datetime.date | None = None) -> datetime.date:
    """The first day of the month `years` years before this one: reports before it are past retention.

    A whole month, so that each monthly summary is of reports that are either all kept or all removed.
    """
    return months_back((today or timezone.localdate()).replace(day=1), 12 * years)


def past_retention(horizon: datetime.date) -> tuple[QuerySet[UseOfForceReport], QuerySet[UseOfForceReport]]:
    """(reports to remove, reports kept) among those that occurred before `horizon`.

    A report a scrutiny panel sampled is kept while the panel's record of it is: its case,
    reviews and finding refer to it, and published findings are public records. Such records
    protect their report from deletion (on_delete=PROTECT); they are found from the model, so
    that this app names none of the apps built on it.
    """
    older = UseOfForceReport.objects.filter(occurred_on__lt=horizon)
    protecting = [
        # A relation's model is a class here ("self" is resolved once the apps are loaded); its
        # manager is the one each app declares, unknown to the type checker.
        models.Exists(cast(Any, relation.related_model).objects.filter(**{relation.field.name: models.OuterRef("pk")}))
        for relation in UseOfForceReport._meta.related_objects
        if relation.on_delete is models.PROTECT
    ]
    if not protecting:
        return older, older.none()
    sampled = functools.reduce(operator.or_, protecting)
    return older.exclude(sampled), older.filter(sampled)


def apply_retention(*, years: int, today: datetime.date | None = None) -> RetentionRun | None:
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
        reports = CURRENT & Q(occurred_on__lt=horizon)
        if previous is not None:
            months, reports = months.filter(month__gte=previous), reports & Q(occurred_on__gte=previous)
        months.delete()
        insert_summaries(reports, latest_versions(force_ids))
        run = RetentionRun(
            removed_before=max(horizon, previous or horizon), years=years, reports_removed=report_count,
            ced_uses_removed=CedUse.objects.filter(report__in=removed).count(), reports_kept=kept.count(),
        )  # fmt: skip
        run.audit_entries_removed = _remove_audit_entries(removed, horizon)
        delete_reports(removed)
        uploads = list(ImportBatch.objects.filter(created_at__date__lt=horizon).values_list("pk", flat=True))
        run.save()
        bump_figures_version(force_ids)
    run.uploads_removed = _remove_uploads(uploads)
    if run.uploads_removed:
        run.save(update_fields=["uploads_removed"])
    return run


def _remove_audit_entries(removed: QuerySet[UseOfForceReport], horizon: datetime.date) -> int:
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

    def report_of(content_type: int, object_id: Any, data: dict[str, Any] | None) -> Any:
        return object_id if content_type == report_type.pk else (data or {}).get("report")

    named = {report_of(*entry[1:]) for entry in entries} - {None}
    going: set[Any] = set()
    existing: set[Any] = set()
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


def _chunks(items: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _remove_uploads(batch_ids: Iterable[int]) -> int:
    """Delete the folders of these imports' uploaded files; returns how many there were."""
    removed = 0
    for batch_id in batch_ids:
        folder = upload_folder(batch_id)
        if folder.is_dir():
            shutil.rmtree(folder)
            removed += 1
    return removed
