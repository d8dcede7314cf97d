"""The force dashboard, the area pages and the comparisons PCC staff read; all from the summaries."""

import csv
import datetime
import io
from urllib.parse import urlencode

import pytest

from forces.models import CapabilityRecord, DeviceModel, Role
from incidents.models import CedLevel, UseOfForceReport
from incidents.summaries import rebuild_summaries
from tests.factories import (
    AreaFactory,
    EditionFactory,
    PopulationBaselineFactory,
    PublishedFigureFactory,
    ReportFactory,
)

DAY = datetime.date(2025, 6, 15)


@pytest.fixture
def reading(thames_valley):
    return AreaFactory(force=thames_valley, name="Reading", code="E22000160")


@pytest.fixture
def taser_use(oxford, reading):
    """A year of Thames Valley's Taser use, summarised: two officers at one incident in Oxford, and more."""
    PopulationBaselineFactory(area=oxford)
    PopulationBaselineFactory(area=reading, white=40_000, black=5_000, asian=3_000, mixed=1_000, other=1_000,
                              total=50_000)  # fmt: skip
    reports = {
        "fired": ReportFactory(area=oxford, occurred_on=DAY, incident_reference="INC-1", subject_ethnicity="black",
                               ced_levels=[CedLevel.DRAWN, CedLevel.AIMED, CedLevel.FIRED]),
        "drawn": ReportFactory(area=oxford, occurred_on=DAY, incident_reference="INC-1", subject_ethnicity="white",
                               ced_levels=[CedLevel.DRAWN]),
        "aimed": ReportFactory(area=reading, occurred_on=datetime.date(2025, 3, 2), subject_ethnicity="white",
                               ced_levels=[CedLevel.AIMED]),
        "no taser": ReportFactory(area=reading, occurred_on=datetime.date(2025, 5, 9)),
    }  # fmt: skip
    rebuild_summaries(force_ids=["thames-valley"])
    return reports


def dashboard(client, user, path="/forces/thames-valley/", **params):
    client.force_login(user)
    return client.get(path + ("?" + urlencode(params) if params else ""))


def chart(response, key):
    return next(chart for chart in response.context["charts"] if chart.key == key)


def table(chart):
    return [dict(zip(chart.table.columns, row, strict=True)) for row in chart.table.rows]


def test_dashboard_headline_counts_the_12_months_to_the_latest_month_in_reports(client, pcc_staff, taser_use):
    response = dashboard(client, pcc_staff)
    assert response.status_code == 200
    assert response.context["period_label"] == "the 12 months July 2024 to June 2025"
    assert response.context["headline"] == {"all": 4, "taser": 3, "discharge": 1, "fired_share": 33.3}
    assert b"Unit of count: reports (one officer&#x27;s use of force on one person)" in response.content


def test_dashboard_counts_an_incident_once_at_its_highest_level_when_asked(client, pcc_staff, taser_use):
    response = dashboard(client, pcc_staff, unit="incidents")
    assert response.context["headline"] == {"all": 3, "taser": 2, "discharge": 1, "fired_share": 50.0}
    june = next(row for row in table(chart(response, "use-over-time")) if row["Month"] == "June 2025")
    assert (june["Fired"], june["Drawn"], june["Taser incidents"]) == (1, 0, 1)


def test_use_over_time_has_a_bar_for_every_month_of_the_period_zero_or_not(client, pcc_staff, taser_use):
    rows = table(chart(dashboard(client, pcc_staff), "use-over-time"))
    assert [row["Month"] for row in rows][:2] == ["July 2024", "August 2024"]
    assert len(rows) == 12
    assert sum(row["Taser reports"] for row in rows) == 3
    assert [(row["Month"], row["Fired"], row["Drawn"], row["Aimed"]) for row in rows if row["Taser reports"]] == [
        ("March 2025", 0, 0, 1),
        ("June 2025", 1, 1, 0),
    ]


@pytest.mark.parametrize(
    ("params", "label", "months"),
    [
        ({"period": "fy2024"}, "financial year 2024/25 (April 2024 to March 2025)", 12),
        ({"period": "q2025-04"}, "Q1 2025/26 (April to June 2025)", 3),
        ({"period": "custom", "start": "2025-03", "end": "2025-05"}, "March 2025 to May 2025", 3),
    ],
)
def test_period_presets_and_chosen_months_set_the_period(client, pcc_staff, taser_use, params, label, months):
    response = dashboard(client, pcc_staff, **params)
    assert response.context["period_label"] == label
    assert len(chart(response, "use-over-time").table.rows) == months


def test_unreadable_filters_fall_back_to_the_defaults_and_say_why(client, pcc_staff, taser_use):
    response = dashboard(client, pcc_staff, period="custom", start="2025-13", end="2025-05", area="nowhere")
    assert response.status_code == 200
    assert response.context["period_label"] == "the 12 months July 2024 to June 2025"
    assert b"&#x27;2025-13&#x27; is not a month; write it as 2024-05." in response.content


def test_choosing_an_area_shows_only_its_reports(client, pcc_staff, taser_use, oxford):
    response = dashboard(client, pcc_staff, area=oxford.code)
    assert response.context["area"] == oxford
    assert response.context["headline"]["taser"] == 2
    assert "use-by-area" not in [chart.key for chart in response.context["charts"]]


def test_the_area_page_is_the_dashboard_of_one_area(client, pcc_staff, taser_use, reading):
    response = dashboard(client, pcc_staff, f"/forces/thames-valley/areas/{reading.code}/")
    assert response.status_code == 200
    assert response.context["headline"] == {"all": 2, "taser": 1, "discharge": 0, "fired_share": 0.0}
    assert b"<h1>Reading: Thames Valley Police</h1>" in response.content
    assert response.context["form"]["area"].value() == reading.code  # the filter bar shows the area chosen


def test_an_unknown_area_page_is_not_found(client, pcc_staff, taser_use, lambeth):
    assert dashboard(client, pcc_staff, "/forces/thames-valley/areas/E99999999/").status_code == 404
    # Another force's area is unknown in this force, too.
    assert dashboard(client, pcc_staff, f"/forces/thames-valley/areas/{lambeth.code}/").status_code == 404


def test_use_by_area_gives_counts_and_rates_per_1000_residents(client, pcc_staff, taser_use):
    rows = table(chart(dashboard(client, pcc_staff, sort="rate"), "use-by-area"))
    assert [(row["Area"], row["Taser reports"], row["Per 1,000 residents"]) for row in rows] == [
        ("Oxford", 2, 0.02),
        ("Reading", 1, 0.02),
    ]


def test_disproportionality_gives_rates_by_group_and_ratios_against_white(client, pcc_staff, taser_use):
    rows = {row["Ethnic group"]: row for row in table(chart(dashboard(client, pcc_staff), "disproportionality"))}
    # 1 Black subject of 10,000 Black residents against 2 White of 120,000 White residents.
    assert rows["Black (or Black British)"]["Per 1,000 residents"] == 0.1
    assert rows["Black (or Black British)"]["Rate ratio against White"] == 6.0
    assert rows["White"]["Rate ratio against White"] == "1 (reference)"
    assert rows["Asian (or Asian British)"]["Note"] == "no Taser reports in this group"


def test_every_chart_downloads_as_a_csv_of_exactly_its_table(client, pcc_staff, taser_use):
    response = dashboard(client, pcc_staff)
    for shown in response.context["charts"]:
        download = client.get("/forces/thames-valley/", {"chart": shown.key, "format": "csv"})
        assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
        # Data version 0: the reports made here belong to no import.
        assert f"thames-valley-v0-{shown.key}.csv" in download["Content-Disposition"]
        header, *rows = list(csv.reader(io.StringIO(download.content.decode())))
        assert header == shown.table.columns
        assert rows == [["" if value is None else str(value) for value in row] for row in shown.table.rows]


def test_an_unknown_chart_has_no_csv(client, pcc_staff, taser_use):
    assert dashboard(client, pcc_staff, chart="nothing", format="csv").status_code == 404


def test_the_csv_follows_the_filters_of_the_page(client, pcc_staff, taser_use, oxford):
    response = dashboard(client, pcc_staff, area=oxford.code, unit="incidents", chart="use-over-time", format="csv")
    header, *rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert header[-2] == "Taser incidents"
    assert sum(int(row[-2]) for row in rows) == 1


def test_each_bar_opens_the_list_of_exactly_the_reports_it_counts(client, pcc_staff, taser_use, oxford):
    response = dashboard(client, pcc_staff)
    over_time = chart(response, "use-over-time")
    fired = next(trace for trace in over_time.figure["data"] if trace["name"] == "Fired")
    june = fired["x"].index("2025-06-01")
    listed = client.get(f"/reports/?{fired['customdata'][june]}")
    assert [report.pk for report in listed.context["page"]] == [taser_use["fired"].pk]

    rates = chart(response, "disproportionality").figure["data"][0]
    white = rates["y"].index("White")
    listed = client.get(f"/reports/?{rates['customdata'][white]}")
    assert {report.pk for report in listed.context["page"]} == {taser_use["drawn"].pk, taser_use["aimed"].pk}

    areas = chart(response, "use-by-area").figure["data"][0]
    listed = client.get(f"/reports/?{areas['customdata'][areas['y'].index('Oxford')]}")
    assert {report.pk for report in listed.context["page"]} == {taser_use["fired"].pk, taser_use["drawn"].pk}


def test_the_dashboard_links_to_the_reports_of_its_period_for_roles_that_may_open_them(
    client, pcc_staff, taser_use, oxford
):
    response = dashboard(client, pcc_staff, area=oxford.code)
    listed = client.get(f"/reports/?{response.context['reports_query']}")
    assert {report.pk for report in listed.context["page"]} == {taser_use["fired"].pk, taser_use["drawn"].pk}


def test_the_report_list_says_which_filters_it_applies(client, pcc_staff, taser_use):
    client.force_login(pcc_staff)
    response = client.get("/reports/?highest_level=fired&from=2025-06-01")
    assert ("Highest CED level", "Fired") in response.context["applied"]
    assert b"Show every report" in response.content


def test_a_filter_the_report_list_cannot_read_lists_nothing_and_says_why(client, pcc_staff, taser_use):
    client.force_login(pcc_staff)
    response = client.get("/reports/?highest_level=nonsense")
    assert list(response.context["page"]) == []
    assert b"Select a valid choice. nonsense is not one of the available choices." in response.content


def test_capability_is_set_against_use_per_100_trained_officers(client, pcc_staff, taser_use, thames_valley):
    CapabilityRecord.objects.create(
        force=thames_valley, as_of=datetime.date(2025, 1, 1), device_model=DeviceModel.TASER_7,
        devices_in_service=150, officers_trained=200, source="Force return",
    )  # fmt: skip
    rows = {row["Month"]: row for row in table(chart(dashboard(client, pcc_staff), "capability"))}
    assert rows["December 2024"]["Officers trained"] is None
    assert rows["June 2025"]["Officers trained"] == 200
    assert rows["June 2025"]["Per 100 trained officers"] == 1.0  # 2 Taser reports in June


def test_the_dashboard_says_so_when_nothing_is_summarised_yet(client, pcc_staff):
    response = dashboard(client, pcc_staff)
    assert response.status_code == 200
    assert b"No use-of-force reports have been summarised for Thames Valley Police yet" in response.content


def test_dashboard_reads_the_summaries_not_the_reports(client, pcc_staff, taser_use):
    # A report written without the summary rebuild that normally follows it is not counted until then.
    UseOfForceReport.objects.filter(pk=taser_use["aimed"].pk).update(withdrawn_in_version=9)
    assert dashboard(client, pcc_staff).context["headline"]["taser"] == 3
    rebuild_summaries(force_ids=["thames-valley"])
    assert dashboard(client, pcc_staff).context["headline"]["taser"] == 2


# --- areas and forces side by side -----------------------------------------------------------


def test_areas_side_by_side_show_each_area_against_the_force(client, pcc_staff, taser_use):
    response = dashboard(client, pcc_staff, "/forces/thames-valley/areas/", year="2025")
    rows = {row["Area"]: row for row in table(response.context["charts"][0])}
    assert rows["Oxford"]["Fired share (%)"] == 50.0
    assert rows["The force"]["Per 1,000 residents"] == 0.01  # 2 reports in 2025/26, 150,000 residents: 0.013
    assert rows["England and Wales (Home Office)"]["Fired share (%)"] is None  # nothing published imported


def test_forces_side_by_side_set_published_figures_beside_ours(client, pcc_staff, taser_use, lambeth):
    from django.core.management import call_command

    from tests.conftest import HOME_OFFICE_TABLES_2019_20, published

    call_command("import_ho_tables", published(HOME_OFFICE_TABLES_2019_20), verbosity=0)
    response = dashboard(client, pcc_staff, "/compare/", year="2019")
    rows = {row["Force"]: row for row in table(response.context["charts"][0])}
    assert rows["Thames Valley Police"]["Home Office: Taser used"] == 1037
    assert rows["Thames Valley Police"]["Home Office: fired"] == 123
    assert len(rows) == 43  # the territorial forces the Home Office publishes


def test_forces_side_by_side_take_each_figure_from_the_newest_publication_whatever_the_import_order(
    client, pcc_staff, taser_use, thames_valley
):
    newer = EditionFactory(name="The 2020/21 edition", published_on=datetime.date(2021, 12, 16))
    older = EditionFactory(name="The 2019/20 edition", published_on=datetime.date(2020, 12, 17))
    PublishedFigureFactory(edition=newer, force=thames_valley, financial_year="2019/20", value=1_040)
    PublishedFigureFactory(edition=older, force=thames_valley, financial_year="2019/20", value=1_037)
    response = dashboard(client, pcc_staff, "/compare/", year="2019")
    rows = {row["Force"]: row for row in table(response.context["charts"][0])}
    assert rows["Thames Valley Police"]["Home Office: Taser used"] == 1_040
    assert response.context["editions"] == ["The 2020/21 edition"]


def test_forces_side_by_side_use_financial_years_only_and_say_where_a_year_has_none(
    client, pcc_staff, taser_use, thames_valley
):
    edition = EditionFactory(name="The 2017/18 edition", published_on=datetime.date(2018, 12, 13))
    PublishedFigureFactory(edition=edition, force=thames_valley, first_quarter_2017=True, value=116)
    PublishedFigureFactory(edition=edition, force=thames_valley, calendar_year_2016=True, value=427)
    response = dashboard(client, pcc_staff, "/compare/", year="2025")
    # Financial years only: no 2016/17 made of a quarter, no calendar year 2016.
    assert [label for _, label in response.context["years"]] == ["2025/26 to date (April–June)", "2024/25"]
    rows = {row["Force"]: row for row in table(response.context["charts"][0])}
    assert rows["Thames Valley Police"]["Home Office: Taser used"] is None
    page = response.content.decode()
    assert "The Home Office has published no financial-year figures for 2025/26" in page
    assert "Published figures for other periods (2016; January to March 2017)" in page
    assert ">116<" not in page and ">427<" not in page


def test_other_forces_small_counts_are_suppressed_side_by_side(client, pcc_staff, taser_use, lambeth):
    ReportFactory(area=lambeth, occurred_on=DAY, ced_levels=[CedLevel.FIRED])
    rebuild_summaries()
    rows = {
        row["Force"]: row for row in table(dashboard(client, pcc_staff, "/compare/", year="2025").context["charts"][0])
    }
    assert rows["Metropolitan Police Service"]["Ours: Taser reports"] == "suppressed"
    assert rows["Thames Valley Police"]["Ours: Taser reports"] == 2  # their own force, exactly


# --- who may open what -----------------------------------------------------------------------

PAGES = [
    "/forces/thames-valley/",
    "/forces/thames-valley/areas/",
    "/forces/thames-valley/areas/E22000155/",
    "/forces/thames-valley/reconciliation/",
    "/forces/thames-valley/quarterly/",
    "/compare/",
]
EXPECTED = {Role.PCC_STAFF: 200, Role.FORCE_DATA_OFFICER: 200, Role.PANEL_MEMBER: 403, Role.API_CLIENT: 403}


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("role", list(Role))
def test_dashboard_pages_are_for_pcc_staff_and_force_data_officers(client, role_users, taser_use, role, path):
    assert dashboard(client, role_users[role], path).status_code == EXPECTED[role]


@pytest.mark.parametrize("path", PAGES)
def test_dashboard_pages_send_anonymous_visitors_to_sign_in(client, taser_use, path):
    response = client.get(path)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


@pytest.mark.parametrize("path", PAGES)
def test_a_superuser_opens_every_dashboard_page(client, superuser, taser_use, path):
    assert dashboard(client, superuser, path).status_code == 200


@pytest.mark.parametrize("path", [p.replace("thames-valley", "metropolitan") for p in PAGES[:2] + PAGES[3:5]])
@pytest.mark.parametrize("role", [Role.PCC_STAFF, Role.FORCE_DATA_OFFICER])
def test_staff_of_one_force_cannot_open_another_forces_dashboards(client, role_users, taser_use, role, path):
    response = dashboard(client, role_users[role], path)
    assert response.status_code == 403


@pytest.mark.parametrize("role", [None, *Role])
def test_counting_rules_are_open_to_everyone(client, role_users, role):
    if role:
        client.force_login(role_users[role])
    response = client.get("/counting-rules/")
    assert response.status_code == 200
    assert b'id="ladder"' in response.content and b'id="suppression"' in response.content


def test_the_findings_chart_of_a_period_without_findings_says_why_it_is_empty(client, pcc_staff, taser_use):
    response = dashboard(client, pcc_staff)
    assert chart(response, "findings-by-grade").is_empty
    page = response.content.decode()
    assert "No scrutiny panel recorded a finding in this period" in page
    assert 'data-figure="findings-by-grade-figure"' not in page  # no axes drawn around nothing


def test_forces_side_by_side_name_a_part_year_to_date_with_its_months(client, pcc_staff, taser_use):
    response = dashboard(client, pcc_staff, "/compare/")
    last = max(report.occurred_on for report in taser_use.values())
    expected = f"2025/26 to date (April–{last:%B})"
    assert response.context["years"][0] == (2025, expected)
    assert expected in response.context["charts"][0].title
