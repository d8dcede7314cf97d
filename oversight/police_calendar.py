"""The police calendar: financial years from 1 April, their quarters, and whole months.

The Home Office, PCCs and panels count in financial years (1 April to 31 March, written "2019/20")
and their quarters (Q1 = April to June … Q4 = January to March). Every page, import and report
reads its months, quarters and years from here, so that a year or a quarter means one thing
everywhere. Imports no app: the calendar is plain date arithmetic.
"""

import datetime
from typing import Literal

Period = Literal["month", "quarter", "financial_year"]
PERIODS: tuple[Period, ...] = ("month", "quarter", "financial_year")
PERIOD_MONTHS: dict[str, int] = {"month": 1, "quarter": 3, "financial_year": 12}
# The days a period may be asked for: every period holding one of them has its first and last day in the calendar.
FIRST_DAY, LAST_DAY = datetime.date(1900, 1, 1), datetime.date(2999, 12, 31)
# The financial year begins in April.
FIRST_MONTH = 4


def months_back(month: datetime.date, count: int) -> datetime.date:
    """First day of the month `count` months before `month` (after it when `count` is negative)."""
    index = month.year * 12 + month.month - 1 - count
    return datetime.date(index // 12, index % 12 + 1, 1)


def month_end(year: int, month: int) -> datetime.date:
    """The last day of a month."""
    return months_back(datetime.date(year, month, 1), -1) - datetime.timedelta(days=1)


def months_between(start: datetime.date, end: datetime.date) -> int:
    """Whole months from the month of `start` to the month of `end` (negative when `end` comes first)."""
    return (end.year - start.year) * 12 + end.month - start.month


def financial_year_of(day: datetime.date) -> int:
    """The year in which the financial year holding `day` began: 2019 for any day of 2019/20."""
    return day.year if day.month >= FIRST_MONTH else day.year - 1


def financial_year_start(day: datetime.date) -> datetime.date:
    """1 April of the financial year holding `day`."""
    return datetime.date(financial_year_of(day), FIRST_MONTH, 1)


def financial_year_label(year: int) -> str:
    """The financial year that began in April of `year`, as published: 2019 → "2019/20"."""
    return f"{year}/{(year + 1) % 100:02d}"


def financial_year_span(start: datetime.date) -> str:
    """ "2019/20 (April 2019 to March 2020)": the financial year beginning `start`, with its months."""
    return f"{financial_year_label(start.year)} (April {start.year} to March {start.year + 1})"


def financial_year_dates(year: int) -> tuple[datetime.date, datetime.date]:
    """1 April and 31 March (inclusive) of the financial year that began in April of `year`."""
    return datetime.date(year, FIRST_MONTH, 1), datetime.date(year + 1, 3, 31)


def financial_year_bounds(first: datetime.date, last: datetime.date) -> tuple[datetime.date, datetime.date]:
    """1 April of the financial year holding `first` to 31 March of the one holding `last` (both inclusive)."""
    return financial_year_start(first), financial_year_dates(financial_year_of(last))[1]


def is_financial_years(start: datetime.date, end: datetime.date) -> bool:
    """Whether start to end (inclusive) is one or more whole financial years."""
    return (start.month, start.day, end.month, end.day) == (FIRST_MONTH, 1, 3, 31) and end.year > start.year


def is_financial_year(start: datetime.date, end: datetime.date) -> bool:
    """Whether start to end (inclusive) is exactly one financial year."""
    return is_financial_years(start, end) and end.year == start.year + 1


def financial_year_name(start: datetime.date, through: datetime.date | None = None) -> str:
    """ "2019/20". A financial year the figures stop short of (they run to the month `through`) is named
    "to date", with its months: "2026/27 to date (April–November)", so a part year is never read as a whole one."""
    name = financial_year_label(start.year)
    if through is None or not start <= through < months_back(start, -11):
        return name
    months = f"{start:%B}–{through:%B}" if through > start else f"{start:%B}"
    return f"{name} to date ({months})"


def financial_years(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """Starts (1 April) of the financial years from the one holding `first` to the one holding `last`, newest first."""
    newest, oldest = financial_year_of(last), financial_year_of(first)
    return [datetime.date(year, FIRST_MONTH, 1) for year in range(newest, oldest - 1, -1)]


def quarters_of_financial_year(year: int) -> list[datetime.date]:
    """The first days of the four quarters of the financial year starting in April of `year`, Q1 first."""
    return [months_back(datetime.date(year, FIRST_MONTH, 1), -3 * number) for number in range(4)]


def quarter_start(day: datetime.date) -> datetime.date:
    """First day of the quarter holding `day` (January, April, July or October)."""
    return datetime.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def quarter_bounds(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """First day of the quarter holding `day`, and the first day after it."""
    start = quarter_start(day)
    return start, months_back(start, -3)


def quarter_number(quarter: datetime.date) -> int:
    """The quarter's number in its financial year: April to June is 1, January to March is 4."""
    return (quarter.month - FIRST_MONTH) % 12 // 3 + 1


def quarter_name(start: datetime.date, through: datetime.date | None = None) -> str:
    """ "Q1 2019/20". A quarter the figures stop short of (they run to the month `through`) is named
    "to date", with its months: "Q3 2026/27 to date (Oct–Nov)"."""
    name = f"Q{quarter_number(start)} {financial_year_label(financial_year_of(start))}"
    months_into = months_between(start, through) if through else None
    if through is not None and months_into is not None and 0 <= months_into < 2:
        months = f"{start:%b}–{through:%b}" if through > start else f"{start:%b}"
        name += f" to date ({months})"
    return name


def quarter_label(quarter: datetime.date) -> str:
    """ "Q1 2019/20 (April to June 2019)": the quarter with its months, as the filter bar and reports name it."""
    end = months_back(quarter, -2)
    return f"{quarter_name(quarter)} ({quarter:%B} to {end:%B %Y})"


def period_start(day: datetime.date, period: Period | str) -> datetime.date:
    """First day of the month, quarter or financial year (from 1 April) holding `day`."""
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return quarter_start(day)
    return financial_year_start(day)


def period_end(start: datetime.date, period: Period | str) -> datetime.date:
    """The last day of the period beginning `start`."""
    return months_back(start, -PERIOD_MONTHS[period]) - datetime.timedelta(days=1)
