"""CSV cells and downloads that a spreadsheet opens safely.

Imports no app: the apps' services, views and API all use it. The API streams its long lists itself
(oversight.api.CsvListMixin) with the same `cell`; a page's table or report is answered whole with
`csv_response`.
"""

import csv
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse

# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(…) and worse).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """A CSV cell: lists as space-separated values, and text a spreadsheet would run as a formula quoted."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = " ".join(str(item) for item in value)
    return neutralised(value) if isinstance(value, str) else value


def neutralised(text: str) -> str:
    """Text a spreadsheet would run as a formula, made text with a leading apostrophe (OWASP's advice).

    The importers read such a cell back as it was (incidents.columns), so an export round-trips.
    """
    return "'" + text if text[:1] in FORMULA_STARTS else text


def csv_response(filename: str, header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> HttpResponse:
    """A CSV download named `filename`: the header, then the rows, every cell made safe for a spreadsheet."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow([cell(name) for name in header])
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return response
