"""The periods the Home Office tables name, and the unit of count each period's figures have.

A title, a contents line, a cover or a file name names its period in many ways: "1 April 2017
to 31 March 2019", "year ending March 2020", "2019/20", "January to March 2017", "2016",
"apr2018-mar2019". Each becomes financial years, a quarter or calendar years; nothing else is
accepted, and none is taken for another.
"""

import datetime
import re
from dataclasses import dataclass

from forces.models import PublishedFigure, describe_period
from forces.services import InputError
from oversight.police_calendar import FIRST_MONTH, financial_year_dates, is_financial_years, month_end

PeriodKind = PublishedFigure.PeriodKind

MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
    "nov": 11, "dec": 12,
}  # fmt: skip
MONTH = r"(?<![a-z])(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"
DAY = r"(?:\b\d{1,2}(?:st|nd|rd|th)?\s+)?"
# "1 April 2017 to 31 March 2019", "April 2018 - March 2019", "January to March 2017", "apr2018-mar2019".
MONTH_RANGE = re.compile(
    rf"{DAY}{MONTH}\s*(\d{{4}})?\s*(?:to|-|–|—|_)\s*{DAY}{MONTH}[\s_]*(\d{{4}})(?!\d)", re.IGNORECASE
)
# "year ending March 2020", "years ending 31 March 2023 and March 2024".
YEAR_ENDING = re.compile(rf"\byears? ending((?:(?:\s*,\s*|\s+and\s+|\s+){DAY}{MONTH}\s+\d{{4}})+)", re.IGNORECASE)
MONTH_YEAR = re.compile(rf"{MONTH}\s+(\d{{4}})", re.IGNORECASE)
FINANCIAL_YEAR = re.compile(r"(?<!\d)(\d{4})\s*[/-]\s*(\d{4}|\d\d)(?!\d)")
YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
YEAR_RANGE = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*(?:to|-|–)\s*((?:19|20)\d\d)(?!\d)")
FINANCIAL_YEAR_LABEL = re.compile(r"\d{4}/\d\d( \(revised\))?")
REVISED = re.compile(r"\brevis(?:ed|ion|ions)\b", re.IGNORECASE)
# Before the national use-of-force form (1 April 2017) the Home Office counted uses of TASER X26.
FIRST_DAY_OF_THE_FORM = datetime.date(2017, 4, 1)
# The Home Office called a form an "incident" up to 2022/23 and a "report" from 2023/24.
FIRST_YEAR_OF_REPORTS = 2023
# "Published: 17 December 2020" on a cover sheet; "Publication Date: 19 December 2019" on a contents sheet.
PUBLICATION_LABEL = re.compile(r"published|publication date|date of publication|date published|release date")
PUBLISHED = re.compile(rf"\b(?:{PUBLICATION_LABEL.pattern})\s*:?\s*(\d{{1,2}})\s+{MONTH}\s+(\d{{4}})", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    """A span a figure covers, as the edition names it."""

    start: datetime.date
    end: datetime.date
    kind: str

    @property
    def label(self):
        return describe_period(self.start, self.end, self.kind)

    @property
    def financial_year(self):
        """The financial year ("2019/20") when the period is one, revised or not; else ""."""
        return self.label.removesuffix(" (revised)") if FINANCIAL_YEAR_LABEL.fullmatch(self.label) else ""

    def revised(self):
        return Period(self.start, self.end, PeriodKind.REVISION)


def split_span(start, end):
    """A span of whole months as financial years, calendar years or one quarter; None otherwise."""
    if is_financial_years(start, end):
        return [Period(*financial_year_dates(year), PeriodKind.FINANCIAL_YEAR) for year in range(start.year, end.year)]
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and end.year >= start.year:
        return [
            Period(datetime.date(year, 1, 1), datetime.date(year, 12, 31), PeriodKind.CALENDAR_YEAR)
            for year in range(start.year, end.year + 1)
        ]
    if start.day == 1 and (end.year * 12 + end.month) - (start.year * 12 + start.month) == 2 and start.month % 3 == 1:
        return [Period(start, end, PeriodKind.QUARTER)]
    return None


def periods_in(text):
    """The periods a title, cell or file name names, in order; [] when it names none.

    Month ranges, "year ending March", financial years ("2019/20", "2019-20") and, only where
    none of those is found, calendar years ("2016", "2011 to 2016"). A span that is not
    financial years, calendar years or a quarter is an InputError.
    """
    if isinstance(text, bool) or text is None:
        return []
    if isinstance(text, int | float):
        text = f"{int(text)}" if text == int(text) else ""
    text = " ".join(str(text).split())
    found = []
    for match in MONTH_RANGE.finditer(text):
        first, first_year, last, last_year = match.groups()
        first, last, last_year = MONTHS[first.lower()], MONTHS[last.lower()], int(last_year)
        first_year = int(first_year) if first_year else (last_year if first <= last else last_year - 1)
        start, end = datetime.date(first_year, first, 1), month_end(last_year, last)
        spans = split_span(start, end)
        if spans is None:
            raise InputError(
                f"'{match.group(0)}' is neither a financial year, a calendar year nor a quarter; "
                "expected a period such as 'April 2019 to March 2020'."
            )
        found += spans
    text = MONTH_RANGE.sub(" ", text)
    for match in YEAR_ENDING.finditer(text):
        for month, year in MONTH_YEAR.findall(match.group(1)):
            end = month_end(int(year), MONTHS[month.lower()])
            found += split_span(datetime.date(end.year - 1, end.month % 12 + 1, 1), end) or []
    text = YEAR_ENDING.sub(" ", text)
    for start, end in FINANCIAL_YEAR.findall(text):
        if int(end[-2:]) == (int(start) + 1) % 100:
            found += split_span(*financial_year_dates(int(start)))
    if found:
        return list(dict.fromkeys(found))
    for first, last in YEAR_RANGE.findall(text):
        found += split_span(datetime.date(int(first), 1, 1), datetime.date(int(last), 12, 31)) or []
    text = YEAR_RANGE.sub(" ", text)
    for year in YEAR.findall(text):
        found += split_span(datetime.date(int(year), 1, 1), datetime.date(int(year), 12, 31))
    return list(dict.fromkeys(found))


def publication_date(text):
    """The date of a "Published: 17 December 2020" or "Publication Date: 19 December 2019", or None."""
    match = PUBLISHED.search(text)
    if match is None:
        return None
    day, month, year = match.groups()
    return datetime.date(int(year), MONTHS[month.lower()], int(day))


def unit_of(period):
    """The Home Office's unit of count for a period's figures: uses, incidents or reports."""
    if period.end < FIRST_DAY_OF_THE_FORM:
        return PublishedFigure.Unit.USES
    if period.start >= datetime.date(FIRST_YEAR_OF_REPORTS, FIRST_MONTH, 1):
        return PublishedFigure.Unit.REPORTS
    return PublishedFigure.Unit.INCIDENTS
