"""Receivers that keep the summaries following edits made one record at a time (the admin, the API).

Connected in IncidentsConfig.ready(); they queue, so they sit beside the tasks, above the services.
"""

from forces.versions import bump_figures_version
from incidents.models import ImportBatch, UseOfForceReport
from incidents.summaries import cells_of
from incidents.tasks import queue_summary_rebuild


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


def batch_saved(sender, instance, **kwargs):
    """post_save of an import batch: once it has succeeded, its force's figures version moves on."""
    if instance.status == ImportBatch.Status.SUCCEEDED:
        bump_figures_version([instance.force_id])
