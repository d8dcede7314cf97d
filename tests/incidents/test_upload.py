"""Uploading use-of-force files on the web: who may, what is stored, and what the batch page shows."""

import csv
import html
import io

import pytest
from django.core.cache import cache
from django.http import HttpRequest
from kombu.exceptions import OperationalError
from openpyxl import Workbook

from forces.models import Role
from incidents import readers, tasks
from incidents.imports import pipeline, uploads
from incidents.imports.uploads import safe_file_name
from incidents.models import ImportBatch, UseOfForceReport
from tests.conftest import PASSWORD
from tests.incidents.test_import_uof import met_file, row

LIST = "/reports/imports/"
BAD_DATE = "row 3, IncidentDate: '31/02/2021' is not a date (expected YYYY-MM-DD or DD/MM/YYYY)"


@pytest.fixture
def upload(client, django_capture_on_commit_callbacks):
    """POST a file to the upload form as `user`, running what the view enqueues on commit."""

    def post(user, path, name=None, **fields):
        client.force_login(user)
        with open(path, "rb") as handle, django_capture_on_commit_callbacks(execute=True):
            file = io.BytesIO(handle.read())
            file.name = name or path.name
            return client.post(LIST, {"file": file, **fields})

    return post


def good_rows():
    return [row(Borough="Oxford"), row(Borough="Oxford", IncidentDate="2020-05-01")]


def page_text(response):
    # As a person reads it: entities decoded, the non-breaking spaces of sizes plain.
    return html.unescape(response.content.decode()).replace("\xa0", " ")


def signed_in(client, user):
    client.force_login(user)
    return client


# --- who may see and upload ----------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, thames_valley):
    batch = ImportBatch.objects.create(force=thames_valley, source_name="tvp.csv")
    for url in (LIST, f"{LIST}{batch.pk}/", f"{LIST}{batch.pk}/status/", f"{LIST}{batch.pk}/rejects/"):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), url


@pytest.mark.parametrize(
    ("role", "status", "has_form"),
    [
        (Role.FORCE_DATA_OFFICER, 200, True),
        (Role.PCC_STAFF, 200, False),
        (Role.PANEL_MEMBER, 403, False),
        (Role.API_CLIENT, 403, False),
    ],
)
def test_the_imports_page_answers_each_role_as_it_should(client, role_users, role, status, has_form):
    response = signed_in(client, role_users[role]).get(LIST)
    assert response.status_code == status
    assert ('enctype="multipart/form-data"' in response.content.decode()) is has_form


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.FORCE_DATA_OFFICER, 200), (Role.PCC_STAFF, 200), (Role.PANEL_MEMBER, 403), (Role.API_CLIENT, 403)],
)
def test_a_batch_page_answers_each_role_as_it_should(client, role_users, thames_valley, role, status):
    batch = ImportBatch.objects.create(force=thames_valley, source_name="tvp.csv")
    signed_in(client, role_users[role])
    assert client.get(f"{LIST}{batch.pk}/").status_code == status
    assert client.get(f"{LIST}{batch.pk}/status/").status_code == status


@pytest.mark.parametrize("role", [Role.PCC_STAFF, Role.PANEL_MEMBER, Role.API_CLIENT])
def test_only_force_data_officers_may_upload(upload, role_users, oxford, tmp_path, role):
    response = upload(role_users[role], met_file(tmp_path / "uof.csv", good_rows()))
    assert response.status_code == 403
    assert not ImportBatch.objects.exists()


def test_the_nav_links_to_imports_for_the_roles_that_follow_them(client, role_users):
    for role, linked in [(Role.FORCE_DATA_OFFICER, True), (Role.PCC_STAFF, True), (Role.PANEL_MEMBER, False)]:
        assert (f'href="{LIST}"' in signed_in(client, role_users[role]).get("/").content.decode()) is linked, role


def test_another_forces_batch_is_not_found(client, force_data_officer, pcc_staff, metropolitan):
    batch = ImportBatch.objects.create(
        force=metropolitan, data_version=1, source_name="met.csv", source_format="met", status="succeeded"
    )
    for user in (force_data_officer, pcc_staff):
        signed_in(client, user)
        for url in (f"{LIST}{batch.pk}/", f"{LIST}{batch.pk}/status/"):
            assert client.get(url).status_code == 404, url
        assert "met.csv" not in client.get(LIST).content.decode()


def test_a_superuser_chooses_the_force_and_sees_every_forces_imports(upload, client, superuser, lambeth, tmp_path):
    assert 'name="force"' in signed_in(client, superuser).get(LIST).content.decode()
    response = upload(superuser, met_file(tmp_path / "uof.csv", [row()]), force="metropolitan")
    batch = ImportBatch.objects.get()
    assert (response.status_code, batch.force_id, batch.status) == (302, "metropolitan", "succeeded")
    assert "Metropolitan Police Service" in client.get(LIST).content.decode()


def test_a_superuser_must_say_which_force_the_file_is_for(upload, superuser, tmp_path):
    response = upload(superuser, met_file(tmp_path / "uof.csv", [row()]))
    assert response.status_code == 200 and "This field is required." in page_text(response)
    assert not ImportBatch.objects.exists()


# --- importing -------------------------------------------------------------------------------


def test_a_good_file_is_imported_and_its_page_shows_the_report(upload, client, force_data_officer, oxford, tmp_path):
    response = upload(force_data_officer, met_file(tmp_path / "uof.csv", good_rows()))
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response.url == f"{LIST}{batch.pk}/"
    assert (batch.status, batch.force_id, batch.uploaded_by, batch.source_name) == (
        "succeeded", "thames-valley", force_data_officer, "uof.csv",
    )  # fmt: skip
    assert (batch.data_version, batch.rows_read, batch.rows_added, batch.rows_rejected) == (1, 2, 2, 0)
    assert UseOfForceReport.objects.filter(import_batch=batch).count() == 2
    text = page_text(client.get(response.url))
    assert "Succeeded: this import is data version 1 of Thames Valley Police." in text
    assert "data-status-url" not in text and 'http-equiv="refresh"' not in text
    assert "one officer's use of force on one person" in text


def test_an_xlsx_export_is_imported_under_a_plain_name(upload, force_data_officer, oxford, media_root, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "UoF"
    sheet.append(list(row(Borough="Oxford")))
    sheet.append(list(row(Borough="Oxford").values()))
    workbook.save(tmp_path / "MPS Use of Force - FY20-21.xlsx")
    upload(force_data_officer, tmp_path / "MPS Use of Force - FY20-21.xlsx")
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.rows_added, batch.source_name) == ("succeeded", 1, "MPS_Use_of_Force_-_FY20-21.xlsx")
    assert (media_root / "imports" / str(batch.pk) / batch.source_name).is_file()


def test_the_list_shows_the_forces_imports_newest_first_with_status_and_counts(
    upload, client, force_data_officer, oxford, tmp_path
):
    upload(force_data_officer, met_file(tmp_path / "first.csv", good_rows()))
    upload(force_data_officer, met_file(tmp_path / "second.csv", [*good_rows(), row(Borough="Oxford")]))
    text = page_text(client.get(LIST))
    assert text.index("second.csv") < text.index("first.csv")
    first, second = ImportBatch.objects.order_by("pk")
    assert (first.rows_added, second.rows_added, second.rows_unchanged) == (2, 1, 2)
    assert text.count("Succeeded") == 2


def test_a_file_with_bad_rows_fails_listing_row_column_and_value_and_writes_nothing(
    upload, client, force_data_officer, oxford, tmp_path
):
    rows = [row(Borough="Oxford"), row(Borough="Oxford", IncidentDate="31/02/2021")]
    response = upload(force_data_officer, met_file(tmp_path / "uof.csv", rows))
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.errors, batch.rows_rejected) == ("failed", [BAD_DATE], 1)
    assert not UseOfForceReport.objects.exists()
    text = page_text(client.get(response.url))
    assert "Failed: nothing was imported." in text
    assert BAD_DATE in text


def test_skipping_invalid_rows_imports_the_others_and_offers_the_reject_file(
    upload, client, force_data_officer, oxford, tmp_path
):
    rows = [*good_rows(), row(Borough="Oxford", IncidentDate="31/02/2021")]
    response = upload(force_data_officer, met_file(tmp_path / "uof.csv", rows), skip_invalid="on")
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.rows_added, batch.rows_rejected) == ("succeeded", 2, 1)
    text = page_text(client.get(response.url))
    assert BAD_DATE.replace("row 3", "row 4") in text
    assert f"{LIST}{batch.pk}/rejects/" in text
    rejects = client.get(f"{LIST}{batch.pk}/rejects/")
    assert rejects["Content-Disposition"] == 'attachment; filename="uof.rejects.csv"'
    [rejected] = list(csv.DictReader(io.StringIO(b"".join(rejects.streaming_content).decode())))
    assert (rejected["row"], rejected["IncidentDate"]) == ("4", "31/02/2021")


def test_a_batch_without_rejected_rows_has_no_reject_file(upload, client, force_data_officer, oxford, tmp_path):
    response = upload(force_data_officer, met_file(tmp_path / "uof.csv", good_rows()), skip_invalid="on")
    assert client.get(f"{response.url}rejects/").status_code == 404


def test_a_file_that_is_no_use_of_force_table_fails_with_one_sentence(upload, client, force_data_officer, tmp_path):
    path = tmp_path / "areas.csv"
    path.write_text("LAD16CD,LAD16NM\nE07000178,Oxford\n")
    response = upload(force_data_officer, path)
    batch = ImportBatch.objects.get()
    assert batch.status == "failed" and len(batch.errors) == 1
    assert batch.errors[0].startswith("areas.csv: not a use-of-force export")
    assert batch.errors[0] in page_text(client.get(response.url))


def test_unknown_areas_are_created_for_review_and_noted_on_the_page(upload, client, force_data_officer, tmp_path):
    response = upload(force_data_officer, met_file(tmp_path / "uof.csv", [row(Borough="Atlantis")]))
    assert "Area 'Atlantis' was not known and has been created; review it in the admin." in page_text(
        client.get(response.url)
    )


# --- what is stored, and what is refused ---------------------------------------------------


def multipart(file_name, content):
    """A request body naming the file exactly as given, as a hostile client could send it."""
    boundary = "BoUnDaRy"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
            f"Content-Type: text/csv\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("file_name", ["../../etc/passwd.csv", "..\\..\\etc\\passwd.csv", "/etc/passwd.csv"])
def test_a_file_name_with_path_tricks_is_stored_inside_the_batch_folder(
    client, django_capture_on_commit_callbacks, force_data_officer, oxford, media_root, tmp_path, file_name
):
    body, content_type = multipart(file_name, met_file(tmp_path / "uof.csv", good_rows()).read_bytes())
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(client, force_data_officer).post(LIST, body, content_type=content_type)
    batch = ImportBatch.objects.get()
    assert (response.status_code, batch.source_name, batch.status) == (302, "passwd.csv", "succeeded")
    stored = [path.relative_to(media_root).as_posix() for path in media_root.rglob("*") if path.is_file()]
    assert stored == [f"imports/{batch.pk}/passwd.csv"]
    assert not (tmp_path / "etc").exists()


@pytest.mark.parametrize(
    ("client_name", "stored"),
    [
        ("../../etc/passwd.csv", "passwd.csv"),
        ("..\\..\\Windows\\win.ini.CSV", "win_ini.csv"),
        ("C:\\Users\\me\\Use of force 2024.xlsx", "Use_of_force_2024.xlsx"),
        (".hidden.csv", "hidden.csv"),
        ("uof.rejects.csv", "uof_rejects.csv"),
        ("..", "upload"),
        ("", "upload"),
        ("<script>.csv", "script.csv"),
        ("a" * 300 + ".csv", "a" * 100 + ".csv"),
    ],
)
def test_stored_file_names_are_plain_names_whatever_the_client_sends(client_name, stored):
    assert safe_file_name(client_name) == stored


def test_an_oversized_file_is_refused_with_a_clear_message(upload, settings, force_data_officer, media_root, tmp_path):
    settings.IMPORT_UPLOAD_MAX_BYTES = 100
    response = upload(force_data_officer, met_file(tmp_path / "uof.csv", good_rows()))
    assert response.status_code == 200
    assert "uploads may be at most 100 bytes" in page_text(response)
    assert not ImportBatch.objects.exists() and not media_root.exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("report.pdf", "Upload a .csv or .xlsx file; “report.pdf” is a .pdf file."),
        ("export", "Upload a .csv or .xlsx file; “export” is a file without an extension."),
    ],
)
def test_a_file_that_is_not_csv_or_xlsx_is_refused(upload, force_data_officer, tmp_path, name, message):
    response = upload(force_data_officer, met_file(tmp_path / "uof.csv", good_rows()), name=name)
    assert message in page_text(response)
    assert not ImportBatch.objects.exists()


def test_an_empty_file_is_refused(upload, force_data_officer, tmp_path):
    path = tmp_path / "uof.csv"
    path.write_bytes(b"")
    assert "The submitted file is empty." in page_text(upload(force_data_officer, path))
    assert not ImportBatch.objects.exists()


# --- progress, and the task's edges --------------------------------------------------------


def test_while_running_the_page_shows_rows_read_and_follows_the_import(client, force_data_officer, thames_valley):
    batch = ImportBatch.objects.create(force=thames_valley, source_name="tvp.csv", status="running")
    cache.set(tasks.progress_key(batch.pk), 1234)
    text = signed_in(client, force_data_officer).get(f"{LIST}{batch.pk}/").content.decode()
    assert "<span data-rows-read>1,234</span> rows read so far" in text
    assert f'data-status-url="{LIST}{batch.pk}/status/"' in text
    assert "js/import-progress.js" in text
    # Without JavaScript the page refreshes itself, and says how to refresh it by hand.
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in text
    assert f'<a href="{LIST}{batch.pk}/">Refresh now</a>' in text


def test_the_status_json_reads_rows_read_from_the_cache_while_running_and_from_the_batch_after(
    client, force_data_officer, thames_valley
):
    batch = ImportBatch.objects.create(force=thames_valley, source_name="tvp.csv", status="running")
    cache.set(tasks.progress_key(batch.pk), 500)
    url = f"{LIST}{batch.pk}/status/"
    answer = signed_in(client, force_data_officer).get(url).json()
    assert answer == {
        "id": batch.pk,
        "status": "running",
        "status_label": "Running",
        "finished": False,
        "rows_read": 500,
    }
    ImportBatch.objects.filter(pk=batch.pk).update(status="succeeded", data_version=1, rows_read=700)
    assert client.get(url).json()["rows_read"] == 700  # a stale count in the cache is not shown


def test_progress_is_in_the_cache_while_the_import_runs_and_gone_after(
    upload, monkeypatch, force_data_officer, oxford, tmp_path
):
    seen, real_import = [], tasks.import_reports

    def watched_import(*args, progress, batch, **kwargs):
        def watching(rows):
            progress(rows)
            seen.append(cache.get(tasks.progress_key(batch.pk)))

        return real_import(*args, progress=watching, batch=batch, **kwargs)

    monkeypatch.setattr(tasks, "import_reports", watched_import)
    upload(force_data_officer, met_file(tmp_path / "uof.csv", good_rows()))
    batch = ImportBatch.objects.get()
    assert seen == [2]
    assert cache.get(tasks.progress_key(batch.pk)) is None and batch.rows_read == 2


def test_a_batch_already_started_is_not_imported_twice(upload, force_data_officer, oxford, tmp_path):
    upload(force_data_officer, met_file(tmp_path / "uof.csv", good_rows()))
    batch = ImportBatch.objects.get()
    assert tasks.import_file(batch.pk) is None  # a redelivered message
    assert ImportBatch.objects.get() == batch and UseOfForceReport.objects.count() == 2


def test_an_upload_the_queue_cannot_take_keeps_its_file_and_the_page_says_so_not_as_a_problem_of_the_file(
    transactional_db, client, monkeypatch, force_data_officer, oxford, tmp_path
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.import_file, "delay", broker_down)
    client.force_login(force_data_officer)
    with open(met_file(tmp_path / "uof.csv", good_rows()), "rb") as handle:
        response = client.post(LIST, {"file": handle})
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.errors) == ("pending", [])
    assert uploads.uploaded_file(batch).is_file()
    page = page_text(client.get(response.url))
    assert tasks.NOT_QUEUED in page and "Problems" not in page


def test_an_unexpected_error_before_the_import_starts_fails_the_batch(
    upload, client, monkeypatch, force_data_officer, oxford, tmp_path
):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(readers, "open_table", broken)  # fails inside import_reports, before any row
    response = upload(force_data_officer, met_file(tmp_path / "uof.csv", good_rows()))
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.errors) == ("failed", [pipeline.UNEXPECTED])
    assert "disk on fire" not in page_text(client.get(response.url))  # details go to the log, not the page


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_the_upload_answers_with_the_finished_report(client, force_data_officer, oxford, tmp_path):
    # Committed for real (no test transaction), the view's on_commit runs the task before it answers.
    client.login(request=HttpRequest(), username=force_data_officer.username, password=PASSWORD)
    with open(met_file(tmp_path / "uof.csv", good_rows()), "rb") as handle:
        response = client.post(LIST, {"file": handle}, follow=True)
    assert "Succeeded: this import is data version 1" in page_text(response)
