"""The imports API: upload a file, follow it by its status URL, list a force's imports."""

import io
import re

import pytest
from django.core.cache import cache

from forces.models import Role
from incidents.models import ImportBatch, UseOfForceReport
from incidents.queries import UNIT_OF_COUNT
from tests.incidents.test_import_uof import met_file, row

API = "/api/v1/imports/"
BAD_DATE = "row 3, IncidentDate: '31/02/2021' is not a date (expected YYYY-MM-DD or DD/MM/YYYY)"


@pytest.fixture
def post_file(client, django_capture_on_commit_callbacks, tmp_path):
    """POST a Met file as `user`; what the view enqueues runs once the answer has been given."""

    def post(user, rows=None, force="thames-valley", name="uof.csv", **fields):
        client.force_login(user)
        file = io.BytesIO(met_file(tmp_path / "uof.csv", rows or [row(Borough="Oxford")]).read_bytes())
        file.name = name
        data = {"file": file, **fields} | ({"force": force} if force else {})
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(API, data)

    return post


def batch_of(force, **fields):
    return ImportBatch.objects.create(force=force, source_name="uof.csv", **fields)


def test_posting_a_file_answers_202_with_a_status_url_and_location(post_file, force_data_officer, oxford):
    response = post_file(force_data_officer)
    batch = ImportBatch.objects.get()
    body = response.json()
    assert response.status_code == 202
    assert (body["id"], body["force"], body["source_name"]) == (batch.pk, "thames-valley", "uof.csv")
    assert body["status_url"] == f"http://testserver{API}{batch.pk}/"
    assert response["Location"] == body["status_url"]
    assert body["status"] == "pending"  # the import runs after the answer (on commit)


def test_polling_the_status_url_until_done_gives_counts_data_version_and_unit(
    client, post_file, force_data_officer, oxford
):
    status_url = post_file(force_data_officer, rows=[row(Borough="Oxford"), row(Borough="Oxford")]).json()["status_url"]
    for _ in range(10):
        body = client.get(status_url).json()
        if body["status"] in ("succeeded", "failed"):
            break
    assert body["status"] == "succeeded"
    assert (body["rows_read"], body["rows_added"], body["rows_rejected"], body["data_version"]) == (2, 2, 0, 1)
    assert (body["errors"], body["notes"], body["unit_of_count"]) == ([], [], UNIT_OF_COUNT)
    assert body["rejects_url"] is None and body["finished_at"]


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_the_import_has_run_before_the_answer(client, force_data_officer, oxford, tmp_path):
    client.force_login(force_data_officer)
    with open(met_file(tmp_path / "uof.csv", [row(Borough="Oxford")]), "rb") as handle:
        response = client.post(API, {"file": handle, "force": "thames-valley"})
    assert (response.status_code, response.json()["status"]) == (202, "succeeded")


def test_a_failed_import_gives_the_row_column_and_value_of_each_problem(client, post_file, force_data_officer, oxford):
    rows = [row(Borough="Oxford"), row(Borough="Oxford", IncidentDate="31/02/2021")]
    body = client.get(post_file(force_data_officer, rows=rows).json()["status_url"]).json()
    assert (body["status"], body["errors"], body["rows_rejected"]) == ("failed", [BAD_DATE], 1)
    assert not UseOfForceReport.objects.exists()


def test_skip_invalid_imports_the_good_rows_and_links_the_reject_file(client, post_file, force_data_officer, oxford):
    rows = [row(Borough="Oxford"), row(Borough="Oxford", IncidentDate="31/02/2021")]
    body = client.get(post_file(force_data_officer, rows=rows, skip_invalid="true").json()["status_url"]).json()
    assert (body["status"], body["rows_added"], body["rows_rejected"]) == ("succeeded", 1, 1)
    assert client.get(body["rejects_url"]).status_code == 200


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.FORCE_DATA_OFFICER, 202), (Role.PCC_STAFF, 403), (Role.PANEL_MEMBER, 403), (Role.API_CLIENT, 403)],
)
def test_only_force_data_officers_may_post_a_file(post_file, role_users, oxford, role, status):
    response = post_file(role_users[role])
    assert response.status_code == status
    if status == 403:
        assert response.json()["message"] == "Only force data officers upload use-of-force files."
        assert not ImportBatch.objects.exists()


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.FORCE_DATA_OFFICER, 200), (Role.PCC_STAFF, 200), (Role.PANEL_MEMBER, 403), (Role.API_CLIENT, 403)],
)
def test_getting_and_listing_imports_is_for_data_officers_and_pcc_staff(
    client, role_users, thames_valley, role, status
):
    batch = batch_of(thames_valley)
    client.force_login(role_users[role])
    for url in (API, f"{API}{batch.pk}/"):
        response = client.get(url)
        assert response.status_code == status, url
        if status == 403:
            assert response.json()["message"] == "Imports are for force data officers and PCC staff."


def test_anonymous_requests_are_refused_with_a_json_message(client, thames_valley):
    batch = batch_of(thames_valley)
    for method, url in (("get", API), ("get", f"{API}{batch.pk}/"), ("post", API)):
        response = getattr(client, method)(url)
        assert (response.status_code, response["WWW-Authenticate"]) == (401, 'Bearer realm="api"')
        assert response.json()["message"] == "Authentication credentials were not provided."


def test_posting_for_another_force_is_forbidden_with_a_message(post_file, force_data_officer, oxford):
    response = post_file(force_data_officer, force="metropolitan")
    assert response.status_code == 403
    assert response.json()["message"] == "You may upload only for your own force, 'thames-valley', not 'metropolitan'."
    assert not ImportBatch.objects.exists()


def test_a_superuser_may_post_for_any_force(post_file, superuser, lambeth):
    response = post_file(superuser, rows=[row()], force="metropolitan")
    assert response.status_code == 202 and ImportBatch.objects.get().force_id == "metropolitan"


def test_another_forces_batch_is_not_found(client, force_data_officer, metropolitan):
    batch = batch_of(metropolitan, data_version=1, status="succeeded", source_format="met")
    client.force_login(force_data_officer)
    response = client.get(f"{API}{batch.pk}/")
    assert response.status_code == 404
    assert response.json()["message"] == "No ImportBatch matches the given query."


def test_the_list_holds_only_the_users_force_newest_first_in_pages(client, pcc_staff, thames_valley, metropolitan):
    batches = [batch_of(thames_valley) for _ in range(51)]
    batch_of(metropolitan)
    client.force_login(pcc_staff)
    first = client.get(API, {"page_size": 50}).json()
    assert (first["count"], len(first["results"])) == (51, 50)
    assert [item["id"] for item in first["results"]][:2] == [batches[-1].pk, batches[-2].pk]
    assert {item["force"] for item in first["results"]} == {"thames-valley"}
    assert len(client.get(first["next"]).json()["results"]) == 1
    assert len(client.get(API).json()["results"]) == 51  # 100 a page unless asked


def test_the_list_filters_by_status(client, pcc_staff, thames_valley):
    batch_of(thames_valley, status="failed", data_version=1)
    running = batch_of(thames_valley, status="running")
    client.force_login(pcc_staff)
    assert [item["id"] for item in client.get(API, {"status": "running"}).json()["results"]] == [running.pk]


def test_rows_read_come_from_the_cache_while_the_import_runs(client, pcc_staff, thames_valley):
    batch = batch_of(thames_valley, status="running")
    cache.set(f"import-progress:{batch.pk}", 40_000)
    client.force_login(pcc_staff)
    assert client.get(f"{API}{batch.pk}/").json()["rows_read"] == 40_000


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "uof.pdf"}, "file: Upload a .csv or .xlsx file; “uof.pdf” is a .pdf file."),
        ({"force": ""}, "force: This field is required."),
    ],
)
def test_a_bad_upload_is_refused_with_a_message_naming_the_field(post_file, force_data_officer, fields, message):
    response = post_file(force_data_officer, **fields)
    assert response.status_code == 400
    assert response.json()["message"] == message
    assert not ImportBatch.objects.exists()


def test_an_oversized_upload_is_refused(post_file, settings, force_data_officer):
    settings.IMPORT_UPLOAD_MAX_BYTES = 100
    response = post_file(force_data_officer)
    assert response.status_code == 400
    assert "uploads may be at most 100" in response.json()["errors"]["file"][0]


def test_the_openapi_schema_describes_the_imports_endpoints(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert {"/api/v1/imports/", "/api/v1/imports/{id}/"} <= set(schema["paths"])
    assert "202" in schema["paths"]["/api/v1/imports/"]["post"]["responses"]


def test_the_interactive_docs_load_nothing_from_other_hosts(client):
    loads = re.findall(r'(?:src|href)="([^"]*)"', client.get("/api/docs/").content.decode())
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in loads
    assert [url for url in loads if not url.startswith("/") or url.startswith("//")] == []


def test_the_list_downloads_as_csv(client, pcc_staff, thames_valley):
    batch = batch_of(thames_valley, status="failed", data_version=1, errors=["row 2, IncidentDate: 'x' is not a date"])
    client.force_login(pcc_staff)
    lines = b"".join(client.get(API, {"format": "csv"}).streaming_content).decode().splitlines()
    assert lines[0].startswith("id,force,status,source_name")
    assert lines[1].startswith(f"{batch.pk},thames-valley,failed,uof.csv")
    assert "row 2, IncidentDate: 'x' is not a date" in lines[1]
