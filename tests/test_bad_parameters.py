"""No parameter makes a server error: what cannot be read answers 400 (API, with a message) or the page
saying so (web). The requests an outsider's probe found answering 500, then Hypothesis driving the
dashboard's and the summaries' parameters."""

import datetime

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forces.models import ApiToken
from forces.services import create_api_token
from incidents.models import CedLevel
from incidents.summaries import rebuild_summaries
from tests.factories import PanelFactory, ReportFactory


@pytest.fixture
def summarised(oxford):
    for day in (datetime.date(2025, 3, 2), datetime.date(2025, 6, 15), datetime.date(2025, 7, 1)):
        ReportFactory(area=oxford, occurred_on=day, ced_levels=[CedLevel.FIRED])
    rebuild_summaries(force_ids=["thames-valley"])


@pytest.mark.parametrize(
    "query",
    [
        "to=9999-12-31&period=financial_year",
        "from=0001-01-01&to=0001-01-02&period=financial_year",
        "from=0001-01&period=quarter",
        "force=thames-valley&to=9999-12&period=month",
    ],
)
def test_a_summaries_date_outside_the_calendar_answers_400_with_a_message(client, summarised, query):
    response = client.get(f"/api/v1/summaries/?{query}")
    assert response.status_code == 400
    assert "outside 1900-01-01 to 2999-12-31" in response.json()["message"]


# "²" and "٣" are digits to str.isdigit, and int() refuses the first.
@pytest.mark.parametrize("page", ["abc", "0", "-1", "1.5", "²", "٣"])
def test_a_page_number_that_cannot_be_read_answers_400(client, summarised, page):
    response = client.get("/api/v1/summaries/", {"page": page})
    assert response.status_code == 400
    assert response.json()["errors"] == {"page": [f"{page!r} is not a page number (1, 2, …)."]}


def test_a_page_past_the_last_is_not_found(client, summarised):
    assert client.get("/api/v1/summaries/", {"page": 999}).status_code == 404


def test_a_page_size_that_cannot_be_read_answers_400_for_csv_as_for_json(client, summarised):
    response = client.get("/api/v1/forces/", {"page_size": "abc", "format": "csv"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"page_size": ["'abc' is not a page size (1, 2, …)."]}


@pytest.mark.parametrize(
    "path", ["/forces/thames-valley/", "/forces/thames-valley/areas/E22000155/", "/forces/thames-valley/?format=csv"]
)
def test_a_custom_period_past_the_calendar_shows_the_page_saying_the_filter_could_not_be_read(
    client, pcc_staff, summarised, path
):
    client.force_login(pcc_staff)
    separator = "&" if "?" in path else "?"
    response = client.get(f"{path}{separator}period=custom&start=9999-12&end=9999-12&chart=use-over-time")
    assert response.status_code in (200, 404)  # the CSV of a chart the page lacks is 404
    if "format" not in path:
        assert "&#x27;9999-12&#x27; is outside 1900-01 to 2999-12." in response.content.decode()


def test_a_quarter_past_the_calendar_is_no_such_quarter(client, pcc_staff, thames_valley):
    panel = PanelFactory(force=thames_valley)
    client.force_login(pcc_staff)
    response = client.get(f"/scrutiny/panels/{panel.pk}/quarterly/9999-10/")
    assert response.status_code == 404


@pytest.mark.parametrize("revoke", ["abc", "²"])
def test_revoking_a_token_named_by_no_number_says_it_could_not_be_read(client, pcc_staff, thames_valley, revoke):
    create_api_token(user=pcc_staff, name="script", access=ApiToken.Access.READ, force=thames_valley)
    client.force_login(pcc_staff)
    response = client.post("/account/tokens/", {"revoke": revoke}, follow=True)
    assert response.status_code == 200
    assert f"The token to revoke could not be read: &#x27;{revoke}&#x27;." in response.content.decode()
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 1


# Text a person or a script might put in a parameter: dates near and past the calendar's ends, numbers, junk.
ODD_TEXT = st.one_of(
    st.sampled_from(["", "0", "-1", "9999-12", "0001-01", "10000-01", "2025-13", "2025-02-30", "2025-06", "abc"]),
    st.dates().map(str),
    st.dates().map(lambda day: day.isoformat()[:7]),
    st.text(max_size=12),
)
PERIOD_PRESETS = st.sampled_from(["last12", "fy2024", "fy9999", "q2025-04", "q9999-10", "q0001-01", "custom"])
PROPERTY_RUN = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPERTY_RUN
@given(
    params=st.fixed_dictionaries(
        {},
        optional={
            "period": st.one_of(PERIOD_PRESETS, ODD_TEXT),
            "start": ODD_TEXT,
            "end": ODD_TEXT,
            "area": ODD_TEXT,
            "unit": ODD_TEXT,
            "sort": ODD_TEXT,
            "format": st.sampled_from(["csv", "json", ""]),
            "chart": st.sampled_from(["use-over-time", "x"]),
        },
    )  # fmt: skip
)
def test_no_dashboard_parameters_make_a_server_error(pcc_staff, summarised, params):
    client = Client()
    client.force_login(pcc_staff)
    for path in ("/forces/thames-valley/", "/forces/thames-valley/areas/E22000155/"):
        assert client.get(path, params).status_code < 500


@PROPERTY_RUN
@given(
    params=st.fixed_dictionaries(
        {},
        optional={
            "force": st.one_of(st.sampled_from(["thames-valley", "metropolitan"]), ODD_TEXT),
            "area": ODD_TEXT,
            "by_area": st.sampled_from(["true", "false", "abc"]),
            "period": st.one_of(st.sampled_from(["month", "quarter", "financial_year"]), ODD_TEXT),
            "from": ODD_TEXT,
            "to": ODD_TEXT,
            "page": ODD_TEXT,
            "page_size": ODD_TEXT,
            "format": st.sampled_from(["csv", "json"]),
        },
    )  # fmt: skip
)
def test_no_summaries_parameters_make_a_server_error(summarised, params):
    response = Client().get("/api/v1/summaries/", params)
    assert response.status_code < 500
    if response.status_code == 400:
        assert response.json()["message"]
