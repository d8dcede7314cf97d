"""Record retention: reports older than the retention period go, with everything record-level about them;
the monthly summaries of their months stay, and no later rebuild takes them away."""

import datetime

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.core.management import call_command
from django.core.management.base import CommandError

from incidents import tasks
from incidents.imports import uploads
from incidents.models import CedLevel, CedUse, ImportBatch, MonthlySummary, RetentionRun, UseOfForceReport
from incidents.retention import apply_retention
from incidents.summaries import rebuild_summaries, stale_forces
from tests.factories import CedUseFactory, ReportFactory, SampledCaseFactory

TODAY = datetime.date(2025, 7, 15)  # five years back: reports before July 2020 are past retention
COUNTED = ("reports", "taser_reports", "level_fired", "discharge", "incidents", "incidents_taser", "extended_cycles")


def summaries():
    return {
        (s.area_id, s.month.isoformat()): tuple(getattr(s, name) for name in COUNTED)
        for s in MonthlySummary.objects.all()
    }


@pytest.fixture
def years_of_reports(oxford, force_data_officer):
    """Thames Valley reports from 2019 to 2024 in Oxford, summarised; the oldest fired a Taser."""
    with set_actor(force_data_officer):
        fired = ReportFactory(area=oxford, occurred_on=datetime.date(2019, 5, 10), ced_levels=[CedLevel.FIRED])
        CedUseFactory(report=fired, ced_fired=True, cycle_extended=True)
        reports = {
            "fired": fired,
            "old": ReportFactory(area=oxford, occurred_on=datetime.date(2019, 5, 11), incident_reference="INC-1"),
            "last old month": ReportFactory(area=oxford, occurred_on=datetime.date(2020, 6, 30)),
            "first kept month": ReportFactory(area=oxford, occurred_on=datetime.date(2020, 7, 1)),
            "recent": ReportFactory(area=oxford, occurred_on=datetime.date(2024, 3, 1), ced_levels=[CedLevel.DRAWN]),
        }
    rebuild_summaries()
    return reports


def test_retention_removes_old_reports_and_their_devices_and_keeps_their_summaries(years_of_reports):
    before = summaries()
    run = apply_retention(years=5, today=TODAY)
    assert sorted(UseOfForceReport.objects.values_list("occurred_on", flat=True)) == [
        datetime.date(2020, 7, 1), datetime.date(2024, 3, 1),
    ]  # fmt: skip
    assert not CedUse.objects.exists()
    assert (run.removed_before, run.reports_removed, run.ced_uses_removed) == (datetime.date(2020, 7, 1), 3, 1)
    assert summaries() == before
    assert before[(years_of_reports["fired"].area_id, "2019-05-01")] == (2, 1, 1, 1, 2, 1, 1)


def test_no_rebuild_takes_away_the_summaries_of_months_whose_reports_retention_removed(years_of_reports, oxford):
    before = summaries()
    apply_retention(years=5, today=TODAY)
    rebuild_summaries()  # everything, as `rebuild_summaries` and beat's nightly job for a stale force do
    assert summaries() == before
    rebuild_summaries(force_ids=["thames-valley"], cells=[[oxford.pk, "2019-05-01"], [oxford.pk, "2024-03-01"]])
    assert summaries() == before  # an edit's or an import's rebuild of an old cell leaves it too
    assert stale_forces() == []


def test_retention_counts_an_edit_of_a_month_it_keeps_before_removing_the_report(years_of_reports, oxford):
    ReportFactory(area=oxford, occurred_on=datetime.date(2019, 5, 20))  # counted as it is saved
    apply_retention(years=5, today=TODAY)
    assert summaries()[(oxford.pk, "2019-05-01")][0] == 3


def test_retention_summarises_an_import_whose_rebuild_has_not_run_before_it_keeps_a_month(years_of_reports, oxford):
    # Written as a large import writes its reports (no signal), its rebuild still queued.
    batch = ImportBatch.objects.create(force=oxford.force, data_version=7, status=ImportBatch.Status.SUCCEEDED)
    UseOfForceReport.objects.bulk_create(
        [UseOfForceReport(force=oxford.force, area=oxford, occurred_on=datetime.date(2019, 5, 20), import_batch=batch)]
    )
    assert stale_forces() == ["thames-valley"]
    apply_retention(years=5, today=TODAY)
    assert summaries()[(oxford.pk, "2019-05-01")][0] == 3


def test_a_report_a_panel_sampled_is_kept_with_the_panels_record(years_of_reports):
    case = SampledCaseFactory(report=years_of_reports["old"])
    run = apply_retention(years=5, today=TODAY)
    assert run.reports_kept == 1
    assert UseOfForceReport.objects.filter(pk=case.report_id).exists()


def test_retention_removes_what_the_audit_trail_holds_of_the_reports_it_removes(
    years_of_reports, oxford, force_data_officer
):
    with set_actor(force_data_officer):
        deleted_by_hand = ReportFactory(area=oxford, occurred_on=datetime.date(2018, 1, 1))
        deleted_pk = deleted_by_hand.pk
        deleted_by_hand.delete()
    removed = [years_of_reports[name].pk for name in ("fired", "old", "last old month")]
    kept = years_of_reports["recent"].pk
    run = apply_retention(years=5, today=TODAY)
    assert not LogEntry.objects.filter(content_type__model="useofforcereport", object_id__in=[*removed, deleted_pk])
    assert not LogEntry.objects.filter(content_type__model="ceduse").exists()
    assert LogEntry.objects.filter(content_type__model="useofforcereport", object_id=kept).exists()
    assert run.audit_entries_removed == 6  # three reports and one device created, one report created and deleted


def test_retention_removes_old_uploads_and_their_reject_files(years_of_reports, thames_valley, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    old = ImportBatch.objects.create(force=thames_valley, source_name="old.csv", source_format="met")
    recent = ImportBatch.objects.create(force=thames_valley, source_name="new.csv", source_format="met")
    ImportBatch.objects.filter(pk=old.pk).update(created_at=datetime.datetime(2019, 6, 1, tzinfo=datetime.UTC))
    for batch in (old, recent):
        folder = uploads.upload_folder(batch.pk)
        folder.mkdir(parents=True)
        (folder / batch.source_name).write_text("IncidentDate\n2019-05-10\n")
        (folder / f"{batch.source_name[:-4]}.rejects.csv").write_text("row,problems\n")
    run = apply_retention(years=5, today=TODAY)
    assert run.uploads_removed == 1
    assert not uploads.upload_folder(old.pk).exists() and uploads.upload_folder(recent.pk).exists()
    assert ImportBatch.objects.filter(pk=old.pk).exists()  # what was imported, when, by whom: kept


def test_retention_again_with_nothing_older_does_nothing(years_of_reports):
    apply_retention(years=5, today=TODAY)
    assert apply_retention(years=5, today=TODAY) is None
    assert RetentionRun.objects.count() == 1


def test_the_next_month_moves_the_horizon_on_and_keeps_every_month_before_it(years_of_reports):
    before = summaries()
    apply_retention(years=5, today=TODAY)
    apply_retention(years=5, today=datetime.date(2025, 8, 2))
    assert summaries() == before
    assert not UseOfForceReport.objects.filter(occurred_on=datetime.date(2020, 7, 1)).exists()


def test_the_command_applies_the_setting_and_says_what_it_removed(years_of_reports, settings, capsys):
    settings.RECORD_RETENTION_YEARS = 1
    call_command("apply_retention", "--dry-run")
    assert "would be removed" in capsys.readouterr().out
    assert UseOfForceReport.objects.count() == 5
    call_command("apply_retention")
    assert "Summaries kept" in capsys.readouterr().out
    assert UseOfForceReport.objects.count() < 5


def test_the_command_without_a_retention_period_refuses_in_one_line(db, settings):
    settings.RECORD_RETENTION_YEARS = 0
    with pytest.raises(CommandError, match="No retention period: set RECORD_RETENTION_YEARS or pass --years N"):
        call_command("apply_retention")


def test_the_nightly_task_does_nothing_while_the_setting_is_off(years_of_reports, settings):
    settings.RECORD_RETENTION_YEARS = 0
    assert tasks.apply_retention() is None
    assert UseOfForceReport.objects.count() == 5
