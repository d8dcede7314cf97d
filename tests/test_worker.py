"""A real Celery worker, on the real Redis broker, imports a file uploaded through the API."""

import contextlib
import os
import subprocess
import sys
import textwrap
import time
import uuid
from urllib.parse import quote

import kombu.pools
import pytest
import redis
from django.conf import settings
from django.db import connection

from incidents.models import MonthlySummary
from oversight.celery import app as celery_app
from tests.conftest import parallel_index
from tests.incidents.test_import_uof import met_file, row

# A Redis database of each test process's own (15, 14, … for processes side by side), never the product's 0.
BROKER = f"redis://127.0.0.1:6379/{15 - parallel_index() % 15}"
WAIT_SECONDS = 120
# Processes of their own (Celery workers, gunicorn, Redis) that wait on the machine's CPU: in parallel runs
# (make test) these tests take turns in one test process rather than crowd each other out.
pytestmark = pytest.mark.xdist_group("processes_of_their_own")


def database_url():
    """The test database, as DATABASE_URL for the worker process."""
    db = connection.settings_dict
    user = quote(db["USER"], safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    return f"postgres://{user}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def forget_broker_connections():
    # Celery keeps the broker connection, queues and router it made first; this test
    # changes the broker and the queue, so it must not reuse them, nor leave its own.
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._after_fork()
    for cached in ("queues", "default_queue", "router"):
        celery_app.amqp.__dict__.pop(cached, None)
    # kombu keeps producers per broker URL for the whole process: a second worker test on the same
    # broker would be handed the producers of the first one's closed connections.
    kombu.pools.reset()


def reachable_broker(url=BROKER):
    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as error:
        problem = str(error)
    else:
        return client
    pytest.fail(
        f"Redis is not reachable at {url} ({problem}). The worker test needs a real broker: "
        "start Redis (redis-server --port 6379, as .ci/run does) and run the tests again.",
        pytrace=False,
    )


def forget_queue(broker, queue):
    """Remove this run's queue and the broker's bindings to it."""
    for key in broker.scan_iter(f"*{queue}*"):
        broker.delete(key)
    for key in broker.scan_iter("_kombu.binding*"):
        if broker.type(key) == b"set":
            stale = [member for member in broker.smembers(key) if queue.encode() in member]
            if stale:
                broker.srem(key, *stale)


@pytest.fixture
def worker(transactional_db, tmp_path, monkeypatch):
    """A `celery -A oversight worker` process on the test database, and this process sending to it."""
    with running_worker(tmp_path, monkeypatch, BROKER) as started:
        yield started


@contextlib.contextmanager
def running_worker(tmp_path, monkeypatch, broker_url, pool="solo", settings_lines=""):
    """A worker process on the test database and `broker_url`, this process sending to it; its queue is
    named for this run, so test runs side by side never take each other's tasks."""
    if connection.vendor != "postgresql":
        pytest.skip("The worker is another process: it needs a database it can open, not in-memory SQLite.")
    broker = reachable_broker(broker_url)
    queue = f"test-worker-{uuid.uuid4().hex}"
    media_root = tmp_path / "media"
    # The worker must read uploads where this process stores them, and consume only this
    # run's queue: a settings module of its own says so, leaving the real one untouched.
    (tmp_path / "worker_test_settings.py").write_text(
        textwrap.dedent(f"""\
            from oversight.settings import *  # noqa: F403

            MEDIA_ROOT = {str(media_root)!r}
            CELERY_TASK_DEFAULT_QUEUE = {queue!r}
        """)
        + textwrap.dedent(settings_lines)
    )
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "worker_test_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(settings.BASE_DIR)]),
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker_url,
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
    }
    log_path = tmp_path / f"worker-{queue}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter running celery
            [sys.executable, "-m", "celery", "-A", "oversight", "worker", "--pool", pool, "--concurrency", "1",
             "--loglevel", "info", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "--hostname", f"{queue}@%h"],
            cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    monkeypatch.setattr(settings, "MEDIA_ROOT", media_root)
    forget_broker_connections()
    for name, value in (("task_always_eager", False), ("broker_url", broker_url), ("task_default_queue", queue)):
        monkeypatch.setitem(celery_app.conf, name, value)
    try:
        yield process, log_path
    finally:
        process.terminate()  # a warm shutdown: the task in hand finishes first
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        monkeypatch.undo()
        forget_broker_connections()
        forget_queue(broker, queue)


def test_a_real_worker_imports_an_upload_and_then_rebuilds_its_summaries(
    worker, client, force_data_officer, oxford, tmp_path
):
    process, log_path = worker
    client.force_login(force_data_officer)
    rows = [row(Borough="Oxford"), row(Borough="Oxford", IncidentDate="2020-05-01")]
    with open(met_file(tmp_path / "uof.csv", rows), "rb") as handle:
        response = client.post("/api/v1/imports/", {"file": handle, "force": "thames-valley"})
    assert response.status_code == 202, response.content
    # The answer comes before the import: it is the worker's to do.
    assert response.json()["status"] in ("pending", "running")

    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        body = client.get(response["Location"]).json()
        if body["status"] in ("succeeded", "failed") or process.poll() is not None or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    log = log_path.read_text()
    assert process.poll() is None, f"The worker stopped (exit {process.returncode}):\n{log[-3000:]}"
    assert body["status"] == "succeeded", f"Batch after {WAIT_SECONDS} s: {body}\nWorker log:\n{log[-3000:]}"
    assert (body["rows_read"], body["rows_added"], body["data_version"]) == (2, 2, 1)
    assert "incidents.tasks.import_file" in log

    # No manual step: the import queued the rebuild of the cells it changed.
    while not MonthlySummary.objects.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.25)
    figures = [(s.area_id, s.month.isoformat(), s.reports, s.data_version) for s in MonthlySummary.objects.all()]
    assert figures == [(oxford.pk, "2020-04-01", 1, 1), (oxford.pk, "2020-05-01", 1, 1)], log_path.read_text()[-3000:]
    assert "incidents.tasks.rebuild_summary_cells" in log_path.read_text()
