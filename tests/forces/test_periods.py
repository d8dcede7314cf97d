"""The periods Home Office titles, contents lines, covers and file names name."""

import pytest

from forces.periods import periods_in
from forces.services import InputError


@pytest.mark.parametrize(
    ("text", "periods"),
    [
        ("Table 12. Incidents by police force, year ending March 2020", ["2019/20"]),
        ("Year ending 31 March 2019", ["2018/19"]),
        ("Table 3.1: Use of force, years ending March 2023 and March 2024", ["2022/23", "2023/24"]),
        ("Use of CED by type and police force: 1 April 2017 to 31 March 2019", ["2017/18", "2018/19"]),
        ("Police use of force statistics, England and Wales\nApril 2018 - March 2019", ["2018/19"]),
        ("2019/20", ["2019/20"]),
        ("2019-20", ["2019/20"]),
        ("Use of CED by type and police force, 1 January to 31 March 2017", ["January to March 2017"]),
        ("Revisions, 1 January to 31 December 2016", ["2016"]),
        ("Police use of TASER ® X26 by type, police force and region, 2016", ["2016"]),
        (2016.0, ["2016"]),
        ("Police use of TASER ® X26 by type, England and Wales, 2011 to 2013", ["2011", "2012", "2013"]),
        ("police-use-of-force-apr2018-mar2019-hosb3319-tables.ods", ["2018/19"]),
        ("police-use-of-conducted-energy-devices-2016.ods", ["2016"]),
        ("Table 12. Incidents by police force", []),
        ("", []),
    ],
)
def test_a_text_names_financial_years_quarters_or_calendar_years_and_never_mistakes_one_for_another(text, periods):
    assert [period.label for period in periods_in(text)] == periods


def test_a_quarter_is_not_a_financial_year():
    (quarter,) = periods_in("1 January to 31 March 2017")
    assert (quarter.kind, quarter.financial_year, str(quarter.start), str(quarter.end)) == (
        "quarter", "", "2017-01-01", "2017-03-31",
    )  # fmt: skip


def test_a_span_that_is_no_year_or_quarter_is_refused_by_name():
    with pytest.raises(InputError, match="'April to September 2019' is neither a financial year, a calendar year"):
        periods_in("Use of force, April to September 2019")
