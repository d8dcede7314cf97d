"""The summaries resource: counts by period, suppressed for the public, exact for the force's staff."""

import datetime

import pytest

from forces.models import Role
from incidents.disclosure import hidden_names
from incidents.models import CedLevel, Ethnicity, ImportBatch
from incidents.queries import ADDITIVE_GROUPS, API_MEASURES, UNIT_OF_COUNT
from incidents.summaries import rebuild_summaries
from tests.conftest import role_user
from tests.factories import PopulationBaselineFactory, ReportFactory

API = "/api/v1/summaries/"


def counts(**given):
    return dict.fromkeys(API_MEASURES, 0) | given


# --- the rule, on rows ----------------------------------------------------------------------


def test_counts_from_one_to_the_threshold_are_suppressed_and_zero_is_not():
    row = counts(reports=40, taser_reports=40, level_drawn=30, level_fired=5, level_aimed=5, ethnicity_white=40)
    row |= {"discharge": 5, "non_discharge": 35}
    hidden = hidden_names(row, ADDITIVE_GROUPS, threshold=5)
    assert {"level_fired", "level_aimed", "discharge"} <= hidden
    assert "level_arced" not in hidden  # a zero reveals no one


def test_a_second_count_is_suppressed_where_a_total_would_reveal_the_first():
    # 12 Taser reports: 9 drawn and 3 fired. Hiding only the 3 would leave it as 12 − 9.
    row = counts(reports=12, taser_reports=12, level_drawn=9, level_fired=3, discharge=3, non_discharge=9)
    row |= {"ethnicity_white": 12}
    hidden = hidden_names(row, ADDITIVE_GROUPS, threshold=5)
    assert {"level_fired", "discharge", "level_drawn", "non_discharge"} <= hidden
    # Every group that adds up now hides none or at least two of its counts.
    assert "taser_reports" not in hidden


def test_secondary_suppression_takes_the_smallest_other_count():
    row = counts(reports=60, taser_reports=60, ethnicity_white=40, ethnicity_black=12, ethnicity_asian=4)
    row |= {"ethnicity_not_reported": 4, "level_drawn": 60, "non_discharge": 60}
    hidden = hidden_names(row, ADDITIVE_GROUPS, threshold=5)
    assert {"ethnicity_asian", "ethnicity_not_reported"} <= hidden
    assert "ethnicity_black" not in hidden and "ethnicity_white" not in hidden


def test_one_small_count_in_a_group_gets_a_partner():
    row = counts(reports=60, taser_reports=60, ethnicity_white=44, ethnicity_black=12, ethnicity_asian=4)
    row |= {"level_drawn": 60, "non_discharge": 60}
    hidden = hidden_names(row, ADDITIVE_GROUPS, threshold=5)
    assert {"ethnicity_asian", "ethnicity_black"} <= hidden  # 12 is the smallest other count
    assert "ethnicity_white" not in hidden


# --- through the API --------------------------------------------------------------------------


@pytest.fixture
def oxford_june(oxford):
    """Oxford, June 2025: 16 Taser reports, 3 fired (Black subjects), 13 drawn (9 White, 4 not reported)."""
    PopulationBaselineFactory(area=oxford)
    batch = ImportBatch.objects.create(
        force=oxford.force, source_name="tvp.csv", source_format="canonical", status="succeeded", data_version=4
    )
    for number in range(16):
        fired = number < 3
        ReportFactory(
            area=oxford, import_batch=batch, data_version=4,
            ced_levels=[CedLevel.DRAWN, CedLevel.FIRED] if fired else [CedLevel.DRAWN],
            subject_ethnicity=Ethnicity.BLACK if fired else Ethnicity.WHITE if number < 12 else Ethnicity.NOT_REPORTED,
        )  # fmt: skip
    ReportFactory(area=oxford, occurred_on=datetime.date(2025, 8, 2), import_batch=batch, data_version=4)
    rebuild_summaries()
    return oxford


def summaries(client, **params):
    return client.get(API, {"force": "thames-valley", **params})


def only_row(response):
    rows = response.json()["results"]
    assert len(rows) == 1, rows
    return rows[0]


def test_the_public_sees_small_counts_suppressed_with_a_partner(client, oxford_june):
    row = only_row(summaries(client, to="2025-06"))
    assert (row["taser_reports"], row["ethnicity_white"]) == (16, 9)
    assert row["level_fired"] is None and row["ethnicity_black"] is None and row["ethnicity_not_reported"] is None
    # The 13 drawn would give the 3 fired away as 16 − 13, so they are suppressed too.
    assert row["level_drawn"] is None and row["discharge"] is None and row["non_discharge"] is None
    # August's one report is hidden, and the financial year's 17 less June's 16 would give it away: June's
    # reports are hidden with it (and the quarter's), the year's 17 shown.
    assert row["reports"] is None and row["incidents"] is None
    assert set(row["suppressed"]) == {
        "reports", "incidents", "level_fired", "level_drawn", "discharge", "non_discharge", "ethnicity_black",
        "ethnicity_not_reported",
    }  # fmt: skip
    year = only_row(summaries(client, period="financial_year"))
    assert year["reports"] == 17 and "reports" not in year["suppressed"]


def test_rates_and_ratios_built_on_suppressed_counts_are_suppressed(client, oxford_june):
    row = only_row(summaries(client, to="2025-06"))
    assert row["ethnicity_black_rate_per_1000"] is None
    assert row["ethnicity_black_ratio"] is row["ethnicity_black_ratio_low"] is row["ethnicity_black_ratio_high"] is None
    assert row["ethnicity_white_rate_per_1000"] == pytest.approx(9 / 80_000 * 1000)


def test_the_forces_staff_see_the_exact_figures(client, oxford_june, pcc_staff):
    client.force_login(pcc_staff)
    body = summaries(client, to="2025-06").json()
    row = only_row(summaries(client, to="2025-06"))
    assert (row["level_fired"], row["level_drawn"], row["ethnicity_black"]) == (3, 13, 3)
    assert row["suppressed"] == [] and body["suppression"]["applied"] is False
    # Rate ratio Black against White: (3 / 5,000) / (9 / 80,000).
    assert row["ethnicity_black_ratio"] == pytest.approx((3 / 5000) / (9 / 80_000))
    assert row["ethnicity_black_ratio_low"] < row["ethnicity_black_ratio"] < row["ethnicity_black_ratio_high"]


def test_a_script_sees_its_forces_exact_figures_from_a_cached_answer_in_four_queries(
    client, oxford_june, api_client_user, token_key, django_assert_num_queries
):
    """The token brings its user's role and force; the force is checked without a query of its own."""
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token_key(api_client_user)}"}
    client.get(API, {"force": "thames-valley", "to": "2025-06"}, **headers)  # computes and caches the answer
    # The token with its user, role and force; the figures version; the summaries' data versions; the data's
    # (a lag is said).
    with django_assert_num_queries(4):
        response = client.get(API, {"force": "thames-valley", "to": "2025-06"}, **headers)
    assert only_row(response)["level_fired"] == 3


def test_another_forces_staff_see_the_public_figures(client, oxford_june, metropolitan):
    client.force_login(role_user(Role.PCC_STAFF, metropolitan))
    assert only_row(summaries(client, to="2025-06"))["level_fired"] is None


def test_the_csv_suppresses_as_the_json_does(client, oxford_june):
    response = summaries(client, to="2025-06", format="csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    header, values = lines[0].split(","), lines[1].split(",")
    row = dict(zip(header, values, strict=True))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (row["level_fired"], row["level_drawn"], row["ethnicity_black"]) == ("[c]", "[c]", "[c]")
    assert (row["taser_reports"], row["ethnicity_white"]) == ("16", "9")
    assert (response["X-Unit-Of-Count"], response["X-Data-Version"]) == (UNIT_OF_COUNT, "thames-valley=4")
    assert response["X-Suppression"] == "threshold 5, applied"


def test_every_answer_says_its_unit_data_version_and_suppression(client, oxford_june, settings):
    settings.SUPPRESSION_THRESHOLD = 10
    body = summaries(client).json()
    assert body["unit_of_count"] == UNIT_OF_COUNT
    assert body["data_version"] == {"thames-valley": 4}
    assert body["suppression"]["threshold"] == 10 and body["suppression"]["applied"] is True
    assert "1 to 10" in body["suppression"]["rule"]


def test_periods_are_summed_from_months(client, oxford_june, pcc_staff):
    client.force_login(pcc_staff)
    months = summaries(client).json()["results"]
    assert [(m["period_start"], m["reports"]) for m in months] == [("2025-06-01", 16), ("2025-08-01", 1)]
    quarters = summaries(client, period="quarter").json()["results"]
    assert [(q["period_start"], q["period_end"], q["reports"]) for q in quarters] == [
        ("2025-04-01", "2025-06-30", 16),
        ("2025-07-01", "2025-09-30", 1),
    ]
    year = only_row(summaries(client, period="financial_year"))
    assert (year["period_start"], year["period_end"], year["reports"]) == ("2025-04-01", "2026-03-31", 17)


def test_from_and_to_pick_whole_periods(client, oxford_june, pcc_staff):
    client.force_login(pcc_staff)
    assert [r["period_start"] for r in summaries(client, **{"from": "2025-07-15"}).json()["results"]] == ["2025-08-01"]
    quarter = only_row(summaries(client, period="quarter", **{"from": "2025-05-20", "to": "2025-06"}))
    assert quarter["reports"] == 16


def test_by_area_gives_a_row_per_area_with_its_population(client, oxford_june, pcc_staff):
    client.force_login(pcc_staff)
    row = only_row(summaries(client, by_area="true", to="2025-06"))
    assert (row["area"], row["area_name"], row["population"]) == ("E22000155", "Oxford", 100_000)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "week"}, 'period: "week" is not a valid choice.'),
        ({"from": "2025-13"}, "date_from: Date has wrong format."),
        ({"force": "atlantis"}, "force: Object with id=atlantis does not exist."),
        ({"from": "2025-08", "to": "2025-06"}, "from: is after to."),
    ],
)
def test_bad_parameters_get_400_naming_the_parameter(client, forces, params, message):
    response = client.get(API, params)
    assert response.status_code == 400
    assert response.json()["message"].startswith(message)


def test_a_tool_polling_gets_304_until_the_data_changes(client, oxford_june):
    first = summaries(client)
    assert first["ETag"] and first["Last-Modified"]
    again = client.get(API, {"force": "thames-valley"}, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    since = client.get(API, {"force": "thames-valley"}, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304

    ReportFactory(area=oxford_june, occurred_on=datetime.date(2025, 8, 3))
    rebuild_summaries()
    changed = client.get(API, {"force": "thames-valley"}, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]


def test_the_validator_differs_between_public_and_exact_answers(client, oxford_june, pcc_staff):
    public = summaries(client)["ETag"]
    client.force_login(pcc_staff)
    assert client.get(API, {"force": "thames-valley"}, HTTP_IF_NONE_MATCH=public).status_code == 200
