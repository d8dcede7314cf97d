"""Imports that always end: a batch whose importer is gone is taken over, swept, failed with its reason
or tried again; an upload the queue does not take waits with its file kept."""

import datetime
import io

import pytest
from django.conf import settings
from django.contrib.admin.sites import site
from django.core.management import call_command
from django.db import connection, transaction
from django.test import RequestFactory
from django.utils import timezone
from kombu.exceptions import OperationalError

from incidents import recovery, tasks
from incidents.imports import uploads
from incidents.imports.pipeline import import_reports
from incidents.models import ImportBatch, UseOfForceReport
from tests.incidents.test_import_uof import met_file, row

LIST, API = "/reports/imports/", "/api/v1/imports/"
ROWS = [row(Borough="Oxford"), row(Borough="Oxford", IncidentDate="2020-05-01")]


def lapsed_lease():
    return timezone.now() - datetime.timedelta(seconds=1)


def uploaded_batch(force, tmp_path, **fields):
    """A batch as an upload leaves it, its file in its folder."""
    batch = ImportBatch.objects.create(force=force, source_name="uof.csv", **fields)
    uploads.upload_folder(batch.pk).mkdir(parents=True)
    met_file(uploads.uploaded_file(batch), ROWS)
    return batch


def broker_down(*args, **kwargs):
    raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_a_redelivered_import_takes_over_a_batch_whose_importer_stopped_renewing_and_imports_it_once(
    thames_valley, oxford, tmp_path
):
    batch = uploaded_batch(thames_valley, tmp_path, status="running", attempts=1, lease_until=lapsed_lease())
    assert tasks.import_file(batch.pk) == "succeeded"
    batch.refresh_from_db()
    assert (batch.status, batch.attempts, batch.rows_added, batch.data_version) == ("succeeded", 2, 2, 1)
    assert UseOfForceReport.objects.count() == 2


def test_a_redelivered_import_leaves_a_batch_whose_importer_still_holds_its_lease(thames_valley, oxford, tmp_path):
    lease = timezone.now() + datetime.timedelta(minutes=5)
    batch = uploaded_batch(thames_valley, tmp_path, status="running", attempts=1, lease_until=lease)
    assert tasks.import_file(batch.pk) is None
    batch.refresh_from_db()
    assert (batch.status, batch.attempts) == ("running", 1)
    assert not UseOfForceReport.objects.exists()


def test_an_import_taken_over_while_it_waited_for_its_force_leaves_the_batch_to_the_new_importer(
    thames_valley, oxford, tmp_path
):
    batch = uploaded_batch(thames_valley, tmp_path)
    mine = recovery.claim(batch.pk)
    ImportBatch.objects.filter(pk=batch.pk).update(attempts=2)  # another importer took it over meanwhile
    assert import_reports(uploads.uploaded_file(mine), thames_valley, batch=mine) is None
    assert not UseOfForceReport.objects.exists()


def test_a_batch_out_of_attempts_ends_failed_saying_why_instead_of_starting_again(
    thames_valley, oxford, tmp_path, caplog
):
    attempts = settings.IMPORT_MAX_ATTEMPTS
    batch = uploaded_batch(thames_valley, tmp_path, status="running", attempts=attempts, lease_until=lapsed_lease())
    assert tasks.import_file(batch.pk) is None
    batch.refresh_from_db()
    assert (batch.status, batch.errors) == ("failed", [recovery.GAVE_UP.format(attempts=attempts)])
    assert batch.finished_at is not None and not UseOfForceReport.objects.exists()
    assert f"Import batch {batch.pk} failed" in caplog.text


def test_recover_imports_ends_a_command_line_import_whose_process_went_away(thames_valley, caplog):
    left = ImportBatch.objects.create(
        force=thames_valley, source_name="uof.csv", status="running", data_version=1, lease_until=lapsed_lease()
    )
    call_command("recover_imports", stdout=io.StringIO())
    left.refresh_from_db()
    assert (left.status, left.errors) == ("failed", [recovery.LOST])
    assert f"Import batch {left.pk} failed" in caplog.text


def test_recover_imports_queues_again_a_batch_stuck_waiting_and_it_is_imported(
    thames_valley, oxford, tmp_path, django_capture_on_commit_callbacks
):
    lost = uploaded_batch(thames_valley, tmp_path, lease_until=lapsed_lease())
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("recover_imports", stdout=out)
    lost.refresh_from_db()
    assert (lost.status, lost.rows_added) == ("succeeded", 2)
    assert f"Imports queued again: {lost.pk}." in out.getvalue()


def test_recover_imports_leaves_batches_within_their_lease(thames_valley, oxford, tmp_path):
    waiting = uploaded_batch(thames_valley, tmp_path, lease_until=recovery.new_lease())
    running = ImportBatch.objects.create(
        force=thames_valley, source_name="big.csv", status="running", lease_until=recovery.new_lease()
    )
    assert tasks.recover_imports() == {"queued": [], "failed": [], "rebuilds": []}
    assert ImportBatch.objects.get(pk=waiting.pk).status == "pending"
    assert ImportBatch.objects.get(pk=running.pk).status == "running"


def test_an_import_holds_a_lease_while_it_runs(thames_valley, oxford, tmp_path):
    path = met_file(tmp_path / "uof.csv", ROWS)
    before = timezone.now()
    batch = import_reports(path, thames_valley)
    assert batch.lease_until > before + datetime.timedelta(seconds=settings.IMPORT_LEASE_SECONDS - 60)


@pytest.mark.django_db(transaction=True)
def test_an_api_upload_the_queue_cannot_take_answers_503_with_retry_after_and_is_imported_once_it_answers(
    client, monkeypatch, force_data_officer, oxford, tmp_path
):
    monkeypatch.setattr(tasks.import_file, "delay", broker_down)
    client.force_login(force_data_officer)
    with open(met_file(tmp_path / "uof.csv", ROWS), "rb") as handle:
        response = client.post(API, {"file": handle, "force": "thames-valley"})
    assert response.status_code == 503
    assert response["Retry-After"] == str(tasks.QUEUE_RETRY_SECONDS)
    body = response.json()
    assert (body["message"], body["status"]) == (tasks.NOT_QUEUED, "pending")
    assert response["Location"] == body["status_url"]

    monkeypatch.undo()  # the queue answers again; the sweep finds the batch once its wait has run out
    ImportBatch.objects.filter(pk=body["id"]).update(lease_until=lapsed_lease())
    tasks.recover_imports()
    assert client.get(body["status_url"]).json()["status"] == "succeeded"
    assert UseOfForceReport.objects.count() == 2


def test_a_force_data_officer_tries_a_failed_import_again_from_its_page(
    client, force_data_officer, thames_valley, oxford, tmp_path, django_capture_on_commit_callbacks
):
    batch = uploaded_batch(thames_valley, tmp_path, status="failed", attempts=3, errors=[recovery.LOST])
    client.force_login(force_data_officer)
    assert "Try this import again" in client.get(f"{LIST}{batch.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{LIST}{batch.pk}/retry/")
    assert response.status_code == 302
    batch.refresh_from_db()
    assert (batch.status, batch.errors, batch.attempts, batch.rows_added) == ("succeeded", [], 1, 2)


def test_pcc_staff_see_a_failed_import_but_do_not_retry_it(client, pcc_staff, thames_valley, tmp_path):
    batch = uploaded_batch(thames_valley, tmp_path, status="failed", errors=[recovery.LOST])
    client.force_login(pcc_staff)
    page = client.get(f"{LIST}{batch.pk}/").content.decode()
    assert recovery.LOST in page and "Try this import again" not in page
    assert client.post(f"{LIST}{batch.pk}/retry/").status_code == 403
    assert ImportBatch.objects.get(pk=batch.pk).status == "failed"


def test_a_failed_import_whose_reason_is_not_the_file_is_not_filed_under_problems_of_the_file(
    client, force_data_officer, thames_valley, tmp_path
):
    batch = uploaded_batch(thames_valley, tmp_path, status="failed", errors=[recovery.LOST])
    client.force_login(force_data_officer)
    page = client.get(f"{LIST}{batch.pk}/").content.decode()
    assert "Why it stopped" in page and "Correct these in the file" not in page


def test_the_admin_action_tries_failed_imports_again_for_those_who_may_upload(
    force_data_officer, pcc_staff, thames_valley, oxford, tmp_path, django_capture_on_commit_callbacks
):
    batch = uploaded_batch(thames_valley, tmp_path, status="failed", errors=[recovery.LOST])
    admin = site._registry[ImportBatch]
    request = RequestFactory().post("/admin/incidents/importbatch/")
    request.user = pcc_staff
    assert "retry_failed" not in admin.get_actions(request)
    request.user = force_data_officer
    request._messages = type("Messages", (), {"add": lambda *args, **kwargs: None})()
    assert "retry_failed" in admin.get_actions(request)
    with django_capture_on_commit_callbacks(execute=True):
        admin.retry_failed(request, ImportBatch.objects.filter(pk=batch.pk))
    assert ImportBatch.objects.get(pk=batch.pk).status == "succeeded"


def test_beat_sweeps_stuck_imports_every_few_minutes():
    entry = settings.CELERY_BEAT_SCHEDULE["recover-imports"]
    assert entry["task"] == "incidents.tasks.recover_imports"
    assert entry["schedule"].minute == set(range(0, 60, settings.RECOVER_EVERY_MINUTES))


@pytest.mark.django_db(transaction=True)
def test_an_importer_renews_its_lease_as_it_reads_though_its_transaction_is_not_committed(thames_valley):
    if connection.vendor != "postgresql":
        pytest.skip("On SQLite the import is the one writer: its lease is not renewed (see LeaseKeeper).")
    batch = ImportBatch.objects.create(
        force=thames_valley, source_name="uof.csv", status="running", attempts=1, lease_until=lapsed_lease()
    )
    read = []
    keeper = recovery.LeaseKeeper(batch, read.append)
    keeper.next = 0  # a third of a lease has passed
    with transaction.atomic():
        keeper(500)
    assert read == [500]
    assert ImportBatch.objects.get(pk=batch.pk).lease_until > timezone.now()
