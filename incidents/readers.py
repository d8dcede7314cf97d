"""Open a tabular file whatever its shape and stream it as batches of text columns.

CSV (UTF-8 or Windows-1252, comma or semicolon, detected) is read by pyarrow in blocks, so
a file of millions of rows never sits in memory; XLSX (the Met publishes XLSX, sheet `UoF`)
is streamed row by row by openpyxl. Every cell arrives as text, exactly as in the file;
the format modules decide what it means. Files that are not tables get one sentence.
"""

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from queue import Full, Queue
from threading import Event, Thread

import pyarrow as pa
import pyarrow.csv as pacsv
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from forces.services import InputError

# pyarrow parses 1 MB blocks, which it holds in far less memory than 4 MB ones (a reader of
# 4 MB blocks took 240 MB, of 1 MB blocks 160 MB); the blocks are then put together into
# batches of about 4 MB, which convert with a quarter of the calls.
BLOCK_BYTES = 1 << 20
BATCH_BYTES = 4 << 20
READ_AHEAD = 2
XLSX_BATCH_ROWS = 20_000
SNIFF_BYTES = 1 << 20


@dataclass
class Table:
    """A file opened for reading: its header and a way to stream its rows."""

    path: Path
    header: list[str]
    kind: str  # "csv" or "xlsx"
    encoding: str = "utf-8"
    delimiter: str = ","
    sheet: str = ""
    width: int = 0  # the cells of a CSV's header row, empty ones at its end too

    def batches(self):
        """(file row number of the batch's first row, pyarrow RecordBatch of strings)."""
        return _csv_batches(self) if self.kind == "csv" else _xlsx_batches(self)


def use_lean_memory_pool():
    """pyarrow's jemalloc allocator, where pyarrow has it: it hands freed memory back sooner.

    An import of 300,000 rows peaked at 304 MB with it, 329 MB with the default (mimalloc),
    in the same time.
    """
    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    except NotImplementedError:
        pass


def open_table(path):
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path.name}: no such file.")
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head:
        raise InputError(f"{path.name}: the file is empty (0 bytes).")
    if head.startswith(b"%PDF"):
        raise InputError(f"{path.name}: this is a PDF document, not a CSV or XLSX file.")
    if head.startswith(b"PK\x03\x04"):
        return _open_xlsx(path)
    if encoding := _utf16(head):
        return _open_csv(path, head, encoding)
    if b"\x00" in head or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(f"{path.name}: this is a binary file, not a CSV or XLSX file (old .xls files: save as .xlsx).")
    return _open_csv(path, head)


def _check_header(path, header):
    header = [name.strip() for name in header]
    while header and not header[-1]:
        header.pop()
    if not any(header):
        raise InputError(f"{path.name}: the first row is empty; expected a header row of column names.")
    seen, duplicates = set(), []
    for name in header:
        if name.casefold() in seen and name not in duplicates:
            duplicates.append(name)
        seen.add(name.casefold())
    if duplicates:
        raise InputError(f"{path.name}: the header names the same column twice: {', '.join(duplicates)}.")
    return header


def _utf16(head):
    """The UTF-16 codec a CSV is written in (Excel's "Unicode text"), or None.

    Known by its byte-order mark, or else by the zero byte every other byte that UTF-16 gives
    the Latin letters of a header.
    """
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) and not head.startswith(b"\xff\xfe\x00\x00"):
        return "utf-16"
    even, odd = head[:200:2], head[1:200:2]
    if len(odd) > 4 and not odd.strip(b"\x00") and b"\x00" not in even:
        return "utf-16-le"
    if len(even) > 4 and not even.strip(b"\x00") and b"\x00" not in odd:
        return "utf-16-be"
    return None


def _open_csv(path, head, encoding=None):
    if b"\n" not in head and b"\r" not in head and len(head) == SNIFF_BYTES:
        raise InputError(
            f"{path.name}: no line break in its first {SNIFF_BYTES >> 20} MB; a CSV holds one row a line, "
            "so this is not a CSV table (or its lines were joined)."
        )
    if encoding:
        # A character cut at the end of the sniffed block is left out: only the header is wanted.
        text = head[: len(head) - len(head) % 2].decode(encoding, errors="replace").lstrip("\ufeff")
    else:
        text, encoding = _decode(head)
    first_line = next(iter(io.StringIO(text, newline="")), "")
    # The delimiter is whichever of , and ; splits the header into more columns.
    counts = {delimiter: len(next(csv.reader([first_line], delimiter=delimiter))) for delimiter in ",;"}
    delimiter = max(counts, key=counts.get)
    header = _check_header(path, next(csv.reader([first_line], delimiter=delimiter)))
    return Table(path=path, header=header, kind="csv", encoding=encoding, delimiter=delimiter, width=counts[delimiter])


def _decode(head):
    """The sniffed head as text, and its encoding: UTF-8, else Windows-1252."""
    try:
        text, encoding = head.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as error:
        # A cut multi-byte character at the end of the sniffed block is still UTF-8.
        if error.start >= len(head) - 3 and len(head) == SNIFF_BYTES:
            text, encoding = head[: error.start].decode("utf-8-sig"), "utf-8"
        else:
            text, encoding = head.decode("cp1252", errors="replace"), "cp1252"
    return text, encoding


def _csv_batches(table):
    names = table.header
    # The columns by position, named as the header was read (its names trimmed): pyarrow's own
    # names keep the spaces around them, and " Borough" was then a column it could not find.
    positions = [f"f{i}" for i in range(table.width)]
    read_options = pacsv.ReadOptions(
        encoding="utf8" if table.encoding == "utf-8" else table.encoding,
        block_size=BLOCK_BYTES,
        use_threads=False,
        skip_rows=1,
        column_names=positions,
    )
    parse_options = pacsv.ParseOptions(delimiter=table.delimiter, newlines_in_values=True)
    wanted = positions[: len(names)]
    convert_options = pacsv.ConvertOptions(
        column_types=dict.fromkeys(wanted, pa.string()), strings_can_be_null=False, include_columns=wanted
    )
    row = 2
    try:
        reader = pacsv.open_csv(table.path, read_options, parse_options, convert_options)
        for batch in read_ahead(_put_together(reader, BATCH_BYTES)):
            if batch.num_rows:
                yield row, batch.rename_columns(names)
                row += batch.num_rows
    except pa.ArrowInvalid as error:
        raise InputError(f"{table.path.name}: {_arrow_message(error, row)}") from None


def _put_together(batches, size):
    """The batches, concatenated into batches of at least `size` bytes (but the last)."""
    parts, held = [], 0
    for batch in batches:
        parts.append(batch)
        held += batch.nbytes
        if held >= size:
            yield pa.concat_batches(parts)
            parts, held = [], 0
    if parts:
        yield pa.concat_batches(parts)


def read_ahead(batches, depth=READ_AHEAD):
    """Yield from `batches`, read in a thread `depth` items ahead of the consumer.

    pyarrow parses without the GIL, so the next block is parsed while this one is converted;
    the bounded queue keeps memory to a few blocks however large the file (pyarrow's own
    threaded reader runs ahead as far as it can).
    """
    queue, stop, done = Queue(maxsize=depth), Event(), object()

    def put(item):
        while not stop.is_set():  # the consumer may give up (an error): then stop reading
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                pass
        return False

    def produce():
        try:
            for item in batches:
                if not put(item):
                    return
            put(done)
        except BaseException as error:  # noqa: BLE001 - handed over to the consumer
            put(error)

    Thread(target=produce, daemon=True).start()
    try:
        while (item := queue.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


def _arrow_message(error, row):
    message = str(error)
    if "CSV parse error" in message:
        # pyarrow says "CSV parse error: Row #4: Expected 2 columns, got 3: <the line>".
        detail = message.split(":", 1)[-1].strip()
        where = f"at row {row} or after"
        if match := re.match(r"Row #(\d+): (.*)", detail):
            where, detail = f"at row {match[1]}", match[2]
        detail, _, line = detail.partition(": ")
        shown = f" in the line '{line[:80]}'" if line else ""
        return f"the CSV is malformed {where}: {detail.lower()}{shown}."
    if "straddl" in message:
        # pyarrow says "straddling object straddles two block boundaries": a row longer than a block.
        return f"a row at row {row} or after is longer than {BLOCK_BYTES >> 20} MB; are its line breaks missing?"
    if "invalid UTF8" in message or "UTF-8" in message:
        return f"the file is not valid UTF-8 text near row {row} or after; save it as UTF-8 or Windows-1252."
    return f"the file could not be read near row {row} or after ({message})."


def _open_xlsx(path):
    from openpyxl import load_workbook

    _check_expansion(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - zip files that are not workbooks fail in many ways
        raise InputError(f"{path.name}: a ZIP file but not an Excel workbook (.xlsx).") from None
    sheet = "UoF" if "UoF" in workbook.sheetnames else workbook.sheetnames[0]
    rows = workbook[sheet].iter_rows(values_only=True)
    header = next(rows, None)
    workbook.close()
    if header is None:
        raise InputError(f"{path.name}: sheet '{sheet}' is empty.")
    header = _check_header(path, [_cell_text(value) for value in header])
    return Table(path=path, header=header, kind="xlsx", sheet=sheet)


def _check_expansion(path):
    """Refuse a ZIP that expands past the limit (a "zip bomb"): its parts' sizes are read, not expanded.

    zipfile never gives more than a part's stated size, so the stated sizes bound what reading
    it can take.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            expanded = sum(part.file_size for part in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        raise InputError(f"{path.name}: a ZIP file but not an Excel workbook (.xlsx).") from None
    limit = settings.IMPORT_XLSX_MAX_EXPANDED_BYTES
    if expanded > limit:
        expanded, limit = (filesizeformat(size).replace("\xa0", " ") for size in (expanded, limit))
        raise InputError(
            f"{path.name}: the workbook expands to {expanded}, past the limit of {limit} for an XLSX; nothing was "
            "imported (save it as CSV, or split it)."
        )


def _cell_text(value):
    """A cell as the text a CSV export of it would hold."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        text = value.isoformat(sep=" ") if hasattr(value, "hour") and hasattr(value, "year") else value.isoformat()
        return text.removesuffix(" 00:00:00")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _xlsx_batches(table):
    from openpyxl import load_workbook

    workbook = load_workbook(table.path, read_only=True, data_only=True)
    try:
        rows = workbook[table.sheet].iter_rows(min_row=2, values_only=True)
        width = len(table.header)
        start, buffer = 2, []
        for row in rows:
            cells = [_cell_text(value) for value in row[:width]]
            buffer.append(cells + [""] * (width - len(cells)))
            if len(buffer) == XLSX_BATCH_ROWS:
                yield start, _batch_of(table.header, buffer)
                start, buffer = start + len(buffer), []
        # Trailing blank rows are formatting, not records.
        while buffer and not any(buffer[-1]):
            buffer.pop()
        if buffer:
            yield start, _batch_of(table.header, buffer)
    finally:
        workbook.close()


def _batch_of(header, rows):
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in header]
    return pa.RecordBatch.from_arrays([pa.array(column, pa.string()) for column in columns], names=header)


class Problems:
    """Problems found in a file: every one counted, the first 50 (by row) kept to show.

    Problems of the batch being read are also kept by row, for its reject file.
    """

    SHOWN = 50

    def __init__(self):
        self.count = 0
        self.first = []
        self.by_row = {}

    def add(self, row, column, value, phrase):
        message = f"row {row}, {column}: '{value}' {phrase}"
        self.count += 1
        self.by_row.setdefault(row, []).append(message)
        self.first.append((row, message))
        if len(self.first) > 4 * self.SHOWN:
            self.first = sorted(self.first)[: self.SHOWN]

    def file_problem(self, message):
        self.count += 1
        self.first.append((0, message))

    def take_batch(self):
        """{row: [messages]} of the batch just read, forgotten here."""
        rows, self.by_row = self.by_row, {}
        return rows

    def summary(self):
        shown = [message for _, message in sorted(self.first)[: self.SHOWN]]
        if self.count > len(shown):
            shown.append(f"… and {self.count - len(shown)} more problem(s).")
        return shown
