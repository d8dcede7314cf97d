"""CSV cells and downloads that a spreadsheet opens safely.

Imports no app: the apps' services, views and API all use it.
"""

import csv

from django.http import HttpResponse

# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(…) and worse).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value):
    """A CSV cell: lists as space-separated values, and text a spreadsheet would run as a formula quoted."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = " ".join(str(item) for item in value)
    return neutralised(value) if isinstance(value, str) else value


def neutralised(text):
    """Text a spreadsheet would run as a formula, made text with a leading apostrophe (OWASP's advice).

    The importers read such a cell back as it was (incidents.columns), so an export round-trips.
    """
    return "'" + text if text[:1] in FORMULA_STARTS else text


def csv_response(filename, header, rows):
    """A CSV download; text that a spreadsheet would run as a formula is quoted as text."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow([cell(name) for name in header])
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return response
