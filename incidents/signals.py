"""Receivers that keep the summaries following edits made one record at a time (the admin, a service's save
or delete): each is counted into its summary cells in the edit's own transaction (summaries.CountedEdit).

A report's save, or a CED use's, is one edit: counted between its pre_save and its post_save. A
delete is one edit however many reports and CED uses it removes: Django sends every pre_delete
of a delete before its first post_delete, and the change is counted after the last. A save made
outside any transaction (a script's bare save()) cannot be counted in its transaction: its cells
are rebuilt right after it instead.

Connected in IncidentsConfig.ready(); they queue what follows a change (alerts, public cells), so
they sit beside the tasks, above the services.
"""

import threading
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from forces.versions import bump_figures_version
from incidents.models import ImportBatch, UseOfForceReport
from incidents.summaries import CountedEdit, cells_of, rebuild_summaries
from incidents.tasks import queue_summary_rebuild

_edits = threading.local()  # the edit under way in this thread, if any


@dataclass
class Edit:
    origin: Any  # the instance saved, or what delete() was called on
    block: Any  # the transaction block of a delete
    counted: CountedEdit = field(default_factory=CountedEdit)
    pending: int = 0  # pre_ signals not yet followed by their post_ signal
    added: list[int] = field(default_factory=list)


def _report_places(report_id: int | None) -> tuple[str | None, str]:
    """(force id, incident reference) of a report as it stands in the database (none yet for a new one)."""
    if report_id is None:
        return None, ""
    row = UseOfForceReport.objects.filter(pk=report_id).values_list("force_id", "incident_reference").first()
    return row or (None, "")


def _begin(edit: Edit, report: UseOfForceReport | None, report_id: int | None) -> None:
    """Before a report changes: count what it (and its incidents, as they were and will be) count now."""
    force_id, reference = _report_places(report_id)
    forces, references = {force_id}, {reference}
    if report is not None:  # its new force and incident
        forces.add(report.force_id)
        references.add(report.incident_reference)
    edit.counted.include(forces, [report_id] if report_id else [], references)
    edit.pending += 1


def _end(edit: Edit) -> None:
    edit.pending -= 1
    if edit.pending:
        return
    _edits.edit = None
    for force_id, cells in edit.counted.count(edit.added).items():
        if cells:
            queue_summary_rebuild(force_id, cells, counted=True)  # alerts and public cells follow


def before_save(sender, instance, **kwargs):
    """pre_save of a report or a CED use: an edit begins (or, outside a transaction, where its report was)."""
    report = instance if sender is UseOfForceReport else None
    report_id = instance.pk if report is not None else instance.report_id
    if not connection.in_atomic_block:
        instance._cell_before = UseOfForceReport.objects.filter(pk=report_id).values_list(
            "force_id", "area_id", "occurred_on"
        ).first()  # fmt: skip
        _edits.edit = None
        return
    _edits.edit = edit = Edit(origin=instance, block=None)  # saves never nest: any edit before is over
    _begin(edit, report, report_id)


def after_save(sender, instance, created, **kwargs):
    edit = getattr(_edits, "edit", None)
    if edit is None or edit.origin is not instance:
        _rebuild_after(sender, instance)
        return
    if sender is UseOfForceReport and created:
        edit.added.append(instance.pk)
    _end(edit)


def before_delete(sender, instance, origin=None, **kwargs):
    """pre_delete of a report or a CED use: part of one delete's edit (a delete runs in its own transaction)."""
    block = connection.atomic_blocks[-1] if connection.atomic_blocks else None
    edit = getattr(_edits, "edit", None)
    if edit is None or edit.origin is not origin or edit.block is not block:
        _edits.edit = edit = Edit(origin=origin, block=block)
    _begin(edit, None, instance.pk if sender is UseOfForceReport else instance.report_id)


def after_delete(sender, instance, origin=None, **kwargs):
    edit = getattr(_edits, "edit", None)
    if edit is not None and edit.origin is origin:
        _end(edit)


def _rebuild_after(sender, instance) -> None:
    """A save outside any transaction: rebuild the cells its report left and entered, now."""
    report = instance if sender is UseOfForceReport else UseOfForceReport.objects.filter(pk=instance.report_id).first()
    if report is None:
        return
    places = [getattr(instance, "_cell_before", None), (report.force_id, report.area_id, report.occurred_on)]
    for force_id in {place[0] for place in places if place}:
        cells = cells_of((area, day) for force, area, day in filter(None, places) if force == force_id)
        rebuild_summaries(force_ids=[force_id], cells=cells)
        queue_summary_rebuild(force_id, cells, counted=True)


def batch_saved(sender, instance, **kwargs):
    """post_save of an import batch: once it has succeeded, its force's figures version moves on."""
    if instance.status == ImportBatch.Status.SUCCEEDED:
        bump_figures_version([instance.force_id])
