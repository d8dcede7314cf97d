"""The report list pages newest first by cursor: every report once, back and forth, and nothing counted."""

import datetime
import re
from html import unescape

import pytest
from django.db import connection
from django.test.html import parse_html
from django.test.utils import CaptureQueriesContext

from incidents.models import CedLevel
from tests.conftest import make_oxford, rows_for_a_module
from tests.factories import ReportFactory


@pytest.fixture(scope="module")
def reports_of_the_module(django_db_setup, django_db_blocker):
    """130 reports on three days (many on each, so pages break inside a day), half with Taser fired: made once
    for the module's tests, which read them."""
    with rows_for_a_module(django_db_blocker) as (thames_valley, _):
        oxford = make_oxford(thames_valley)
        yield [
            ReportFactory(
                area=oxford,
                occurred_on=datetime.date(2025, 6, 1 + number % 3),
                ced_levels=[CedLevel.FIRED] if number % 2 == 0 else None,
            )
            for number in range(130)
        ]


@pytest.fixture
def reports_over_three_days(reports_of_the_module, db):
    return reports_of_the_module


def newest_first(reports):
    return [report.pk for report in sorted(reports, key=lambda report: (report.occurred_on, report.pk), reverse=True)]


def link(response, name):
    """The address of the pagination's link named `name`, or None."""
    found = re.search(rf'<a href="(\?[^"]*)"[^>]*>{name}</a>', response.content.decode())
    return f"/reports/{unescape(found.group(1))}" if found else None


def test_older_then_newer_pages_go_through_every_report_once_in_order(client, pcc_staff, reports_over_three_days):
    client.force_login(pcc_staff)
    pages, address = [], "/reports/"
    while address:
        response = client.get(address)
        pages.append([report.pk for report in response.context["page"]])
        address = link(response, "Older")
    assert [len(page) for page in pages] == [50, 50, 30]
    assert [pk for page in pages for pk in page] == newest_first(reports_over_three_days)

    response = client.get(link(client.get(link(client.get("/reports/"), "Older")), "Older"))
    back = client.get(link(response, "Newer"))
    assert [report.pk for report in back.context["page"]] == pages[1]
    back = client.get(link(back, "Newer"))
    assert [report.pk for report in back.context["page"]] == pages[0]
    assert link(back, "Newer") is None and link(back, "Older") is not None


def test_the_pages_keep_the_filters(client, pcc_staff, reports_over_three_days):
    client.force_login(pcc_staff)
    fired = [report for report in reports_over_three_days if report.highest_ced_level == CedLevel.FIRED]
    first = client.get("/reports/?highest_level=fired")
    older = client.get(link(first, "Older"))
    listed = [report.pk for report in first.context["page"]] + [report.pk for report in older.context["page"]]
    assert listed == newest_first(fired)
    assert link(older, "Older") is None
    assert "highest_level=fired" in link(older, "Newer")


def test_a_page_counts_nothing(client, pcc_staff, reports_over_three_days):
    """Counting every report the user may see was most of the list's time on a large force."""
    client.force_login(pcc_staff)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/reports/?from=2025-06-01")
    assert len(response.context["page"]) == 50
    assert not any("COUNT(" in query["sql"].upper() for query in queries.captured_queries)


@pytest.mark.parametrize(
    "cursor",
    ["after=nonsense", "before=2025-02-30.5", "after=2025-06-01.99999999999999999999999", "after=.", "page=7"],
)
def test_a_cursor_that_cannot_be_read_gives_the_newest_page(client, pcc_staff, reports_over_three_days, cursor):
    client.force_login(pcc_staff)
    response = client.get(f"/reports/?{cursor}")
    assert response.status_code == 200
    assert [report.pk for report in response.context["page"]] == newest_first(reports_over_three_days)[:50]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "ethnicity=black&ethnicity=bogus&ced_used=true&from=2025-13-01",
        "discharge_group=non_discharge&extended_cycle=false&body_worn_video=no&area=E1&highest_level=fired"
        "&highest_level=drawn&outcome=fatality&to=2025-06-30",
        "ced_used=maybe&discharge_group=some",
    ],
)
def test_the_filter_form_reads_as_djangos_own_rendering_of_it(client, pcc_staff, query):
    """The page writes the form's lists itself (it is faster): the same labels, options, choices and errors."""
    client.force_login(pcc_staff)
    response = client.get(f"/reports/?{query}")
    shown = re.search(r'class="stacked filter-form">(.*?)<button type="submit">', response.content.decode(), re.S)
    assert parse_html(shown.group(1)) == parse_html(response.context["filters"].form.as_div())


def test_each_row_shows_the_report_its_date_force_area_and_highest_level_and_an_empty_list_says_so(
    client, pcc_staff, reports_over_three_days
):
    fired = reports_over_three_days[0]
    without_area = ReportFactory(force=fired.force, area=None, occurred_on=datetime.date(2025, 6, 4), ced_levels=None)
    client.force_login(pcc_staff)

    def rows(query):
        """Each listed report's cells after its link, by its id; and the link's address."""
        page = client.get(f"/reports/?{query}").content.decode()
        found = re.findall(r'<tr>\s*<td><a href="([^"]+)">(\d+)</a></td>(.*?)</tr>', page, re.S)
        return {int(pk): (href, [cell.strip() for cell in re.findall(r"<td>(.*?)</td>", rest, re.S)])
                for href, pk, rest in found}  # fmt: skip

    assert rows("")[without_area.pk] == (
        f"/reports/{without_area.pk}/",
        ["4 Jun 2025", "Thames Valley Police", "—", "No Taser use"],
    )
    day = fired.occurred_on.isoformat()
    assert rows(f"highest_level=fired&from={day}&to={day}")[fired.pk][1][2:] == ["Oxford", "Fired"]
    assert "No reports." in client.get("/reports/?from=2030-01-01").content.decode()
