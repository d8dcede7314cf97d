"""The police calendar: financial years from 1 April and their quarters, as every page and report names them."""

import datetime

from oversight.police_calendar import (
    financial_year_bounds,
    financial_year_label,
    financial_year_name,
    financial_year_of,
    financial_years,
    is_financial_year,
    is_financial_years,
    months_back,
    period_end,
    period_start,
    quarter_label,
    quarter_name,
    quarters_of_financial_year,
)

d = datetime.date


def test_january_to_march_belong_to_the_financial_year_that_began_the_april_before():
    assert financial_year_of(d(2020, 3, 31)) == 2019
    assert financial_year_of(d(2020, 4, 1)) == 2020
    assert financial_year_label(2019) == "2019/20"
    assert financial_year_label(1999) == "1999/00"


def test_financial_years_run_newest_first_from_the_one_holding_the_last_day():
    assert financial_years(d(2019, 3, 1), d(2020, 4, 1)) == [d(2020, 4, 1), d(2019, 4, 1), d(2018, 4, 1)]
    assert financial_year_bounds(d(2019, 5, 2), d(2021, 2, 1)) == (d(2019, 4, 1), d(2021, 3, 31))


def test_a_span_is_a_financial_year_only_from_1_april_to_31_march():
    assert is_financial_year(d(2019, 4, 1), d(2020, 3, 31))
    assert not is_financial_year(d(2019, 4, 1), d(2021, 3, 31))
    assert is_financial_years(d(2019, 4, 1), d(2021, 3, 31))
    assert not is_financial_years(d(2019, 1, 1), d(2019, 12, 31))


def test_quarters_are_numbered_from_april():
    assert quarters_of_financial_year(2025) == [d(2025, 4, 1), d(2025, 7, 1), d(2025, 10, 1), d(2026, 1, 1)]
    assert quarter_name(d(2026, 1, 1)) == "Q4 2025/26"
    assert quarter_label(d(2026, 4, 1)) == "Q1 2026/27 (April to June 2026)"


def test_a_quarter_the_figures_stop_short_of_is_named_to_date():
    assert quarter_name(d(2026, 10, 1), through=d(2026, 11, 1)) == "Q3 2026/27 to date (Oct–Nov)"
    assert quarter_name(d(2026, 10, 1), through=d(2026, 10, 1)) == "Q3 2026/27 to date (Oct)"
    assert quarter_name(d(2026, 10, 1), through=d(2026, 12, 1)) == "Q3 2026/27"


def test_a_financial_year_the_figures_stop_short_of_is_named_to_date():
    assert financial_year_name(d(2026, 4, 1), through=d(2026, 11, 1)) == "2026/27 to date (April–November)"
    assert financial_year_name(d(2026, 4, 1), through=d(2026, 4, 1)) == "2026/27 to date (April)"
    assert financial_year_name(d(2026, 4, 1), through=d(2027, 3, 1)) == "2026/27"
    assert financial_year_name(d(2025, 4, 1), through=d(2026, 11, 1)) == "2025/26"
    assert financial_year_name(d(2025, 4, 1)) == "2025/26"


def test_periods_start_and_end_on_their_calendar_days():
    assert months_back(d(2020, 1, 1), 1) == d(2019, 12, 1)
    assert months_back(d(2019, 12, 1), -1) == d(2020, 1, 1)
    assert period_start(d(2020, 2, 17), "month") == d(2020, 2, 1)
    assert period_start(d(2020, 2, 17), "quarter") == d(2020, 1, 1)
    assert period_start(d(2020, 2, 17), "financial_year") == d(2019, 4, 1)
    assert period_end(d(2019, 4, 1), "financial_year") == d(2020, 3, 31)
    assert period_end(d(2020, 1, 1), "quarter") == d(2020, 3, 31)
