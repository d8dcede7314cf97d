"""Figures older than their data say so wherever they are shown, and the sweep brings them up to date."""

import datetime

from django.utils import timezone

from incidents import tasks
from incidents.models import ImportBatch, MonthlySummary
from incidents.summaries import rebuild_summaries
from tests.factories import ReportFactory

LAGGING = "Figures of data version 1; version 2 is being summarised."


def imported(force, version, minutes_ago=10):
    finished = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    return ImportBatch.objects.create(
        force=force, source_name=f"v{version}.csv", status="succeeded", data_version=version, finished_at=finished
    )


def summaries_a_version_behind(oxford):
    ReportFactory(area=oxford, occurred_on=datetime.date(2024, 5, 3))
    imported(oxford.force, 1)
    rebuild_summaries()
    imported(oxford.force, 2)  # its rebuild was lost with its worker


def test_every_page_and_answer_with_figures_says_they_are_a_version_behind(client, pcc_staff, oxford):
    summaries_a_version_behind(oxford)
    client.force_login(pcc_staff)
    for path in (
        "/forces/thames-valley/",
        f"/forces/thames-valley/areas/{oxford.code}/",
        "/forces/thames-valley/areas/",
        "/forces/thames-valley/quarterly/",
        "/public/thames-valley/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert LAGGING in response.content.decode(), path
    body = client.get("/api/v1/summaries/?force=thames-valley").json()
    assert body["being_summarised"] == {"thames-valley": {"figures_of_version": 1, "data_version": 2}}
    csv = client.get("/api/v1/summaries/?force=thames-valley&format=csv")
    assert csv["X-Being-Summarised"] == "thames-valley=2 (figures of 1)"


def test_figures_up_to_date_carry_no_warning(client, pcc_staff, oxford):
    ReportFactory(area=oxford, occurred_on=datetime.date(2024, 5, 3))
    imported(oxford.force, 1)
    rebuild_summaries()
    client.force_login(pcc_staff)
    assert "being summarised" not in client.get("/forces/thames-valley/").content.decode()
    assert client.get("/api/v1/summaries/?force=thames-valley").json()["being_summarised"] == {}


def test_the_sweep_rebuilds_summaries_left_behind_and_the_warning_goes(
    client, pcc_staff, oxford, django_capture_on_commit_callbacks
):
    summaries_a_version_behind(oxford)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.recover_imports()["rebuilds"] == ["thames-valley"]
    assert set(MonthlySummary.objects.values_list("data_version", flat=True)) == {2}
    client.force_login(pcc_staff)
    assert "being summarised" not in client.get("/forces/thames-valley/").content.decode()


def test_the_sweep_leaves_a_rebuild_an_import_has_just_queued_to_it(oxford):
    summaries_a_version_behind(oxford)
    ImportBatch.objects.filter(data_version=2).update(finished_at=timezone.now())
    assert tasks.recover_imports()["rebuilds"] == []
