"""The public transparency pages: no sign-in, summaries only, small numbers suppressed."""

import csv
import datetime
import io

import pytest

from forces.models import Role
from incidents.models import CedLevel
from incidents.summaries import rebuild_summaries
from tests.factories import AreaFactory, PopulationBaselineFactory, ReportFactory

DAY = datetime.date(2025, 6, 15)


def reports(area, count, **fields):
    for _ in range(count):
        ReportFactory(area=area, occurred_on=fields.pop("occurred_on", DAY), **fields)


@pytest.fixture
def published_year(oxford, thames_valley):
    """2025/26 in Thames Valley: Oxford with many reports, Reading with 3, Slough with 9."""
    reading = AreaFactory(force=thames_valley, name="Reading", code="E22000160")
    slough = AreaFactory(force=thames_valley, name="Slough", code="E22000161")
    for area in (oxford, reading, slough):
        PopulationBaselineFactory(area=area)
    reports(oxford, 30, ced_levels=[CedLevel.AIMED], subject_ethnicity="white")
    reports(oxford, 12, ced_levels=[CedLevel.FIRED], subject_ethnicity="white")
    reports(oxford, 2, ced_levels=[CedLevel.FIRED], subject_ethnicity="black")
    reports(reading, 3, ced_levels=[CedLevel.DRAWN], subject_ethnicity="white")
    reports(slough, 9, ced_levels=[CedLevel.DRAWN], subject_ethnicity="asian")
    rebuild_summaries(force_ids=["thames-valley"])
    return {"reading": reading, "slough": slough}


def table(chart):
    return {row[0]: dict(zip(chart.table.columns, row, strict=True)) for row in chart.table.rows}


def charts(response):
    return {chart.key: chart for chart in response.context["charts"]}


@pytest.mark.parametrize("role", [None, *Role])
def test_public_pages_open_without_signing_in_and_for_every_role(client, role_users, published_year, role):
    if role:
        client.force_login(role_users[role])
    assert client.get("/public/").status_code == 200
    assert client.get("/public/thames-valley/").status_code == 200


def test_the_public_index_lists_the_forces_with_figures(client, published_year):
    response = client.get("/public/")
    assert [force.pk for force in response.context["forces"]] == ["thames-valley"]


def test_an_unknown_force_has_no_public_page(client, forces):
    assert client.get("/public/atlantis/").status_code == 404


def test_a_force_without_figures_says_so(client, forces):
    response = client.get("/public/kent/")
    assert b"has not published figures here yet" in response.content


def test_a_small_area_count_is_suppressed_and_so_is_the_next_smallest(client, published_year):
    response = client.get("/public/thames-valley/", {"year": "2025"})
    areas = table(charts(response)["use-by-area"])
    assert areas["Reading"]["Taser reports"] == "suppressed"  # 3: primary
    # Slough's 9 would give Reading's 3 away through the total shown in the headline: secondary.
    assert areas["Slough"]["Taser reports"] == "suppressed"
    assert areas["Slough"]["Per 1,000 residents"] == "suppressed"
    assert areas["Oxford"]["Taser reports"] == 44
    figure = charts(response)["use-by-area"].figure["data"][0]
    assert figure["x"][figure["y"].index("Reading")] is None  # a gap, and no number in the page


def test_small_ethnic_group_counts_are_suppressed_with_their_rates(client, published_year):
    groups = table(charts(client.get("/public/thames-valley/", {"year": "2025"}))["disproportionality"])
    black = groups["Black (or Black British)"]
    assert [black[c] for c in ("Taser reports", "Per 1,000 residents", "Rate ratio against White")] == [
        "suppressed", "suppressed", "suppressed",
    ]  # fmt: skip
    # Asian 9, White 45, Black hidden, none Mixed or Other: the total would give Black away, so the
    # smallest other count goes too.
    assert groups["Asian (or Asian British)"]["Taser reports"] == "suppressed"
    assert groups["White"]["Taser reports"] == 45


def test_the_quarter_by_level_chart_suppresses_small_levels(client, published_year):
    quarter = table(charts(client.get("/public/thames-valley/"))["use-over-time"])["Q1 2025/26"]
    assert quarter["Taser reports"] == 56 and quarter["Aimed"] == 30
    assert quarter["Fired"] == 14 and quarter["Drawn"] == 12


def test_suppressed_cells_stay_suppressed_in_the_csv(client, published_year):
    response = client.get("/public/thames-valley/", {"year": "2025", "chart": "use-by-area", "format": "csv"})
    rows = {row[0]: row for row in csv.reader(io.StringIO(response.content.decode()))}
    assert rows["Reading"][1:2] == ["suppressed"] and rows["Slough"][1:2] == ["suppressed"]
    assert b"3" not in response.content.split(b"Reading", 1)[1].split(b"\r\n", 1)[0]


def test_signed_in_force_staff_see_the_public_figures_suppressed_too(client, pcc_staff, published_year):
    client.force_login(pcc_staff)
    areas = table(charts(client.get("/public/thames-valley/", {"year": "2025"}))["use-by-area"])
    assert areas["Reading"]["Taser reports"] == "suppressed"


def test_the_public_page_explains_what_the_figures_mean_and_do_not(client, published_year):
    page = client.get("/public/thames-valley/").content.decode()
    assert "What these figures mean, and what they do not" in page
    assert "Most Taser use is not a discharge." in page
    assert "Counts from 1 to 5" in page


def test_the_public_page_offers_no_way_into_the_records(client, published_year):
    response = client.get("/public/thames-valley/")
    assert all(not chart.drill for chart in response.context["charts"])
    assert b"/reports/" not in response.content


# --- forces with only the Home Office's figures ----------------------------------------------------


def test_a_force_without_records_shows_its_home_office_figures_per_1000_residents(client, thames_valley, oxford):
    from tests.dashboards.test_reconciliation import publish

    PopulationBaselineFactory(area=oxford, total=100_000)
    publish(thames_valley, "2018/19", edition="the 2018/19 edition", ced_total=778, ced_fired=73)
    publish(thames_valley, "2019/20", use_of_force_total=17_532, ced_total=1_037, ced_discharge=150, ced_fired=123)
    response = client.get("/public/thames-valley/")
    rows = response.context["published"]["rows"]
    assert [row["financial_year"] for row in rows] == ["2019/20", "2018/19"]
    assert rows[0]["taser_per_1000"] == 10.37  # 1,037 of 100,000 residents
    page = response.content.decode()
    assert "As published by the Home Office" in page
    assert "1,037" in page and "17,532" in page
    assert "has not published figures here yet" not in page


def test_a_force_without_a_population_shows_its_figures_without_a_rate(client, thames_valley):
    from tests.dashboards.test_reconciliation import publish

    publish(thames_valley, "2019/20", ced_total=1_037)
    response = client.get("/public/thames-valley/")
    assert response.context["published"]["rows"][0]["taser_per_1000"] is None
    assert "no population held" in response.content.decode()


def test_the_public_index_lists_forces_with_published_figures_and_the_national_totals(client, thames_valley):
    from tests.factories import EditionFactory, PublishedFigureFactory

    edition = EditionFactory()
    PublishedFigureFactory(edition=edition, force=thames_valley, value=1_037)
    PublishedFigureFactory(edition=edition, force=None, value=31_626)
    response = client.get("/public/")
    assert [force.pk for force in response.context["forces"]] == ["thames-valley"]
    assert response.context["national"][0]["ced_total"] == 31_626
    assert "31,626" in response.content.decode()


def test_every_force_of_the_home_office_edition_has_a_public_page_with_its_figures(client, forces):
    from django.core.management import call_command

    from tests.conftest import HOME_OFFICE_TABLES_2019_20, published

    call_command("import_ho_tables", published(HOME_OFFICE_TABLES_2019_20), verbosity=0)
    index = client.get("/public/")
    assert len(index.context["forces"]) == 43
    assert index.context["national"][0]["financial_year"] == "2019/20"
    page = client.get("/public/thames-valley/")
    assert page.context["published"]["rows"][0]["ced_total"] == 1037


def public_page_of_reports_on(client, area, day):
    for _ in range(6):
        ReportFactory(area=area, occurred_on=day, ced_levels=[CedLevel.DRAWN])
    rebuild_summaries(force_ids=["thames-valley"])
    return client.get("/public/thames-valley/")


def test_a_financial_year_the_figures_stop_short_of_is_named_to_date_with_its_months(client, oxford):
    response = public_page_of_reports_on(client, oxford, datetime.date(2025, 11, 3))
    assert response.context["year_label"] == "2025/26 to date (April–November)"
    assert response.context["years"] == [(2025, "2025/26 to date (April–November)")]
    quarters = charts(response)["use-over-time"].table.rows
    assert quarters[-1][0] == "Q3 2025/26 to date (Oct–Nov)"


def test_a_whole_financial_year_is_named_by_its_years_alone(client, oxford):
    response = public_page_of_reports_on(client, oxford, datetime.date(2025, 3, 3))
    assert response.context["year_label"] == "2024/25"
