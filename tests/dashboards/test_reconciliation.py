"""The reconciliation page: the product's counts by financial year beside the Home Office figures."""

import datetime

import pytest
from django.core.management import call_command

from dashboards.queries import ReconciliationRow
from forces.models import PublishedFigure, Role
from incidents.models import CedLevel
from incidents.queries import reports_by_financial_year_and_level
from tests.conftest import HOME_OFFICE_TABLES_2019_20, published
from tests.factories import EditionFactory, PublishedFigureFactory, ReportFactory

Measure = PublishedFigure.Measure

TABLES_2019_20 = HOME_OFFICE_TABLES_2019_20
URL = "/forces/thames-valley/reconciliation/"
EDITION = "Police use of force statistics, England and Wales April 2019 - March 2020 (published 17 December 2020)"

PAGE_STATUS = {
    Role.PCC_STAFF: 200,
    Role.FORCE_DATA_OFFICER: 200,
    Role.PANEL_MEMBER: 403,
    Role.API_CLIENT: 403,
}


def signed_in(client, user):
    client.force_login(user)
    return client


def publish(force, financial_year, edition=EDITION, published_on=datetime.date(2020, 12, 17), **values):
    """Published figures of one force and year, as import_ho_tables stores them."""
    edition = EditionFactory(name=edition, published_on=published_on)
    for measure, value in values.items():
        PublishedFigureFactory(
            edition=edition, force=force, financial_year=financial_year, measure=measure, value=value
        )


def year_of(response, label):
    return next(year for year in response.context["years"] if year.label == label)


def row_of(year, measure):
    return next(row for row in year.rows if row.measure == measure)


def product_counts(year):
    return {row.measure: row.product for row in year.rows}


@pytest.fixture
def reports_of_two_years(oxford, lambeth):
    """Reports of 2019/20 and 2020/21, with the edge cases the counts must get right."""
    ReportFactory(area=oxford, occurred_on=datetime.date(2019, 4, 1))  # no Taser
    ReportFactory(area=oxford, occurred_on=datetime.date(2019, 9, 10), ced_levels=[CedLevel.DRAWN])
    # Drawn, aimed, red-dotted then fired: counts once, as fired.
    ReportFactory(
        area=oxford,
        occurred_on=datetime.date(2019, 12, 1),
        ced_levels=[CedLevel.DRAWN, CedLevel.AIMED, CedLevel.RED_DOTTED, CedLevel.FIRED],
    )
    ReportFactory(area=oxford, occurred_on=datetime.date(2020, 3, 31), ced_levels=[CedLevel.AIMED])
    ReportFactory(area=oxford, occurred_on=datetime.date(2020, 1, 5), ced_levels=[])  # level not stated
    ReportFactory(area=oxford, occurred_on=datetime.date(2020, 4, 1), ced_levels=[CedLevel.ANGLE_DRIVE_STUN])
    ReportFactory(area=oxford, occurred_on=datetime.date(2021, 3, 31), ced_levels=[CedLevel.ARCED])
    # A later edition no longer holds this one: kept, not counted.
    ReportFactory(
        area=oxford, occurred_on=datetime.date(2019, 6, 1), ced_levels=[CedLevel.FIRED], withdrawn_in_version=2
    )
    # Another force's report never counts for Thames Valley.
    ReportFactory(area=lambeth, occurred_on=datetime.date(2019, 6, 1), ced_levels=[CedLevel.FIRED])


# --- product counts ------------------------------------------------------------------------


def test_product_counts_are_current_reports_by_financial_year_and_highest_level(
    thames_valley, reports_of_two_years, django_assert_num_queries
):
    with django_assert_num_queries(1):
        rows = list(reports_by_financial_year_and_level(force=thames_valley))
    assert {(row["year_start"], row["highest_ced_level"]): row["reports"] for row in rows} == {
        (2019, None): 1,
        (2019, CedLevel.NOT_STATED): 1,
        (2019, CedLevel.DRAWN): 1,
        (2019, CedLevel.AIMED): 1,
        (2019, CedLevel.FIRED): 1,
        (2020, CedLevel.ARCED): 1,
        (2020, CedLevel.ANGLE_DRIVE_STUN): 1,
    }


def test_page_counts_each_measure_of_each_year_from_the_reports(pcc_staff, reports_of_two_years, client):
    response = signed_in(client, pcc_staff).get(URL)
    assert [year.label for year in response.context["years"]] == ["2020/21", "2019/20"]
    assert product_counts(year_of(response, "2019/20")) == {
        Measure.USE_OF_FORCE_TOTAL: 5,
        Measure.CED_TOTAL: 4,
        Measure.CED_NON_DISCHARGE: 2,
        Measure.CED_DRAWN: 1,
        Measure.CED_AIMED: 1,
        Measure.CED_RED_DOTTED: 0,
        Measure.CED_ARCED: 0,
        Measure.CED_DISCHARGE: 1,
        Measure.CED_DRIVE_STUN: 0,
        Measure.CED_FIRED: 1,
        Measure.CED_ANGLE_DRIVE_STUN: 0,
        Measure.CED_NOT_STATED: 1,
    }
    # 1 April 2020 and 31 March 2021 both fall in 2020/21.
    later = product_counts(year_of(response, "2020/21"))
    assert {measure: count for measure, count in later.items() if count} == {
        Measure.USE_OF_FORCE_TOTAL: 2,
        Measure.CED_TOTAL: 2,
        Measure.CED_NON_DISCHARGE: 1,
        Measure.CED_ARCED: 1,
        Measure.CED_DISCHARGE: 1,
        Measure.CED_ANGLE_DRIVE_STUN: 1,
    }


def test_a_report_of_31_march_and_one_of_1_april_fall_in_different_financial_years(pcc_staff, oxford, client):
    ReportFactory(area=oxford, occurred_on=datetime.date(2024, 3, 31), ced_levels=[CedLevel.FIRED])
    ReportFactory(area=oxford, occurred_on=datetime.date(2024, 4, 1), ced_levels=[CedLevel.DRAWN])
    response = signed_in(client, pcc_staff).get(URL)
    earlier, later = year_of(response, "2023/24"), year_of(response, "2024/25")
    assert (row_of(earlier, Measure.CED_FIRED).product, row_of(earlier, Measure.CED_DRAWN).product) == (1, 0)
    assert (row_of(later, Measure.CED_FIRED).product, row_of(later, Measure.CED_DRAWN).product) == (0, 1)


# --- published figures beside them ---------------------------------------------------------


def test_published_figures_are_shown_beside_the_counts_with_the_difference(
    pcc_staff, thames_valley, reports_of_two_years, client
):
    publish(thames_valley, "2019/20", use_of_force_total=5, ced_total=4, ced_fired=2)
    response = signed_in(client, pcc_staff).get(URL)
    year = year_of(response, "2019/20")
    fired = row_of(year, Measure.CED_FIRED)
    assert (fired.product, fired.published, fired.difference, fired.percent) == (1, 2, -1, -50)
    assert row_of(year, Measure.CED_TOTAL).difference == 0
    assert row_of(year, Measure.CED_DRAWN).published is None  # not in the published figures
    assert year.editions == [EDITION]
    assert year.unit == "incidents (Home Office term to 2022/23)"
    assert EDITION in response.content.decode()
    assert "from no completed import yet" in response.content.decode()


def test_a_difference_over_5_and_over_2_percent_is_marked_in_words_not_colour_alone(
    pcc_staff, thames_valley, oxford, client
):
    for _ in range(10):
        ReportFactory(area=oxford, occurred_on=datetime.date(2019, 5, 1), ced_levels=[CedLevel.DRAWN])
    # Drawn: 10 against 3 is 7 over (233%); CED total: 10 against 16 is 6 under (37.5%);
    # aimed: 0 against 5 is only 5 under, within tolerance however large the share.
    publish(thames_valley, "2019/20", ced_drawn=3, ced_aimed=5, ced_total=16)
    response = signed_in(client, pcc_staff).get(URL)
    year = year_of(response, "2019/20")
    assert [row.measure for row in year.rows if row.notable] == [Measure.CED_TOTAL, Measure.CED_DRAWN]
    assert year.notable_rows == 2
    page = response.content.decode()
    assert page.count('class="reconciliation-notable"') == 2
    assert page.count("Yes, beyond tolerance") == 2
    assert ">+7<" in page and ">+233.3%<" in page and ">-37.5%<" in page


@pytest.mark.parametrize(
    ("product", "published", "notable"),
    [
        (406, 400, False),  # 6 over, but only 1.5%: a large force's late forms
        (409, 400, True),  # 9 over and 2.25%
        (1_000, 1_021, True),  # 21 under, 2.06%
        (1_000, 1_020, False),  # 20 under, 1.96%
        (8, 2, True),  # 6 over, 300%
        (7, 2, False),  # 5 over is not more than 5
        (6, 0, True),  # over 5 on a published 0: no percentage, but beyond any share
        (5, 0, False),
    ],
)
def test_a_difference_is_beyond_tolerance_only_when_over_5_and_over_2_percent(product, published, notable):
    row = ReconciliationRow(
        measure=Measure.CED_TOTAL, label="Taser used: total", product=product, published=published, edition="E"
    )
    assert row.notable is notable


@pytest.mark.parametrize("newer_first", [False, True], ids=["older-imported-first", "newer-imported-first"])
def test_the_newest_publication_gives_the_published_figure_whatever_the_import_order(
    pcc_staff, thames_valley, reports_of_two_years, client, newer_first
):
    def older():
        publish(thames_valley, "2019/20", edition="The 2019/20 edition", published_on=datetime.date(2020, 12, 17),
                ced_total=3, ced_fired=1)  # fmt: skip

    def newer():
        publish(thames_valley, "2019/20", edition="The 2020/21 edition, revised",
                published_on=datetime.date(2021, 12, 16), ced_total=4)  # fmt: skip

    for publication in (newer, older) if newer_first else (older, newer):
        publication()
    response = signed_in(client, pcc_staff).get(URL)
    year = year_of(response, "2019/20")
    total, fired = row_of(year, Measure.CED_TOTAL), row_of(year, Measure.CED_FIRED)
    assert (total.published, total.edition) == (4, "The 2020/21 edition, revised")
    assert (total.revised, total.revised_edition, total.was_revised) == (3, "The 2019/20 edition", True)
    # The later edition has no fired figure: the earlier edition's still stands, and says so.
    assert (fired.published, fired.edition, fired.revised_edition) == (1, "The 2019/20 edition", None)
    assert year.editions == ["The 2020/21 edition, revised", "The 2019/20 edition"]
    assert "revised from 3 in <cite>The 2019/20 edition</cite>" in response.content.decode()


def test_figures_of_a_quarter_or_a_calendar_year_are_never_shown_as_a_financial_year(pcc_staff, thames_valley, client):
    edition = EditionFactory(name="The 2017/18 edition", published_on=datetime.date(2018, 12, 13))
    PublishedFigureFactory(edition=edition, force=thames_valley, first_quarter_2017=True, value=116)
    PublishedFigureFactory(edition=edition, force=thames_valley, calendar_year_2016=True, value=427)
    response = signed_in(client, pcc_staff).get(URL)
    assert response.context["years"] == []
    page = response.content.decode()
    assert "2016/17" not in page and ">116<" not in page
    assert "other periods (2016; January to March 2017) are not shown here" in page


def test_a_figure_published_as_not_available_is_not_compared(pcc_staff, thames_valley, reports_of_two_years, client):
    publish(thames_valley, "2019/20", ced_total=None)
    response = signed_in(client, pcc_staff).get(URL)
    total = row_of(year_of(response, "2019/20"), Measure.CED_TOTAL)
    assert (total.product, total.published, total.difference, total.notable) == (4, None, None, False)
    assert "not available" in response.content.decode()


def test_a_year_with_published_figures_but_no_product_data_says_so_instead_of_minus_100_percent(
    pcc_staff, thames_valley, reports_of_two_years, client
):
    publish(thames_valley, "2017/18", use_of_force_total=900, ced_total=80)
    response = signed_in(client, pcc_staff).get(URL)
    assert [year.label for year in response.context["years"]] == ["2020/21", "2019/20", "2017/18"]
    year = year_of(response, "2017/18")
    assert not year.has_product_data
    total = row_of(year, Measure.USE_OF_FORCE_TOTAL)
    assert (total.product, total.published, total.difference, total.percent) == (None, 900, None, None)
    page = response.content.decode()
    assert "for 2017/18 have been imported into the product" in page
    assert "-100" not in page and "−100.0%" not in page


def test_a_year_with_product_data_but_no_published_figures_says_there_is_nothing_to_compare(
    pcc_staff, reports_of_two_years, client
):
    response = signed_in(client, pcc_staff).get(URL)
    assert not year_of(response, "2020/21").has_published_figures
    assert "No Home Office figures for the financial year 2020/21 have been imported" in response.content.decode()


def test_page_shows_the_products_data_version_and_explains_the_known_reasons(pcc_staff, thames_valley, client):
    thames_valley.import_batches.create(
        data_version=3, source_name="tvp.csv", source_format="canonical", status="succeeded"
    )
    page = signed_in(client, pcc_staff).get(URL).content.decode()
    assert "as of data version 3" in page
    for reason in (
        "Late forms",
        "not stated",
        "2022/23",
        "2023/24",
        "Withdrawn records",
        "counts what has been imported",
    ):
        assert reason in page


def test_force_dashboard_links_to_the_reconciliation(pcc_staff, client):
    assert URL.encode() in signed_in(client, pcc_staff).get("/forces/thames-valley/").content


def test_page_shows_thames_valleys_published_ced_total_from_the_real_home_office_file(pcc_staff, client):
    call_command("import_ho_tables", published(TABLES_2019_20), verbosity=0)
    response = signed_in(client, pcc_staff).get(URL)
    year = year_of(response, "2019/20")
    total = row_of(year, Measure.CED_TOTAL)
    assert (total.published, total.edition, total.product) == (1037, EDITION, None)
    assert "1,037" in response.content.decode()


# --- who may see it ------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_reconciliation_is_for_pcc_staff_and_force_data_officers(role, role_users, client):
    assert signed_in(client, role_users[role]).get(URL).status_code == PAGE_STATUS[role]


def test_reconciliation_is_open_to_superusers(superuser, forces, client):
    assert signed_in(client, superuser).get(URL).status_code == 200


def test_reconciliation_sends_anonymous_visitors_to_sign_in(forces, client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_reconciliation_of_unknown_force_is_not_found(pcc_staff, client):
    assert signed_in(client, pcc_staff).get("/forces/atlantis/reconciliation/").status_code == 404
