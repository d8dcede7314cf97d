"""Public reference resources, API tokens (made, hashed, scoped, revoked) and throttling."""

import datetime
import hashlib

import pytest
from rest_framework.settings import api_settings

from forces.models import ApiToken, CapabilityRecord, Role, UpliftDecision
from tests.conftest import role_user
from tests.factories import EditionFactory, PublishedFigureFactory, ReportFactory

# --- public resources -------------------------------------------------------------------------


def test_forces_are_listed_by_their_data_police_uk_ids(client, forces):
    body = client.get("/api/v1/forces/", {"page_size": 100}).json()
    assert body["count"] == 44
    assert {"thames-valley", "metropolitan", "btp"} <= {force["id"] for force in body["results"]}


def test_a_force_and_its_areas(client, oxford):
    assert client.get("/api/v1/forces/thames-valley/").json()["name"] == "Thames Valley Police"
    areas = client.get("/api/v1/forces/thames-valley/areas/").json()["results"]
    assert [(a["code"], a["name"], a["kind"]) for a in areas] == [("E22000155", "Oxford", "csp")]


def test_an_unknown_force_is_not_found(client, forces):
    assert client.get("/api/v1/forces/atlantis/").status_code == 404
    assert client.get("/api/v1/forces/atlantis/areas/").status_code == 404
    assert client.get("/api/v1/forces/%00/areas/").status_code == 404  # PostgreSQL refuses NUL in a query


def test_a_path_no_api_route_matches_answers_json(client, db):
    response = client.get("/api/v1/findings/1.5e-9/")
    assert (response.status_code, response.json()["message"]) == (404, "Not found.")
    assert client.get("/no-such-page/")["Content-Type"].startswith("text/html")


def test_published_figures_filter_by_force_and_year(client, thames_valley):
    for year, value in (("2019/20", 1037), ("2020/21", 1100)):
        PublishedFigureFactory(force=thames_valley, financial_year=year, measure="ced_total", value=value)
    rows = client.get("/api/v1/published-figures/", {"force": "thames-valley", "financial_year": "2019/20"}).json()
    assert [(r["measure"], r["value"], r["unit"]) for r in rows["results"]] == [("ced_total", 1037, "incidents")]
    assert rows["results"][0]["period"] == "2019/20"
    assert rows["results"][0]["period_kind"] == "financial_year"


def test_published_figures_serve_the_newest_editions_value_and_what_it_revised(client, thames_valley):
    older = EditionFactory(name="The 2018/19 edition", published_on=datetime.date(2019, 12, 19))
    newer = EditionFactory(name="The 2019/20 edition", published_on=datetime.date(2020, 12, 17))
    # The newer edition is stored first: ranking is by publication, not by import order.
    PublishedFigureFactory(edition=newer, force=thames_valley, financial_year="2017/18", value=519)
    PublishedFigureFactory(edition=older, force=thames_valley, financial_year="2017/18", value=520)
    rows = client.get("/api/v1/published-figures/", {"force": "thames-valley"}).json()["results"]
    assert [(r["value"], r["source_edition"], r["published_on"], r["revised_value"], r["revised_edition"])
            for r in rows] == [(519, "The 2019/20 edition", "2020-12-17", 520, "The 2018/19 edition")]  # fmt: skip
    history = client.get("/api/v1/published-figures/", {"force": "thames-valley", "history": "true"}).json()
    assert [r["value"] for r in history["results"]] == [519, 520]


def test_capability_and_uplift_decisions_are_public_and_download_as_csv(client, thames_valley):
    CapabilityRecord.objects.create(
        force=thames_valley, as_of=datetime.date(2025, 4, 1), device_model="taser7", devices_in_service=900,
        officers_trained=1400, source="=HYPERLINK(\"http://x\")",
    )  # fmt: skip
    UpliftDecision.objects.create(force=thames_valley, decided_on=datetime.date(2024, 1, 5), decision="Uplift to 1,400")
    assert client.get("/api/v1/capability/").json()["results"][0]["officers_trained"] == 1400
    assert client.get("/api/v1/uplift-decisions/").json()["results"][0]["decision"] == "Uplift to 1,400"
    lines = b"".join(client.get("/api/v1/capability/", {"format": "csv"}).streaming_content).decode().splitlines()
    assert lines[0] == "force,as_of,device_model,devices_in_service,officers_trained,source"
    # A spreadsheet would run the formula: the cell is written as text.
    assert lines[1] == 'thames-valley,2025-04-01,taser7,900,1400,"\'=HYPERLINK(""http://x"")"'


def test_the_schema_and_the_interactive_docs_work_without_the_network(client, db):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/summaries/" in schema.content
    docs = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower()


# --- tokens -----------------------------------------------------------------------------------


def test_a_user_makes_a_token_whose_key_is_shown_once_and_stored_hashed(client, api_client_user):
    client.force_login(api_client_user)
    page = client.post("/account/tokens/", {"name": "nightly pull", "access": "read"})
    key = page.context["new_key"]
    token = ApiToken.objects.get(user=api_client_user)
    assert (token.name, token.force_id, token.access) == ("nightly pull", "thames-valley", "read")
    assert token.key_digest == hashlib.sha256(key.encode()).hexdigest() and key not in token.key_digest
    assert key.encode() in page.content and page["Cache-Control"] == "no-store"
    assert key.encode() not in client.get("/account/tokens/").content
    assert client.get("/api/v1/reports/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200


def test_a_revoked_token_is_refused(client, api_client_user, token_key):
    key = token_key(api_client_user)
    client.force_login(api_client_user)
    client.post("/account/tokens/", {"revoke": ApiToken.objects.get().pk})
    client.logout()
    response = client.get("/api/v1/reports/", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 401
    assert response.json()["message"].startswith("This token was revoked on")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_nobody_revokes_another_users_token(client, api_client_user, pcc_staff, token_key):
    token_key(api_client_user)
    client.force_login(pcc_staff)
    assert client.post("/account/tokens/", {"revoke": ApiToken.objects.get().pk}).status_code == 404
    assert ApiToken.objects.get().revoked_at is None


def test_an_unknown_token_is_refused(client, db):
    response = client.get("/api/v1/forces/", HTTP_AUTHORIZATION="Bearer tox_made-up")
    assert (response.status_code, response.json()["message"]) == (401, "This token is not known.")


def test_a_token_stops_working_when_its_user_moves_to_another_force(client, api_client_user, token_key, metropolitan):
    key = token_key(api_client_user)
    api_client_user.force_scope.force = metropolitan
    api_client_user.force_scope.save()
    assert client.get("/api/v1/reports/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401


def test_a_superusers_token_reads_only_its_force(client, superuser, token_key, oxford, lambeth, thames_valley):
    ReportFactory(area=oxford)
    ReportFactory(area=lambeth)
    key = token_key(superuser, force=thames_valley)
    rows = client.get("/api/v1/reports/", HTTP_AUTHORIZATION=f"Bearer {key}").json()["results"]
    assert {row["force"] for row in rows} == {"thames-valley"}


def test_a_superuser_chooses_the_tokens_force(client, superuser, metropolitan):
    client.force_login(superuser)
    client.post("/account/tokens/", {"name": "audit", "access": "read", "force": "metropolitan"})
    assert ApiToken.objects.get().force == metropolitan


@pytest.mark.parametrize("role", [Role.PANEL_MEMBER])
def test_panel_members_make_no_tokens(client, role, thames_valley):
    client.force_login(role_user(role, thames_valley))
    assert client.get("/account/tokens/").status_code == 403


# --- throttling -------------------------------------------------------------------------------


@pytest.fixture
def low_rates(monkeypatch):
    monkeypatch.setitem(api_settings.DEFAULT_THROTTLE_RATES, "anon", "3/minute")
    monkeypatch.setitem(api_settings.DEFAULT_THROTTLE_RATES, "caller", "2/minute")


def test_anonymous_callers_are_throttled_per_address_with_retry_after(client, forces, low_rates):
    statuses = [client.get("/api/v1/forces/", REMOTE_ADDR="10.0.0.1").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/api/v1/forces/", REMOTE_ADDR="10.0.0.1")
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["message"].startswith("Request was throttled.")
    assert client.get("/api/v1/forces/", REMOTE_ADDR="10.0.0.2").status_code == 200


def test_a_forwarded_for_header_does_not_dodge_the_throttle(client, forces, low_rates):
    statuses = [
        client.get("/api/v1/forces/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code
        for n in range(4)
    ]
    assert statuses[-1] == 429


def test_token_callers_are_throttled_per_token(client, api_client_user, token_key, low_rates):
    first, second = token_key(api_client_user), token_key(api_client_user)
    statuses = [client.get("/api/v1/forces/", HTTP_AUTHORIZATION=f"Bearer {first}").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert client.get("/api/v1/forces/", HTTP_AUTHORIZATION=f"Bearer {second}").status_code == 200


def test_published_figures_refuse_a_history_that_is_not_true_or_false(client, thames_valley):
    response = client.get("/api/v1/published-figures/", {"history": "perhaps"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"history": ["'perhaps' is not true or false."]}
