"""The reports resource: the token's force only, filtered, cursor-paged, whole as canonical CSV."""

import datetime
import io

import pytest
from django.core.management import call_command

from incidents.models import CedLevel, Ethnicity, UseOfForceReport
from oversight.api import id_halves
from tests.factories import CedUseFactory, ReportFactory
from tests.test_constraints import postgresql_only
from tests.test_faults import connections_open, until

API = "/api/v1/reports/"


@pytest.fixture
def reports(oxford, lambeth):
    """Thames Valley: a fired report with its device, a drawn one, one without Taser; the Met: one."""
    fired = ReportFactory(
        area=oxford, occurred_on=datetime.date(2025, 6, 3), ced_levels=[CedLevel.DRAWN, CedLevel.FIRED],
        subject_ethnicity=Ethnicity.BLACK, outcome_arrested=True, location_street=True, source_key="tv-1",
    )  # fmt: skip
    CedUseFactory(report=fired, ced_drawn=True, ced_fired=True, device_model="x2", cycles=2, probe_zones=["F6"])
    drawn = ReportFactory(
        area=oxford, occurred_on=datetime.date(2025, 7, 9), ced_levels=[CedLevel.DRAWN], location_dwelling=True,
        subject_ethnicity=Ethnicity.WHITE, source_key="tv-2",
    )  # fmt: skip
    no_taser = ReportFactory(area=oxford, occurred_on=datetime.date(2025, 7, 20), source_key="tv-3")
    met = ReportFactory(area=lambeth, occurred_on=datetime.date(2025, 7, 1), ced_levels=[CedLevel.AIMED])
    return {"fired": fired, "drawn": drawn, "no_taser": no_taser, "met": met}


@pytest.fixture
def api(client, api_client_user, token_key):
    """GET with a read-only token of a Thames Valley API client."""
    key = token_key(api_client_user)

    def get(path=API, **params):
        return client.get(path, params, HTTP_AUTHORIZATION=f"Bearer {key}")

    return get


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_a_token_sees_its_forces_reports_newest_first(api, reports):
    assert ids(api()) == [reports["no_taser"].pk, reports["drawn"].pk, reports["fired"].pk]


def test_a_report_comes_with_its_ced_uses_and_levels_by_name(api, reports):
    body = api(f"{API}{reports['fired'].pk}/").json()
    assert (body["force"], body["area"], body["area_name"]) == ("thames-valley", "E22000155", "Oxford")
    assert (body["highest_ced_level"], body["ced_levels"]) == ("fired", ["fired", "drawn"])
    assert (body["outcomes"], body["locations"], body["location_groups"]) == (["arrested"], ["street"], ["public"])
    [device] = body["ced_uses"]
    assert (device["device_model"], device["levels"], device["cycles"], device["probe_zones"]) == (
        "x2", ["fired", "drawn"], 2, ["F6"],
    )  # fmt: skip


def test_another_forces_report_is_not_found(api, reports):
    response = api(f"{API}{reports['met'].pk}/")
    assert response.status_code == 404
    assert response.json()["message"] == "No UseOfForceReport matches the given query."


def test_an_unknown_report_is_not_found(api, reports):
    assert api(f"{API}999999/").status_code == 404


def test_withdrawn_reports_are_left_out(api, reports):
    UseOfForceReport.objects.filter(pk=reports["drawn"].pk).update(withdrawn_in_version=2)
    assert reports["drawn"].pk not in ids(api())


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"from": "2025-07-01", "to": "2025-07-10"}, ["drawn"]),
        ({"highest_level": "fired"}, ["fired"]),
        ({"highest_level": ["fired", "drawn"]}, ["drawn", "fired"]),
        ({"discharge_group": "non_discharge"}, ["drawn"]),
        ({"discharge_group": "no_taser"}, ["no_taser"]),
        ({"ethnicity": "black"}, ["fired"]),
        ({"outcome": "arrested"}, ["fired"]),
        ({"location_group": "dwelling"}, ["drawn"]),
        ({"location_group": ["dwelling", "public"]}, ["drawn", "fired"]),
        ({"ced_used": "false"}, ["no_taser"]),
        ({"area": "E22000155", "ordering": "occurred_on"}, ["fired", "drawn", "no_taser"]),
        ({"area": "E22000022"}, []),  # the Met's borough: none of the token's force
    ],
)
def test_filters_select_what_they_say(api, reports, params, expected):
    assert ids(api(**params)) == [reports[name].pk for name in expected]


def test_a_bad_filter_value_gets_400_naming_it(api, reports):
    response = api(highest_level="zapped")
    assert response.status_code == 400
    assert response.json()["message"] == (
        "highest_level: Select a valid choice. zapped is not one of the available choices."
    )


def test_pages_follow_by_cursor_without_overlap(api, reports):
    first = api(page_size=2).json()
    assert len(first["results"]) == 2 and first["next"]
    second = api(first["next"].replace("http://testserver", "")).json()
    seen = [row["id"] for row in first["results"] + second["results"]]
    assert sorted(seen) == sorted(r.pk for name, r in reports.items() if name != "met")
    assert second["next"] is None


def test_a_huge_page_size_is_capped(api, reports):
    assert len(api(page_size=10**9).json()["results"]) == 3


def test_the_csv_is_the_canonical_format_and_reimports_as_identical_records(api, reports, tmp_path):
    response = api(format="csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="thames-valley-reports.csv"'
    exported = b"".join(response.streaming_content)
    assert exported.decode().splitlines()[0].startswith("source_key,force,area_code,area_name,occurred_on")
    assert len(exported.decode().splitlines()) == 1 + 3

    path = tmp_path / "export.csv"
    path.write_bytes(exported)
    call_command("import_uof", str(path), force="thames-valley", stdout=io.StringIO())
    assert b"".join(api(format="csv").streaming_content) == exported
    out = io.StringIO()
    call_command("import_uof", str(path), force="thames-valley", stdout=out)
    assert "(0 added, 0 changed), 3 unchanged" in out.getvalue()


def test_the_csv_takes_the_same_filters(api, reports):
    lines = b"".join(api(format="csv", highest_level="fired").streaming_content).decode().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["tv-1"]


@pytest.fixture
def every_csv_split(monkeypatch):
    """Large CSVs are copied in two halves at once; with this, every CSV is large."""
    monkeypatch.setattr("oversight.api.SPLIT_FROM_IDS", 1)


@pytest.mark.parametrize(
    "filters",
    [{"area": "E99999999"}, {"highest_level": "fired", "discharge_group": "no_taser"}],
    ids=["unknown area", "no level of the group"],
)
def test_a_csv_of_filters_that_can_match_nothing_is_its_header_and_the_next_request_is_answered(api, reports, filters):
    lines = b"".join(api(format="csv", **filters).streaming_content).decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("source_key,")
    assert len(api().json()["results"]) == 3  # the request's connection is still open


def test_halves_of_the_reports_hold_each_report_once(reports, every_csv_split):
    halves = id_halves(UseOfForceReport.objects.all())
    assert len(halves) == 2
    assert sorted(pk for half in halves for pk in half.values_list("pk", flat=True)) == sorted(
        UseOfForceReport.objects.values_list("pk", flat=True)
    )


@postgresql_only
def test_a_csv_copied_in_halves_at_once_is_the_csv_copied_whole(transactional_db, api, reports, monkeypatch):
    whole = b"".join(api(format="csv").streaming_content)
    monkeypatch.setattr("oversight.api.SPLIT_FROM_IDS", 1)
    assert b"".join(api(format="csv").streaming_content) == whole
    assert len(whole.decode().splitlines()) == 1 + 3


@postgresql_only
def test_a_csv_download_closed_half_way_leaves_no_connection_open(transactional_db, api, reports, every_csv_split):
    before = connections_open()
    response = api(format="csv")
    blocks = iter(response.streaming_content)
    assert next(blocks).startswith(b"source_key,")
    assert next(blocks).startswith(b"tv-1,")  # the first half, while the second is spooled
    assert connections_open() == before + 2
    response.close()
    until(lambda: connections_open() == before, "the download's two connections end")  # backends exit a moment later


def test_accept_text_csv_gives_csv_too(client, api_client_user, token_key, reports):
    key = token_key(api_client_user)
    response = client.get(API, HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_ACCEPT="text/csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"


def test_an_error_asked_for_as_csv_answers_in_json(client, reports):
    response = client.get(API, {"format": "csv"})
    assert response.status_code == 401
    assert response.json()["message"] == "Authentication credentials were not provided."
