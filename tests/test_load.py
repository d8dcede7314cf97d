"""A short run of the load test (bench/load.py): concurrent users on the dashboards and the API against
gunicorn as gunicorn.conf.py sets it, on the test database; no request may fail. Times are bench/RESULTS.md's, never
asserted here."""

import importlib.util
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.management import call_command
from django.db import connection

from tests.test_worker import database_url

# Processes of their own (Celery workers, gunicorn, Redis) that wait on the machine's CPU: in parallel runs
# (make test) these tests take turns in one test process rather than crowd each other out.
pytestmark = pytest.mark.xdist_group("processes_of_their_own")


def bench_load():
    """bench/load.py as a module (bench is scripts, not a package); it imports no locust itself."""
    spec = importlib.util.spec_from_file_location("bench_load", Path(settings.BASE_DIR) / "bench" / "load.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Ten seconds of load must reach every page it mixes: not while other tests take the CPU. Skipped before it
# waits for its turn.
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="gunicorn serves from processes of its own: they need a database they can open, not in-memory SQLite.",
)
@pytest.mark.alone
def test_ten_users_for_ten_seconds_on_dashboards_and_api_get_no_error(transactional_db, monkeypatch):
    load = bench_load()
    call_command("seed_demo", reports=3000, seed=1, months=24, verbosity=0)
    # The tests hash passwords with MD5 for speed; gunicorn checks them with the real settings' hashers.
    hasher = PBKDF2PasswordHasher()
    get_user_model().objects.filter(username=load.USERNAME).update(password=hasher.encode(load.PASSWORD, hasher.salt()))
    monkeypatch.setenv("DJANGO_SECRET_KEY", settings.SECRET_KEY)
    result = load.run(database_url=database_url(), users=10, spawn_rate=5, seconds=10)
    pages = {page["name"] for page in result["pages"] if page["requests"]}
    assert {"/forces/<id>/", "/api/v1/summaries/", "/api/v1/reports/"} <= pages, result
    assert result["total"]["requests"] > 0
    assert (result["total"]["failures"], result["errors"]) == (0, [])
