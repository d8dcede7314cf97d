"""Faults, with the real services: a Celery worker killed in the middle of a rebuild, the database
connection dropped in the middle of an import, Redis down. PostgreSQL only: each needs a second
process (a worker, an import, a watcher) on the same database.
"""

import datetime
import os
import signal
import subprocess
import sys
import time
import uuid

import psutil
import psycopg2
import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from incidents.imports.pipeline import UNEXPECTED, ImportFailed, import_reports
from incidents.imports.uploads import uploaded_file
from incidents.models import CedLevel, CedUse, ImportBatch, MonthlySummary, UseOfForceReport
from incidents.recovery import LOST, retry
from incidents.summaries import rebuild_summaries
from incidents.tasks import NOT_QUEUED, enqueue_import, queue_summary_rebuild, rebuild_summary_cells, recover_imports
from tests.conftest import parallel_index
from tests.factories import ReportFactory
from tests.incidents.test_import_uof import met_file, row
from tests.test_worker import BROKER, database_url, running_worker

WAIT_SECONDS = 120
# A port of our own for a Redis this test starts and stops (never the machine's on 6379), one per test process.
REDIS_PORT = 6390 + parallel_index()
# Processes of their own (Celery workers, gunicorn, Redis) that wait on the machine's CPU: in parallel runs
# (make test) these tests take turns in one test process rather than crowd each other out.
pytestmark = pytest.mark.xdist_group("processes_of_their_own")


@pytest.fixture(autouse=True)
def postgresql_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("Faults need a second process on the same database: PostgreSQL, not in-memory SQLite.")


def until(condition, what, log=None):
    """Wait for condition() to be true (its value is returned), or fail saying what did not happen."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not (value := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"Not within {WAIT_SECONDS} s: {what}" + (f"\n{log.read_text()[-3000:]}" if log else ""))
        time.sleep(0.1)
    return value


def summaries():
    return sorted(
        MonthlySummary.objects.values_list("area", "month", "reports", "taser_reports", "level_fired", "incidents")
    )


def backends_waiting_on_a_lock(watcher):
    with watcher.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%forces_force%'"
        )
        return {pid for (pid,) in cursor.fetchall()}


def test_a_worker_killed_in_the_middle_of_a_rebuild_is_retried_and_the_summaries_end_as_a_full_rebuild(
    oxford, tmp_path, monkeypatch
):
    for n in range(60):
        ReportFactory(area=oxford, occurred_on=datetime.date(2025, 1 + n % 12, 1 + n % 28),
                      ced_levels=[CedLevel.FIRED] if n % 3 else [], incident_reference=f"INC-{n // 2}")  # fmt: skip
    rebuild_summaries()
    expected = summaries()
    MonthlySummary.objects.all().delete()  # only the task will bring them back

    # The rebuild locks its force first; holding that lock keeps the task in the middle of its work.
    blocker = psycopg2.connect(database_url())
    watcher = psycopg2.connect(database_url())
    watcher.autocommit = True
    try:
        with running_worker(tmp_path, monkeypatch, BROKER, pool="prefork") as (process, log):
            until(lambda: "ready." in log.read_text(), "the worker started", log)
            blocker.cursor().execute("SELECT 1 FROM forces_force WHERE id = 'thames-valley' FOR UPDATE")
            rebuild_summary_cells.delay("thames-valley")
            first = until(lambda: backends_waiting_on_a_lock(watcher), "the rebuild started and waited", log)
            [child] = psutil.Process(process.pid).children()
            os.kill(child.pid, signal.SIGKILL)  # the pool's process dies with the task in hand
            until(lambda: "WorkerLostError" in log.read_text(), "the worker saw its process lost", log)
            until(lambda: backends_waiting_on_a_lock(watcher) - first, "the task was delivered again", log)
            blocker.rollback()
            until(lambda: summaries() == expected, "the summaries were rebuilt", log)
            assert process.poll() is None
            assert log.read_text().count("Task incidents.tasks.rebuild_summary_cells[") >= 2
    finally:
        blocker.close()
        watcher.close()


# An import writes on one connection and takes the reports' ids on another: either may be dropped.
@pytest.mark.parametrize("dropped", ["COPY", "SELECT nextval"], ids=["writing", "taking ids"])
def test_a_dropped_database_connection_in_the_middle_of_an_import_writes_nothing_and_it_runs_again(
    oxford, tmp_path, dropped
):
    rows = [row(Borough="Oxford", IncidentDate=f"2020-{4 + n % 9:02d}-{1 + n % 28:02d}", CED__Used="No")
            for n in range(120_000)]  # fmt: skip
    path = met_file(tmp_path / "big.csv", rows)
    name = f"import-{uuid.uuid4().hex[:8]}"
    env = {key: value for key, value in os.environ.items() if key != "CELERY_BROKER_URL"}
    env |= {"DATABASE_URL": database_url(), "DJANGO_SECRET_KEY": settings.SECRET_KEY, "PGAPPNAME": name}
    command = [sys.executable, "manage.py", "import_uof", str(path), "--force", "thames-valley", "--verbosity", "0"]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
        command, cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    watcher = psycopg2.connect(database_url())
    watcher.autocommit = True
    try:

        def at_work():
            with watcher.cursor() as cursor:
                cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s AND query LIKE %s",
                               [name, f"{dropped}%"])  # fmt: skip
                return cursor.fetchone()

        (pid,) = until(at_work, f"the import's connection ran {dropped}")
        with watcher.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        _, errors = process.communicate(timeout=WAIT_SECONDS)
    finally:
        watcher.close()
        if process.poll() is None:
            process.kill()
    assert process.returncode != 0
    assert errors.strip().splitlines()[-1].startswith("CommandError: big.csv: the database stopped the import (")
    assert (UseOfForceReport.objects.count(), CedUse.objects.count(), MonthlySummary.objects.count()) == (0, 0, 0)
    failed = ImportBatch.objects.get()
    assert (failed.status, failed.errors, failed.rows_added) == ("failed", [UNEXPECTED], 0)

    rerun = subprocess.run(command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=600)  # noqa: S603
    assert rerun.returncode == 0, rerun.stderr
    assert UseOfForceReport.objects.count() == len(rows)
    assert ImportBatch.objects.get(status="succeeded").data_version == 2


def connections_open():
    """How many connections the test database has now (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_an_import_closes_the_connection_it_took_ids_on_whether_it_succeeds_or_fails(oxford, tmp_path):
    before = connections_open()
    import_reports(met_file(tmp_path / "good.csv", [row(Borough="Oxford")]), oxford.force)
    with pytest.raises(ImportFailed):
        import_reports(met_file(tmp_path / "bad.csv", [row(Borough="Oxford", IncidentDate="31/02/2021")]), oxford.force)
    until(lambda: connections_open() == before, "the imports' second connections end")  # backends exit a moment later
    assert UseOfForceReport.objects.count() == 1


# --- Redis down --------------------------------------------------------------------------------


def start_redis(folder):
    """A redis-server of this test's own on REDIS_PORT, keeping its data in `folder` across a restart."""
    subprocess.run(  # noqa: S603 - the machine's redis-server, on our own port
        ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--daemonize", "yes",  # noqa: S607
         "--dir", str(folder),
         "--appendonly", "yes", "--save", "", "--pidfile", str(folder / "redis.pid")],
        check=True,
    )  # fmt: skip
    client = redis.Redis(port=REDIS_PORT)
    until(lambda: ping(client), f"Redis answered on port {REDIS_PORT}")
    return client


def stop_redis(client):
    try:
        client.shutdown(save=False)  # the append-only file already holds every write
    except redis.ConnectionError:
        pass  # it closes the connection as it stops
    until(lambda: not ping(client), "Redis stopped")


def ping(client):
    try:
        return client.ping()
    except redis.ConnectionError:
        return False


@pytest.fixture
def own_redis(tmp_path):
    folder = tmp_path / "redis"
    folder.mkdir()
    client = start_redis(folder)
    yield folder, client
    if ping(client):
        stop_redis(client)


def upload(client, user, tmp_path, name, day, expected=202):
    client.force_login(user)
    with open(met_file(tmp_path / name, [row(Borough="Oxford", IncidentDate=day)]), "rb") as handle:
        response = client.post("/api/v1/imports/", {"file": handle, "force": "thames-valley"})
    assert response.status_code == expected, response.content
    return response.json()


def test_with_redis_down_pages_and_api_serve_imports_fail_clearly_and_nothing_queued_is_lost(
    own_redis, client, oxford, pcc_staff, force_data_officer, tmp_path, monkeypatch
):
    folder, redis_client = own_redis
    broker = f"redis://127.0.0.1:{REDIS_PORT}/0"
    # The settings production derives from a Redis CELERY_BROKER_URL: the cache on it too.
    monkeypatch.setattr(settings, "CACHES", {"default": {
        "BACKEND": "django_redis.cache.RedisCache", "LOCATION": broker, "KEY_PREFIX": "oversight",
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
    }})  # fmt: skip
    ReportFactory(area=oxford, occurred_on=datetime.date(2020, 3, 1))
    rebuild_summaries()
    with running_worker(tmp_path, monkeypatch, broker) as (process, log):
        until(lambda: "ready." in log.read_text(), "the worker started", log)
        process.send_signal(signal.SIGSTOP)  # the worker takes nothing until Redis has been down and back
        try:
            queued = upload(client, force_data_officer, tmp_path, "before.csv", "2020-04-03")
            assert queued["status"] == "pending"
            stop_redis(redis_client)

            client.force_login(pcc_staff)
            for path in (
                "/forces/thames-valley/",
                "/public/thames-valley/",
                "/api/v1/summaries/?force=thames-valley",
                "/api/v1/reports/",
                "/reports/imports/",
                f"/reports/imports/{queued['id']}/",
                "/healthz",
            ):
                assert client.get(path).status_code == 200, path  # fmt: skip
            refused = upload(client, force_data_officer, tmp_path, "during.csv", "2020-05-03", expected=503)
            assert (refused["status"], refused["message"]) == ("pending", NOT_QUEUED)
            # A single edit's summaries follow it even so: rebuilt here, not queued.
            ReportFactory(area=oxford, occurred_on=datetime.date(2020, 3, 2))
            assert MonthlySummary.objects.get(month=datetime.date(2020, 3, 1)).reports == 2

            start_redis(folder)  # with its append-only file, as docker-compose runs it: the queue survives
        finally:
            process.send_signal(signal.SIGCONT)
        # What was queued before Redis went down is there again, and the worker takes it.
        until(lambda: ImportBatch.objects.get(pk=queued["id"]).status == "succeeded", "the queued import ran", log)
        # The upload the queue refused kept its file: the sweep queues it once its wait has run out.
        ImportBatch.objects.filter(pk=refused["id"]).update(lease_until=timezone.now())
        assert recover_imports()["queued"] == [refused["id"]]
        until(lambda: ImportBatch.objects.get(pk=refused["id"]).status == "succeeded", "the kept upload ran", log)
    assert sorted(UseOfForceReport.objects.values_list("occurred_on", flat=True)) == [
        datetime.date(2020, 3, 1), datetime.date(2020, 3, 2), datetime.date(2020, 4, 3), datetime.date(2020, 5, 3),
    ]  # fmt: skip


# --- imports that always end ---------------------------------------------------------------------

# A lease this short lets a test see it lapse; the worker and the commands are given the same.
LEASE = 3
ROWS = [row(Borough="Oxford", IncidentDate=f"2020-{4 + n % 9:02d}-{1 + n % 28:02d}") for n in range(40)]


@pytest.fixture
def held():
    """A connection holding what an import takes once its batch is running, so that the import waits there, and
    a watcher that sees it wait; released with held.release(). An upload's task claims its batch first, then
    locks its force; import_uof makes its batch running under that lock, then reads the force's reports."""

    class Held:
        blocker = psycopg2.connect(database_url())
        watcher = psycopg2.connect(database_url())
        watcher.autocommit = True

        def hold(self, what="force"):
            with self.blocker.cursor() as cursor:
                if what == "force":
                    # NO KEY UPDATE: the import's FOR UPDATE waits; an upload's commit, checking its force, does not.
                    cursor.execute("SELECT 1 FROM forces_force WHERE id = 'thames-valley' FOR NO KEY UPDATE")
                else:
                    cursor.execute(f"LOCK TABLE {UseOfForceReport._meta.db_table} IN ACCESS EXCLUSIVE MODE")

        def release(self):
            self.blocker.rollback()

        def waiting(self):
            with self.watcher.cursor() as cursor:
                cursor.execute(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
                return {pid for (pid,) in cursor.fetchall()}

    held = Held()
    yield held
    held.blocker.close()
    held.watcher.close()


def post_rows(client, user, tmp_path):
    client.force_login(user)
    with open(met_file(tmp_path / "uof.csv", ROWS), "rb") as handle:
        response = client.post("/api/v1/imports/", {"file": handle, "force": "thames-valley"})
    assert response.status_code == 202, response.content
    return response.json()["id"]


def finished(batch_id):
    batch = ImportBatch.objects.get(pk=batch_id)
    return batch if batch.status in ("succeeded", "failed") else None


def test_a_worker_killed_whole_in_the_middle_of_an_import_leaves_a_batch_the_sweep_imports_again_in_full(
    oxford, tmp_path, monkeypatch, settings, client, force_data_officer, held, caplog
):
    settings.IMPORT_LEASE_SECONDS = LEASE
    lines = f"IMPORT_LEASE_SECONDS = {LEASE}\n"
    with running_worker(tmp_path, monkeypatch, BROKER, settings_lines=lines) as (process, log):
        until(lambda: "ready." in log.read_text(), "the worker started", log)
        held.hold()
        batch_id = post_rows(client, force_data_officer, tmp_path)
        until(held.waiting, "the import started and waited in its transaction", log)
        process.kill()  # the whole worker, with the task in its hands: nothing tells the batch
        process.wait()
        held.release()
    assert ImportBatch.objects.get(pk=batch_id).status == "running"
    with running_worker(tmp_path, monkeypatch, BROKER, settings_lines=lines) as (process, log):
        until(lambda: "ready." in log.read_text(), "another worker started", log)
        until(lambda: recover_imports()["queued"] == [batch_id], "the sweep queued the batch past its lease", log)
        batch = until(lambda: finished(batch_id), "the batch ended", log)
    assert (batch.status, batch.attempts, batch.rows_read, batch.rows_added) == ("succeeded", 2, 40, 40)
    assert UseOfForceReport.objects.count() == len(ROWS)
    assert f"Import batch {batch_id} was stuck running; queued again." in caplog.text


def test_a_pool_process_killed_in_the_middle_of_an_import_has_its_task_take_the_batch_over_once_the_lease_lapses(
    oxford, tmp_path, monkeypatch, settings, client, force_data_officer, held
):
    # Longer than the redelivery takes: the task delivered again finds the lease still held, and looks again.
    lines = f"IMPORT_LEASE_SECONDS = {3 * LEASE}\n"
    with running_worker(tmp_path, monkeypatch, BROKER, pool="prefork", settings_lines=lines) as (process, log):
        until(lambda: "ready." in log.read_text(), "the worker started", log)
        held.hold()
        batch_id = post_rows(client, force_data_officer, tmp_path)
        until(held.waiting, "the import started and waited in its transaction", log)
        [child] = psutil.Process(process.pid).children()
        os.kill(child.pid, signal.SIGKILL)
        until(lambda: "WorkerLostError" in log.read_text(), "the worker saw its process lost", log)
        held.release()
        batch = until(lambda: finished(batch_id), "the batch ended", log)
        assert f"Import batch {batch_id}: its importer's lease lapsed" in log.read_text()
    assert (batch.status, batch.attempts, batch.rows_added) == ("succeeded", 2, 40)
    assert UseOfForceReport.objects.count() == len(ROWS)


def import_command(path, name):
    env = {key: value for key, value in os.environ.items() if key != "CELERY_BROKER_URL"}
    env |= {"DATABASE_URL": database_url(), "DJANGO_SECRET_KEY": settings.SECRET_KEY, "PGAPPNAME": name}
    env |= {"IMPORT_LEASE_SECONDS": str(LEASE)}
    command = [sys.executable, "manage.py", "import_uof", str(path), "--force", "thames-valley", "--verbosity", "0"]
    return command, env


def test_an_import_command_that_dies_with_its_database_connection_is_ended_by_the_sweep_and_runs_again(
    oxford, tmp_path, settings, held, caplog
):
    settings.IMPORT_LEASE_SECONDS = LEASE
    command, env = import_command(met_file(tmp_path / "uof.csv", ROWS), f"import-{uuid.uuid4().hex[:8]}")
    held.hold("reports")
    process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # noqa: S603
    try:
        until(held.waiting, "the import started and waited in its transaction")
        process.kill()  # it can record nothing: as when the database went away for good
        process.wait()
    finally:
        held.release()
    left = ImportBatch.objects.get()
    assert left.status == "running"
    until(lambda: recover_imports()["failed"] == [left.pk], "the sweep ended the batch past its lease")
    left.refresh_from_db()
    assert (left.status, left.errors) == ("failed", [LOST])
    assert f"Import batch {left.pk} failed: {LOST}" in caplog.text

    rerun = subprocess.run(command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=300)  # noqa: S603
    assert rerun.returncode == 0, rerun.stderr
    assert UseOfForceReport.objects.count() == len(ROWS)


def test_a_worker_whose_database_connection_is_terminated_fails_the_batch_saying_so_and_a_retry_imports_it(
    oxford, tmp_path, monkeypatch, client, force_data_officer, held
):
    with running_worker(tmp_path, monkeypatch, BROKER) as (process, log):
        until(lambda: "ready." in log.read_text(), "the worker started", log)
        held.hold()
        batch_id = post_rows(client, force_data_officer, tmp_path)
        (pid,) = until(held.waiting, "the import started and waited in its transaction", log)
        with held.watcher.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        held.release()
        batch = until(lambda: finished(batch_id), "the batch ended", log)
        assert (batch.status, batch.errors) == ("failed", [UNEXPECTED])
        assert "Task incidents.tasks.import_file[" in log.read_text() and "OperationalError" in log.read_text()

        retry(batch)
        assert enqueue_import(batch.pk)
        batch = until(lambda: finished(batch_id), "the retried batch ended", log)
    assert (batch.status, batch.rows_added) == ("succeeded", 40)
    assert UseOfForceReport.objects.count() == len(ROWS)


def test_with_redis_frozen_an_upload_answers_503_within_seconds_keeps_its_file_and_is_imported_once_it_thaws(
    own_redis, client, oxford, force_data_officer, tmp_path, monkeypatch, caplog
):
    folder, _ = own_redis
    frozen = int((folder / "redis.pid").read_text())
    with running_worker(tmp_path, monkeypatch, f"redis://127.0.0.1:{REDIS_PORT}/0") as (process, log):
        until(lambda: "ready." in log.read_text(), "the worker started", log)
        client.force_login(force_data_officer)
        os.kill(frozen, signal.SIGSTOP)  # Redis takes connections and answers nothing
        try:
            started = time.monotonic()
            with open(met_file(tmp_path / "uof.csv", ROWS), "rb") as handle:
                response = client.post("/api/v1/imports/", {"file": handle, "force": "thames-valley"})
            waited = time.monotonic() - started
        finally:
            os.kill(frozen, signal.SIGCONT)
        assert response.status_code == 503, response.content
        assert waited < 20  # the broker's timeouts, not minutes
        body = response.json()
        assert (body["status"], body["message"], response["Retry-After"]) == ("pending", NOT_QUEUED, "120")
        batch = ImportBatch.objects.get(pk=body["id"])
        assert uploaded_file(batch).is_file()
        assert f"Could not queue the import of batch {batch.pk}" in caplog.text

        ImportBatch.objects.filter(pk=batch.pk).update(lease_until=timezone.now())  # its wait has run out
        until(lambda: recover_imports()["queued"] == [batch.pk], "the sweep queued the kept upload", log)
        batch = until(lambda: finished(batch.pk), "the kept upload was imported", log)
    assert (batch.status, batch.rows_added) == ("succeeded", len(ROWS))


def test_a_worker_killed_in_the_middle_of_the_rebuild_an_import_queued_leaves_figures_that_say_so_until_the_sweep(
    oxford, tmp_path, monkeypatch, settings, client, pcc_staff, held, caplog
):
    settings.IMPORT_LEASE_SECONDS = 1  # how long an import's own rebuild is given before the sweep queues one
    first, second = ROWS[:20], ROWS
    with running_worker(tmp_path, monkeypatch, BROKER) as (process, log):
        until(lambda: "ready." in log.read_text(), "the worker started", log)
        batch = import_reports(met_file(tmp_path / "first.csv", first), oxford.force)
        queue_summary_rebuild(batch.force_id, batch.summary_cells)  # as the upload's task does
        until(lambda: set(MonthlySummary.objects.values_list("data_version", flat=True)) == {1}, "version 1", log)
        process.send_signal(signal.SIGSTOP)  # the rebuild of version 2 waits in the queue
        batch = import_reports(met_file(tmp_path / "second.csv", second), oxford.force)
        queue_summary_rebuild(batch.force_id, batch.summary_cells)  # as the upload's task does
        held.hold()
        process.send_signal(signal.SIGCONT)
        until(held.waiting, "the rebuild started and waited for its force", log)
        process.kill()
        process.wait()
        held.release()

    client.force_login(pcc_staff)
    page = client.get("/forces/thames-valley/").content.decode()
    assert "Figures of data version 1; version 2 is being summarised." in page
    with running_worker(tmp_path, monkeypatch, BROKER) as (process, log):
        until(lambda: "ready." in log.read_text(), "another worker started", log)
        time.sleep(settings.IMPORT_LEASE_SECONDS)
        assert recover_imports()["rebuilds"] == ["thames-valley"]
        until(lambda: set(MonthlySummary.objects.values_list("data_version", flat=True)) == {2}, "version 2", log)
    assert "The summaries of thames-valley are older than its data; rebuilding them." in caplog.text
    assert "being summarised" not in client.get("/forces/thames-valley/").content.decode()
    assert sum(MonthlySummary.objects.values_list("reports", flat=True)) == len(second)
