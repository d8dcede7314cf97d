"""What every API resource shares: errors, CSV, paging, throttling and the schema's error answers.

No domain code: the resources live in each app's api.py.
"""

import contextlib
import csv
import queue
import threading

from django.db import connections
from django.http import JsonResponse, StreamingHttpResponse
from django.views.defaults import page_not_found
from rest_framework import pagination, renderers, serializers, throttling
from rest_framework.exceptions import ValidationError

# --- errors --------------------------------------------------------------------------------


def exception_handler(exc, context):
    """DRF's error answer, as JSON with a "message" a person can read (see DESIGN §4).

    JSON even when the caller asked for CSV: an error is not a table.
    """
    # Imported here: DRF's views load this module's renderer while they load (settings).
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ValidationError):
        response.data = {"message": validation_summary(response.data), "errors": response.data}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"message": str(response.data["detail"]), **response.data}
    request = context.get("request")
    if request is not None:
        request.accepted_renderer = renderers.JSONRenderer()
        request.accepted_media_type = "application/json"
    return response


def not_found(request, exception):
    """404 as JSON under /api/ (a path no route matches never reaches DRF), the site's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"message": "Not found.", "detail": "Not found."}, status=404)
    return page_not_found(request, exception)


def validation_summary(errors):
    """One sentence per field from DRF's {field: [messages]}: "file: Upload a .csv or .xlsx file …"."""
    if isinstance(errors, list):
        return " ".join(str(message) for message in errors)
    parts = []
    for field, messages in errors.items():
        text = validation_summary(messages) if isinstance(messages, list | dict) else str(messages)
        parts.append(text if field == "non_field_errors" else f"{field}: {text}")
    return " ".join(parts)


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer."""

    message = serializers.CharField(help_text="What went wrong, in a sentence")
    detail = serializers.CharField(required=False, help_text="DRF's own wording of the same")
    errors = serializers.DictField(required=False, help_text="For 400: the problems, by parameter or field")


# Each error answer: what it means, and an example of its body.
ERROR_RESPONSES = {
    400: (
        "A parameter or field is not valid; `errors` names each",
        {"message": 'period: "week" is not a valid choice.', "errors": {"period": ['"week" is not a valid choice.']}},
    ),
    401: ("No credentials, or a token that is unknown or revoked", {"message": "This token is not known."}),
    403: (
        "Signed in, but this role or token may not do this",
        {"message": "This token is read-only; make a read-write token for this."},
    ),
    404: ("No such resource, or not one of your force's", {"message": "No UseOfForceReport matches the given query."}),
    429: (
        "Too many requests; retry after the seconds in the Retry-After header",
        {"message": "Request was throttled. Expected available in 42 seconds."},
    ),
}


# --- CSV -----------------------------------------------------------------------------------


# A download is sent in blocks of about this size.
COPY_BLOCK_BYTES = 1 << 16


class CsvRenderer(renderers.BaseRenderer):
    """`?format=csv` or `Accept: text/csv`. Lists answer with a streamed CSV (see CsvListMixin);
    this renders what else asks for CSV: one object as one row."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if not isinstance(data, dict):
            return b""
        lines = CsvLines()
        return (lines.row(list(data)) + lines.row([cell(value) for value in data.values()])).encode()


class CsvLines:
    """csv.writer for a stream: each row comes back as its text."""

    def __init__(self):
        self.text = ""
        self.writer = csv.writer(self)

    def write(self, text):
        self.text += text

    def row(self, values):
        self.text = ""
        self.writer.writerow(values)
        return self.text


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


def download(blocks, filename):
    """A CSV download of `blocks` (bytes), sent as they come."""
    response = StreamingHttpResponse(blocks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def streamed_csv(rows, filename):
    """A CSV download of `rows` (the header first), written while it is sent: memory stays flat."""
    return download(in_blocks(rows), filename)


def in_blocks(rows):
    """CSV rows as blocks of about COPY_BLOCK_BYTES: one HTTP chunk per row costs more than the row."""
    lines, parts, size = CsvLines(), [], 0
    for row in rows:
        line = lines.row(row)
        parts.append(line)
        size += len(line)
        if size >= COPY_BLOCK_BYTES:
            yield "".join(parts).encode()
            parts, size = [], 0
    if parts:
        yield "".join(parts).encode()


class CsvListMixin:
    # The whole filtered list as CSV, unpaged, with the same filters as the JSON list. Columns
    # are the serializer's fields; a view with a CSV form of its own overrides csv_download.
    # (A comment, not a docstring: the schema would take it for each view's description.)

    csv_filename = "data.csv"

    def list(self, request, *args, **kwargs):
        if request.accepted_renderer.format == "csv":
            return self.csv_download(self.filter_queryset(self.get_queryset()))
        return super().list(request, *args, **kwargs)

    def csv_download(self, queryset, filename=None):
        return streamed_csv(self.csv_rows(queryset), filename or self.csv_filename)

    def csv_rows(self, queryset):
        serializer = self.get_serializer()
        yield list(serializer.fields)
        for item in queryset.iterator(chunk_size=2000):
            yield [cell(value) for value in self.get_serializer(item).data.values()]


# --- paging --------------------------------------------------------------------------------


class PagePagination(pagination.PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


# --- throttling ----------------------------------------------------------------------------


class AnonymousRateThrottle(throttling.AnonRateThrottle):
    """Per address, for callers without credentials."""


class CallerRateThrottle(throttling.SimpleRateThrottle):
    """Per token for token callers, per user for signed-in browsers."""

    scope = "caller"

    def get_cache_key(self, request, view):
        if not request.user.is_authenticated:
            return None
        token = getattr(request.auth, "pk", None)
        ident = f"token-{token}" if token else f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


# --- CSV straight from PostgreSQL --------------------------------------------------------------


def copied_csv(queryset, header):
    """The header, then `COPY (queryset) TO STDOUT` in blocks: PostgreSQL writes the CSV itself.

    psycopg2's COPY writes into a file object and will not hand the rows over one by one, so
    it runs in a thread of its own on this request's connection, while this generator, the
    only other user of the connection, waits for its blocks; a bounded queue keeps memory flat.
    """
    connection = connections[queryset.db]
    connection.ensure_connection()
    sql, params = queryset.query.sql_with_params()
    with connection.connection.cursor() as cursor:
        copy = cursor.mogrify(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params).decode()
    blocks = queue.Queue(maxsize=16)
    stopped = threading.Event()

    class Sink:
        def __init__(self):
            self.parts, self.size = [], 0

        def write(self, data):
            if stopped.is_set():
                raise BrokenPipeError("the download was closed")
            self.parts.append(data if isinstance(data, bytes) else data.encode())
            self.size += len(data)
            if self.size >= COPY_BLOCK_BYTES:
                self.flush()

        def flush(self):
            if self.parts:
                blocks.put(b"".join(self.parts))
                self.parts, self.size = [], 0

    def run():
        sink = Sink()
        try:
            with connection.connection.cursor() as cursor:
                cursor.copy_expert(copy, sink, size=COPY_BLOCK_BYTES)
            sink.flush()
            blocks.put(None)
        except Exception as error:  # noqa: BLE001 - handed to the reading side, which raises it
            blocks.put(error)

    lines = CsvLines()
    yield lines.row(header).encode()
    worker = threading.Thread(target=run, name="csv-copy", daemon=True)
    worker.start()
    finished = False
    try:
        while (block := blocks.get()) is not None:
            if isinstance(block, Exception):
                raise block
            yield block
        finished = True
    finally:
        stopped.set()
        while worker.is_alive():  # let a COPY blocked on a full queue see it is stopped
            with contextlib.suppress(queue.Empty):
                blocks.get(timeout=0.1)
        if not finished:
            connection.close()  # an aborted COPY leaves the connection in no state to reuse
