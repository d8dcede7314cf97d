"""The figures version: what cached pages and answers are kept under (see FiguresVersion).

The writes that change a figure call bump_figures_version at their end, inside their transaction;
readers call figures_version before reading anything else, so that an answer kept under a version
is never older than that version's data.
"""

import datetime
from collections.abc import Iterable

from django.db import connection
from django.db.models import F, Max, Sum
from django.utils import timezone

from forces.models import FiguresVersion, Force

NATIONAL = ""


def bump_figures_version(force_ids: Iterable[str] | None = None) -> None:
    """Move on the figures version of these forces; None: of every force and of the national figures."""
    if force_ids is None:
        scopes = [NATIONAL, *Force.objects.values_list("pk", flat=True)]
    else:
        scopes = sorted({force_id for force_id in force_ids if force_id is not None})
    if not scopes:
        return
    now = timezone.now()
    # Rows are made on first use; then one UPDATE, rows locked in key order, moves them all on.
    FiguresVersion.objects.bulk_create(
        [FiguresVersion(scope=scope, version=0, changed_at=now) for scope in scopes], ignore_conflicts=True
    )
    FiguresVersion.objects.filter(scope__in=scopes).update(version=F("version") + 1, changed_at=now)


def figures_version(*, force_id: str | None = None) -> tuple[int, datetime.datetime | None]:
    """(version, when it last changed) of one force's figures, or (force_id None) of all figures together.

    All together is the sum of the counters: it goes up whenever any of them does.
    """
    if force_id is not None:
        # Every page and answer kept by version reads this first, a hit included: plain SQL, since the ORM
        # building this one-row query cost more than the cache hit it comes before.
        with connection.cursor() as cursor:
            cursor.execute(_ONE_FORCE, [force_id])
            row = cursor.fetchone()
        if row is None:
            return 0, None
        changed_at = _changed_at.to_python(row[1])
        if timezone.is_naive(changed_at):  # SQLite keeps it without its zone, as the ORM would read it
            changed_at = timezone.make_aware(changed_at, connection.timezone)
        return row[0], changed_at
    totals = FiguresVersion.objects.aggregate(version=Sum("version"), changed_at=Max("changed_at"))
    return totals["version"] or 0, totals["changed_at"]


_ONE_FORCE = f"SELECT version, changed_at FROM {FiguresVersion._meta.db_table} WHERE scope = %s"  # noqa: S608 - our table's name
_changed_at = FiguresVersion._meta.get_field("changed_at")


def figures_changed(sender, instance, **kwargs):
    """post_save and post_delete of a row that pages show, saved one at a time (the admin, the API, a service):
    its force's figures version moves on, or every force's when the row has no force of its own.

    Bulk writes (imports, rebuilds, the Home Office tables) send no signal: they bump once themselves.
    """
    force_id = getattr(instance, "force_id", None)
    if force_id is None and "area" in instance._state.fields_cache:  # a population or local authority, by its area
        force_id = instance.area and instance.area.force_id
    bump_figures_version([force_id] if force_id else None)
