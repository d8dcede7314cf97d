"""Fixtures of the incidents tests: uploads land in a folder of each test's own."""

import pytest
from django.core.management import call_command

from oversight.celery import app as celery_app
from tests.conftest import ONS_LOOKUP


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
    call_command("import_areas", str(ONS_LOOKUP), verbosity=0)
