"""Every event one line on standard output with the id of its request, task or command; errors mailed to ADMINS."""

import io
import logging
import os
import subprocess
import sys

from django.conf import settings
from django.core import mail

from oversight.logging import OneLineFormatter, RequestIdFilter, request_id


def product_handler(stream):
    """A handler writing to `stream` as the product's stdout handler writes."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(OneLineFormatter(settings.LOGGING["formatters"]["line"]["format"]))
    return handler


def formatted(message, exc_info=None):
    handler = product_handler(io.StringIO())
    logger = logging.getLogger("tests.logging")
    logger.addHandler(handler)
    try:
        logger.error(message, exc_info=exc_info)
    finally:
        logger.removeHandler(handler)
    return handler.stream.getvalue()


def test_a_request_keeps_the_id_its_caller_sent_and_says_it_in_the_answer(client, db):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="probe-42")["X-Request-ID"] == "probe-42"


def test_a_request_without_a_sound_id_gets_one_of_its_own(client, db):
    given = client.get("/healthz", HTTP_X_REQUEST_ID="forged\nline")["X-Request-ID"]
    assert given != "forged\nline" and len(given) == 32
    assert client.get("/healthz")["X-Request-ID"] != given


def test_an_error_with_its_traceback_is_one_line_with_the_id_of_its_work():
    token = request_id.set("import-7")
    try:
        try:
            raise OSError(28, "No space left on device")
        except OSError as error:
            text = formatted("Could not store a file", exc_info=error)
    finally:
        request_id.reset(token)
    assert text.count("\n") == 1
    assert "ERROR tests.logging [import-7] Could not store a file | Traceback" in text
    assert "No space left on device" in text


def test_a_command_logs_with_an_id_of_its_own_on_stdout(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env |= {"DJANGO_SECRET_KEY": "x", "DJANGO_LOG_LEVEL": "INFO"}
    script = "import logging; logging.getLogger('incidents').warning('a warning from a command')"
    done = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "shell", "-c", script], cwd=settings.BASE_DIR, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    [line] = [line for line in done.stdout.splitlines() if "a warning from a command" in line]
    assert " WARNING incidents [shell-" in line


def test_a_server_error_is_mailed_to_the_admins_when_they_are_set(client, db, settings, monkeypatch):
    settings.ADMINS = [("Operations", "ops@example.org")]
    settings.DEBUG = False

    def broken(*args, **kwargs):
        raise RuntimeError("the database caught fire")

    monkeypatch.setattr("forces.views.forces_for_home", broken)
    client.raise_request_exception = False
    assert client.get("/").status_code == 500
    [message] = mail.outbox
    assert message.to == ["ops@example.org"] and "the database caught fire" in message.body


def test_errors_go_to_sentry_when_its_dsn_is_set():
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env |= {"DJANGO_SECRET_KEY": "x", "SENTRY_DSN": "https://public@sentry.example.org/7"}
    script = "import sentry_sdk; client = sentry_sdk.get_client(); print(client.is_active(), client.dsn)"
    done = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "shell", "-c", script], cwd=settings.BASE_DIR, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.stdout.strip().splitlines()[-1] == "True https://public@sentry.example.org/7", done.stderr
