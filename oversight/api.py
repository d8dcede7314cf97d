"""What every API resource shares: errors, CSV, paging, throttling and the schema's error answers.

No domain code: the resources live in each app's api.py.
"""

import contextlib
import csv
import queue
import tempfile
import threading

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import F, Max, Min
from django.http import JsonResponse, StreamingHttpResponse
from django.views.defaults import page_not_found
from django_filters import BooleanFilter, CharFilter
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import negotiation, pagination, renderers, serializers, throttling
from rest_framework.exceptions import ValidationError

from oversight.numbers import is_whole_number
from oversight.spreadsheets import cell

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
        checked_paging(self.request)  # a CSV has no pages, but what the schema refuses is refused here too
        return streamed_csv(self.csv_rows(queryset), filename or self.csv_filename)

    def csv_rows(self, queryset):
        serializer = self.get_serializer()
        yield list(serializer.fields)
        for item in queryset.iterator(chunk_size=2000):
            yield [cell(value) for value in self.get_serializer(item).data.values()]


# --- paging --------------------------------------------------------------------------------


def checked_paging(request, *, page_query_param="page", page_size_query_param="page_size"):
    """Refuse (400) a page or page size that is given but not a whole number from 1, for JSON and CSV alike: the
    schema declares both, so what it calls invalid is refused rather than quietly replaced by a default. A page
    size over the largest is held to the largest, as the schema says."""
    errors = {}
    for name, wrong in (
        (page_query_param, "is not a page number (1, 2, …)."),
        (page_size_query_param, "is not a page size (1, 2, …)."),
    ):
        value = request.query_params.get(name) if name else None
        if value is not None and not (is_whole_number(value) and int(value) >= 1):
            errors[name] = [f"{value!r} {wrong}"]
    if errors:
        raise ValidationError(errors)


def paging_parameters(parameters, *, max_page_size):
    """The schema's paging parameters with their ranges, and what is refused."""
    ranges = {
        "page": "A page number from 1; another value answers 400, a page past the last 404.",
        "page_size": f"Rows a page from 1 (another value answers 400); over {max_page_size} gives {max_page_size}.",
    }
    for parameter in parameters:
        if parameter["name"] in ranges:
            parameter["schema"] = {**parameter["schema"], "minimum": 1}
            parameter["description"] = ranges[parameter["name"]]
    return parameters


class PagePagination(pagination.PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def paginate_queryset(self, queryset, request, view=None):
        # A page that cannot be read is a bad parameter (400); one past the last is not there (404).
        checked_paging(request)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        return paging_parameters(super().get_schema_operation_parameters(view), max_page_size=self.max_page_size)


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, but a filter given what it cannot read refuses the request (400) instead of
    ignoring the filter: an empty value of a filter that is not free text, a yes/no other than true or false."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        errors = {}
        for name, filter_ in filterset.filters.items() if filterset is not None else ():
            for value in request.query_params.getlist(name):
                if isinstance(filter_, BooleanFilter) and value not in ("true", "false"):
                    errors[name] = [f"{value!r} is not true or false."]
                elif value == "" and not isinstance(filter_, CharFilter):
                    errors[name] = ["Give a value, or leave the parameter out."]
        if errors:
            raise ValidationError(errors)
        return filterset


class FormatNegotiation(negotiation.DefaultContentNegotiation):
    """DRF's negotiation, but an empty ?format= is refused like any other format the API does not have."""

    def select_renderer(self, request, renderers, format_suffix=None):
        if format_suffix is None and request.query_params.get(self.settings.URL_FORMAT_OVERRIDE) == "":
            raise ValidationError({"format": ["Ask for csv or json, or leave format out."]})
        return super().select_renderer(request, renderers, format_suffix)


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


# Below this many ids from first to last, a CSV is copied in one part: it takes a moment anyway.
SPLIT_FROM_IDS = 100_000


def id_halves(queryset):
    """The queryset as parts for copied_csv: those up to the middle of its ids, and those after."""
    # Over the chosen rows, as they come: a plain MIN(id) would walk the primary key from its
    # end until a row matches, which takes long when the chosen rows lie far from either end.
    ids = F("pk") + 0
    bounds = queryset.aggregate(low=Min(ids), high=Max(ids))
    if bounds["low"] is None or bounds["high"] - bounds["low"] < SPLIT_FROM_IDS:
        return [queryset]
    middle = (bounds["low"] + bounds["high"]) // 2
    return [queryset.filter(pk__lte=middle), queryset.filter(pk__gt=middle)]


def copied_csv(parts, header):
    """The header, then the rows of each part (a queryset) in turn, written by PostgreSQL's `COPY … TO STDOUT`.

    Writing the rows is PostgreSQL's work, and one COPY keeps one of its processes busy. So the parts
    are copied at once, each on a connection of its own and all in one snapshot of the database: the
    first is sent as it comes, the others are spooled to temporary files and sent after it. Inside a
    transaction (a test's) only the request's own connection sees what that transaction wrote: there
    the parts are copied on it, one after another.
    """
    yield CsvLines().row(header).encode()
    parts = [part for part in parts if can_match(part)]
    if not parts:
        return
    connection = connections[parts[0].db]
    if connection.in_atomic_block or len(parts) == 1:
        yield from _copied_in_turn(connection, parts)
    else:
        yield from _copied_at_once(parts)


def can_match(queryset):
    """Whether the queryset has SQL to run. One that can match nothing (a filter by an area code no force
    has) has none: Django refuses to write it, and a COPY broken off by that closed the connection."""
    try:
        queryset.query.sql_with_params()
    except EmptyResultSet:
        return False
    return True


def _copied_in_turn(connection, parts):
    connection.ensure_connection()
    finished = False
    try:
        for part in parts:
            copy = Copy(connection.connection, part)
            copy.start()
            try:
                yield from copy.blocks()
            finally:
                copy.stop()
        finished = True
    finally:
        if not finished:
            connection.close()  # an aborted COPY leaves the connection in no state to reuse


def _copied_at_once(parts):
    copies, connections_used = [], []
    try:
        snapshot = None
        for index, part in enumerate(parts):
            database = connections.create_connection(part.db)
            connections_used.append(database)
            database.ensure_connection()
            with database.connection.cursor() as cursor:
                cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                if snapshot is None:
                    cursor.execute("SELECT pg_export_snapshot()")
                    snapshot = cursor.fetchone()[0]
                else:
                    cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
            copies.append(Copy(database.connection, part, spooled=index > 0))
        for copy in copies:
            copy.start()
        for copy in copies:
            yield from copy.blocks()
    finally:
        for copy in copies:
            copy.stop()
        for database in connections_used:
            database.close()


class Copy(threading.Thread):
    """`COPY (queryset) TO STDOUT` as CSV on a psycopg2 connection, in a thread of its own.

    psycopg2's COPY writes into a file object and will not hand the rows over one by one: this is
    that file. Streamed, its blocks go through a bounded queue, so memory stays flat; spooled, into
    a temporary file. Once stopped, its next write ends the COPY.
    """

    def __init__(self, raw_connection, queryset, spooled=False):
        super().__init__(name="csv-copy", daemon=True)
        sql, params = queryset.query.sql_with_params()
        with raw_connection.cursor() as cursor:
            self.statement = cursor.mogrify(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params).decode()
        self.raw_connection, self.stopped = raw_connection, threading.Event()
        self.queue = None if spooled else queue.Queue(maxsize=16)
        self.spool = tempfile.TemporaryFile() if spooled else None  # noqa: SIM115 - closed by stop()
        self.parts, self.size, self.error = [], 0, None

    def write(self, data):
        if self.stopped.is_set():
            raise BrokenPipeError("the download was closed")
        data = data if isinstance(data, bytes) else data.encode()
        if self.spool:
            self.spool.write(data)
            return
        self.parts.append(data)
        self.size += len(data)
        if self.size >= COPY_BLOCK_BYTES:
            self.flush()

    def flush(self):
        if self.parts:
            self.queue.put(b"".join(self.parts))
            self.parts, self.size = [], 0

    def run(self):
        try:
            with self.raw_connection.cursor() as cursor:
                cursor.copy_expert(self.statement, self, size=COPY_BLOCK_BYTES)
            if self.queue:
                self.flush()
        except Exception as error:  # noqa: BLE001 - raised on the reading side, by blocks()
            self.error = error
        finally:
            if self.queue:
                self.queue.put(None)

    def blocks(self):
        """The COPY's output: as it comes when streamed, once it has all come when spooled."""
        if self.queue:
            while (block := self.queue.get()) is not None:
                yield block
        self.join()
        if self.error:
            raise self.error
        if self.spool:
            self.spool.seek(0)
            while block := self.spool.read(COPY_BLOCK_BYTES):
                yield block

    def stop(self):
        """End the COPY if it still runs, and wait for the thread."""
        self.stopped.set()
        while self.is_alive():  # a COPY blocked on a full queue must see it is stopped
            if self.queue:
                with contextlib.suppress(queue.Empty):
                    self.queue.get(timeout=0.1)
            else:
                self.join(0.1)
        if self.spool:
            self.spool.close()
