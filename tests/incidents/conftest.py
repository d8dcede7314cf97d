"""Fixtures of the incidents tests: uploads land in a folder of each test's own."""

import pytest

from oversight.celery import app as celery_app


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def tasks_run_in_this_process(monkeypatch):
    # As in the embedded default (no broker), whatever CELERY_BROKER_URL the shell has set.
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
