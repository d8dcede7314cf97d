"""An upload that cannot be stored (disk full, folder read-only or locked) answers a clear 507 or 503 and is
logged, with its request's id, on one line; once there is room again the same upload imports in full.

Real file systems: a tiny tmpfs fills up, a read-only bind mount refuses writes, an immutable folder is
locked even to root. Mounting needs root (CAP_SYS_ADMIN): without it these tests skip, saying so.
"""

import contextlib
import io
import logging
import subprocess

import pytest

from incidents.models import ImportBatch, UseOfForceReport
from oversight.middleware import FULL, LOCKED
from tests.incidents.test_import_uof import met_file, row
from tests.test_logging import product_handler

API, LIST = "/api/v1/imports/", "/reports/imports/"
# Enough rows that the file (about 200 kB) cannot fit in the tiny file system.
ROWS = [row(Borough="Oxford", IncidentDate=f"2020-{4 + n % 9:02d}-{1 + n % 28:02d}") for n in range(600)]


def run(*command):
    return subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - fixed commands


@contextlib.contextmanager
def mounted(folder, *arguments):
    folder.mkdir(parents=True, exist_ok=True)
    done = run("mount", *arguments, str(folder))
    if done.returncode:
        pytest.skip(f"Cannot mount a file system here ({done.stderr.strip()}); the storage faults need root.")
    try:
        yield folder
    finally:
        run("umount", str(folder))


@pytest.fixture
def log_lines():
    """What the product's stdout handler writes, as it writes it."""
    stream = io.StringIO()
    handler = product_handler(stream)
    logging.getLogger().addHandler(handler)
    yield stream
    logging.getLogger().removeHandler(handler)


def post(client, folder, request_id):
    with open(met_file(folder / "uof.csv", ROWS), "rb") as handle:
        return client.post(API, {"file": handle, "force": "thames-valley"}, HTTP_X_REQUEST_ID=request_id)


def test_an_upload_to_a_full_disk_answers_507_is_logged_with_its_request_id_and_imports_once_there_is_room(
    client, force_data_officer, oxford, media_root, tmp_path, log_lines, django_capture_on_commit_callbacks
):
    client.force_login(force_data_officer)
    with mounted(media_root, "-t", "tmpfs", "-o", "size=64k", "tmpfs"):
        response = post(client, tmp_path, "upload-on-a-full-disk")
        assert response.status_code == 507
        assert response.json() == {"message": FULL[1]}
        assert response["X-Request-ID"] == "upload-on-a-full-disk"
    [line] = [line for line in log_lines.getvalue().splitlines() if "Could not store a file" in line]
    assert "ERROR" in line and "[upload-on-a-full-disk]" in line and "No space left on device" in line
    assert not ImportBatch.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        again = post(client, tmp_path, "upload-again")
    assert again.status_code == 202
    assert ImportBatch.objects.get().status == "succeeded" and UseOfForceReport.objects.count() == len(ROWS)


def test_an_upload_to_a_read_only_folder_shows_a_page_that_says_so_not_a_server_error(
    client, force_data_officer, oxford, media_root, tmp_path, caplog
):
    client.force_login(force_data_officer)
    (tmp_path / "elsewhere").mkdir()
    with mounted(media_root, "--bind", "-o", "ro", str(tmp_path / "elsewhere")):
        with open(met_file(tmp_path / "uof.csv", ROWS[:2]), "rb") as handle:
            response = client.post(LIST, {"file": handle})
    assert response.status_code == 503
    assert LOCKED[1] in response.content.decode()
    assert "Read-only file system" in caplog.text
    assert not ImportBatch.objects.exists()


def test_an_upload_to_a_locked_folder_answers_503_with_retry_after(
    client, force_data_officer, oxford, media_root, tmp_path
):
    media_root.mkdir(parents=True)
    locked = run("chattr", "+i", str(media_root))
    if locked.returncode:
        pytest.skip(f"Cannot make a folder immutable here ({locked.stderr.strip()}).")
    try:
        client.force_login(force_data_officer)
        response = post(client, tmp_path, "locked")
    finally:
        run("chattr", "-i", str(media_root))
    assert response.status_code == 503
    assert response.json() == {"message": LOCKED[1]} and response["Retry-After"]
    assert not ImportBatch.objects.exists()
