"""Quarterly PCC reports: built from the summaries, kept as snapshots, printed and downloaded."""

import csv
import datetime
import io

import pytest

from dashboards import tasks
from dashboards.services import build_quarterly_report
from forces.models import CapabilityRecord, Role
from incidents.models import CedLevel, QuarterlyReport
from incidents.queries import rate_ratio
from incidents.summaries import rebuild_summaries
from oversight.police_calendar import quarter_label
from tests.factories import AreaFactory, PopulationBaselineFactory, ReportFactory

Q3_2025 = datetime.date(2025, 7, 1)  # July to September 2025: Q2 of 2025/26


def taser(area, day, level=CedLevel.DRAWN, ethnicity="white", **fields):
    return ReportFactory(area=area, occurred_on=day, ced_levels=[level], subject_ethnicity=ethnicity, **fields)


@pytest.fixture
def quarter_of_reports(oxford):
    """Oxford: 4 Taser reports (1 fired) in July–September 2025, 2 the quarter before, 1 a year before."""
    PopulationBaselineFactory(area=oxford, white=80_000, black=5_000, asian=10_000, mixed=3_000, other=2_000)
    for day, level, ethnicity in [
        (datetime.date(2025, 7, 2), CedLevel.FIRED, "black"),
        (datetime.date(2025, 8, 9), CedLevel.DRAWN, "white"),
        (datetime.date(2025, 9, 30), CedLevel.RED_DOTTED, "white"),
        (datetime.date(2025, 9, 30), CedLevel.AIMED, "black"),
        (datetime.date(2025, 5, 1), CedLevel.DRAWN, "white"),
        (datetime.date(2025, 6, 30), CedLevel.FIRED, "white"),
        (datetime.date(2024, 8, 1), CedLevel.DRAWN, "asian"),
    ]:
        taser(oxford, day, level, ethnicity)
    ReportFactory(area=oxford, occurred_on=datetime.date(2025, 7, 3))  # force used, not Taser
    CapabilityRecord.objects.create(
        force=oxford.force, as_of=datetime.date(2025, 6, 1), device_model="taser7", devices_in_service=40,
        officers_trained=200, source="PCC return",
    )  # fmt: skip
    rebuild_summaries(force_ids=["thames-valley"])
    return oxford


def headline(report):
    return {item["measure"]: (item["value"], item["previous_quarter"], item["same_quarter_last_year"])
            for item in report.figures["headline"]}  # fmt: skip


def test_a_quarterly_report_counts_the_quarter_against_the_last_and_the_year_before(quarter_of_reports):
    report = build_quarterly_report(force_id="thames-valley", quarter=datetime.date(2025, 8, 15))
    assert report.quarter == Q3_2025
    assert report.figures["period"]["label"] == "Q2 2025/26 (July to September 2025)"
    assert headline(report)["taser_reports"] == (4, 2, 1)
    assert headline(report)["reports"] == (5, 2, 1)
    assert headline(report)["level_fired"] == (1, 1, 0)
    assert report.figures["fired_share"] == {"value": 0.25, "previous_quarter": 0.5, "same_quarter_last_year": 0.0}
    assert report.figures["capability"] == {
        "as_of": "2025-06-01", "devices": 40, "officers_trained": 200, "uses_per_trained_officer": 0.02
    }  # fmt: skip
    black = next(row for row in report.figures["disproportionality"] if row["group"] == "black")
    assert (black["reports"], black["population"], black["rate_per_1000"]) == (2, 5_000, 0.4)
    assert black["ratio"] == pytest.approx((2 / 5_000) / (2 / 80_000))
    mixed = next(row for row in report.figures["disproportionality"] if row["group"] == "mixed")
    assert (mixed["rate_per_1000"], mixed["ratio"], mixed["note"]) == (0.0, None, "no Taser reports in this group")


def test_a_snapshot_keeps_its_figures_after_a_correction(quarter_of_reports):
    before = build_quarterly_report(force_id="thames-valley", quarter=Q3_2025)
    corrected = quarter_of_reports.reports.get(occurred_on=datetime.date(2025, 7, 2))
    corrected.set_ced_levels([CedLevel.DRAWN])
    corrected.save()
    rebuild_summaries(force_ids=["thames-valley"])
    after = build_quarterly_report(force_id="thames-valley", quarter=Q3_2025)
    before.refresh_from_db()
    assert headline(before)["level_fired"][0] == 1
    assert headline(after)["level_fired"][0] == 0


def test_an_area_report_counts_only_that_area(quarter_of_reports):
    AreaFactory(force=quarter_of_reports.force, name="Reading", code="E22000160")
    taser(quarter_of_reports.force.areas.get(name="Reading"), datetime.date(2025, 7, 9))
    rebuild_summaries(force_ids=["thames-valley"])
    report = build_quarterly_report(force_id="thames-valley", quarter=Q3_2025, area_id=quarter_of_reports.pk)
    assert headline(report)["taser_reports"][0] == 4
    assert report.figures["area"] == "Oxford"


def test_rates_are_not_printed_without_a_population(oxford):
    taser(oxford, Q3_2025)
    rebuild_summaries(force_ids=["thames-valley"])
    report = build_quarterly_report(force_id="thames-valley", quarter=Q3_2025)
    (area,) = report.figures["areas"]
    assert (area["rate_per_1000"], area["note"]) == (None, "no population baseline for this area")
    assert {row["note"] for row in report.figures["disproportionality"]} == {"no population baseline for this area"}


def test_the_rate_ratio_interval_follows_the_log_method():
    ratio, low, high = rate_ratio(20, 10_000, 50, 100_000)
    assert ratio == pytest.approx(4.0)
    assert (low, high) == (pytest.approx(2.382, abs=1e-3), pytest.approx(6.716, abs=1e-3))
    assert rate_ratio(0, 10_000, 50, 100_000) is None


def test_quarters_are_named_as_police_financial_quarters():
    assert quarter_label(datetime.date(2026, 1, 1)) == "Q4 2025/26 (January to March 2026)"
    assert quarter_label(datetime.date(2026, 4, 1)) == "Q1 2026/27 (April to June 2026)"


def test_the_quarter_end_task_builds_last_quarters_report_for_each_force_with_summaries(quarter_of_reports):
    (pk,) = tasks.build_last_quarter_reports()
    report = QuarterlyReport.objects.get(pk=pk)
    today = datetime.date.today()
    assert report.quarter < datetime.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    assert report.force_id == "thames-valley"


# --- pages --------------------------------------------------------------------------------------

PAGE_STATUS = {Role.PCC_STAFF: 200, Role.FORCE_DATA_OFFICER: 200, Role.PANEL_MEMBER: 403, Role.API_CLIENT: 403}


@pytest.mark.parametrize("role", list(Role))
def test_who_may_read_quarterly_reports(client, role_users, quarter_of_reports, role):
    report = build_quarterly_report(force_id="thames-valley", quarter=Q3_2025)
    client.force_login(role_users[role])
    for url in ("/forces/thames-valley/quarterly/", f"/forces/thames-valley/quarterly/{report.pk}/"):
        assert client.get(url).status_code == PAGE_STATUS[role], (role, url)


def test_anonymous_visitors_are_sent_to_sign_in(client, thames_valley):
    response = client.get("/forces/thames-valley/quarterly/")
    assert (response.status_code, response["Location"].split("?")[0]) == (302, "/accounts/login/")


def test_pcc_staff_build_a_report_on_demand(client, pcc_staff, quarter_of_reports, django_capture_on_commit_callbacks):
    client.force_login(pcc_staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/forces/thames-valley/quarterly/", {"quarter": "2025-07-01"})
    assert response.status_code == 302
    report = QuarterlyReport.objects.get()
    assert headline(report)["taser_reports"][0] == 4
    page = client.get(f"/forces/thames-valley/quarterly/{report.pk}/").content.decode()
    assert "Q2 2025/26 (July to September 2025)" in page
    assert "Counting rules" in page


def test_force_data_officers_cannot_build_reports(client, force_data_officer, quarter_of_reports):
    client.force_login(force_data_officer)
    assert client.post("/forces/thames-valley/quarterly/", {"quarter": "2025-07-01"}).status_code == 403
    assert not QuarterlyReport.objects.exists()


def test_a_quarter_without_summaries_cannot_be_chosen(client, pcc_staff, quarter_of_reports):
    client.force_login(pcc_staff)
    response = client.post("/forces/thames-valley/quarterly/", {"quarter": "2019-01-01"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_the_csv_holds_every_figure_of_the_report(client, pcc_staff, quarter_of_reports):
    report = build_quarterly_report(force_id="thames-valley", quarter=Q3_2025)
    client.force_login(pcc_staff)
    response = client.get(f"/forces/thames-valley/quarterly/{report.pk}/?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["section", "measure", "column", "value"]
    assert ["headline", "Taser reports", "value", "4"] in rows
    assert ["headline", "Taser reports", "same_quarter_last_year", "1"] in rows
    assert ["disproportionality", "Black (or Black British)", "rate_per_1000", "0.4"] in rows
    assert ["capability", "uses_per_trained_officer", "", "0.02"] in rows


def test_headline_changes_are_counted_and_a_percentage_needs_a_base(quarter_of_reports):
    report = build_quarterly_report(force_id="thames-valley", quarter=Q3_2025)
    fired = next(item for item in report.figures["headline"] if item["measure"] == "level_fired")
    assert fired["on_previous_quarter"] == {"change": 0, "change_percent": 0.0}
    assert fired["on_same_quarter_last_year"] == {"change": 1, "change_percent": None}


def test_a_report_kept_from_before_rates_per_1000_keeps_its_areas_per_10000():
    from dashboards.views import area_rate_per

    kept = {"areas": [{"name": "Oxford", "reports": 2, "discharge": 1, "population": 100_000, "rate_per_10000": 0.2,
                       "note": ""}]}  # fmt: skip
    assert area_rate_per(kept) == 10_000
    new = {"areas": [{"name": "Oxford", "reports": 2, "discharge": 1, "population": 100_000, "rate_per_1000": 0.02,
                      "note": ""}]}  # fmt: skip
    assert area_rate_per(new) == 1_000
