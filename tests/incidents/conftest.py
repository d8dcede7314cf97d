"""Fixtures of the incidents tests: uploads land in a folder of each test's own."""

import io

import pytest
from django.core.management import call_command

from oversight.celery import app as celery_app
from tests.conftest import ONS_LOOKUP, published, rows_for_a_module


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def tasks_run_in_this_process(monkeypatch):
    # As in the embedded default (no broker), whatever CELERY_BROKER_URL the shell has set.
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


@pytest.fixture
def boroughs(metropolitan):
    """Every force's areas from the ONS lookup: the Met's boroughs, Thames Valley's partnerships, …"""
    call_command("import_areas", str(published(ONS_LOOKUP)), verbosity=0)


@pytest.fixture(scope="module")
def boroughs_of_the_module(django_db_setup, django_db_blocker):
    """The boroughs, read once for a module whose tests all take them as they are (a second a time saved);
    each test's own changes are rolled back after it."""
    lookup = published(ONS_LOOKUP)
    with rows_for_a_module(django_db_blocker):
        call_command("import_areas", str(lookup), verbosity=0)
        yield


@pytest.fixture
def send_file(client, django_capture_on_commit_callbacks, force_data_officer):
    """send_file(url, path, **fields): Thames Valley's data officer posts the file to the upload page or the
    API; what the view enqueues runs; the answer is what the response points to (the batch's page or JSON)."""
    client.force_login(force_data_officer)

    def send(url, path, **fields):
        file = io.BytesIO(path.read_bytes())
        file.name = path.name
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, {"file": file, "force": "thames-valley", **fields})
        return client.get(response["Location"])

    return send
