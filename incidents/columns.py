"""Column-wise reading of a batch of text columns, shared by the file formats.

Each helper converts one column with pyarrow and records a problem, naming the file row,
the column and the value, for every cell that does not fit.
"""

import re
from functools import cache

import pyarrow as pa
import pyarrow.compute as pc

YES, NO = ("yes", "y", "true"), ("no", "n", "false")


@cache  # called for every column of every batch, with the same few hundred names
def normal(name):
    """Column names compared case- and spacing-blind."""
    return re.sub(r"\s+", " ", name).strip().casefold()


def unquoted_formulas(text):
    """Cells our CSVs wrote as '=… (oversight.api.neutralised, so no spreadsheet runs them) read back as =…."""
    if not pc.any(pc.starts_with(text, "'")).as_py():  # nearly always: one cheap pass, no regex
        return text
    return pc.replace_substring_regex(text, r"^'([=+\-@\t\r])", r"\1")


class Columns:
    """One batch's columns by normalised name; absent optional columns read as empty."""

    def __init__(self, batch, first_row, errors, aliases=None):
        self.length = batch.num_rows
        self.first_row = first_row
        self.errors = errors
        self.by_name = {}
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            key = normal(name)
            self.by_name[(aliases or {}).get(key, key)] = (name, column)
        self.empty = pa.repeat("", self.length)
        self.trimmed = {}
        self.yes_no_read = {}
        self.numbers_read = {}

    def has(self, name):
        return normal(name) in self.by_name

    def raw(self, name):
        """The cells as in the file, untrimmed."""
        return self.by_name.get(normal(name), (name, self.empty))[1]

    def text(self, name):
        """The cells, trimmed. Trimmed on first use, as most columns are only read by read_yes_no."""
        key = normal(name)
        if key not in self.trimmed:
            self.trimmed[key] = unquoted_formulas(pc.utf8_trim_whitespace(self.raw(name)))
        return self.trimmed[key]

    def label(self, name):
        return self.by_name.get(normal(name), (name, None))[0]

    def invalid(self, mask, name, expected):
        """Record an error for each row where mask is true."""
        if not pc.any(mask).as_py():
            return
        rows = pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist()
        values = pc.take(self.text(name), pa.array(rows)).to_pylist()
        for index, value in zip(rows, values, strict=True):
            self.errors.add(self.first_row + index, self.label(name), value, expected)

    def within_length(self, name, most):
        """The column's text, each value longer than `most` characters reported and blanked."""
        text = self.text(name)
        too_long = pc.greater(pc.utf8_length(text), most)
        self.invalid(too_long, name, f"is longer than {most} characters")
        return pc.if_else(too_long, "", text)

    def read_yes_no(self, names):
        """Read many Yes/No columns at once, end to end; `yes_no` then answers from what was read.

        Compute functions cost little per call but a lot per cell, and these columns are most
        of the file. Nearly every cell is exactly Yes, No or blank, which one comparison each
        recognises; only the other cells are trimmed, lowered and looked up.
        """
        names = [name for name in dict.fromkeys(names) if normal(name) not in self.yes_no_read]
        if not names:
            return
        cells = pa.concat_arrays([self.raw(name) for name in names])
        yes, blank = pc.equal(cells, "Yes"), pc.equal(pc.binary_length(cells), 0)
        other = pc.invert(pc.or_(pc.or_(yes, blank), pc.equal(cells, "No")))
        if pc.any(other).as_py():
            lowered = pc.utf8_lower(pc.utf8_trim_whitespace(pc.filter(cells, other)))
            index = pc.index_in(lowered, pa.array([*YES, *NO, ""]))
            yes = pc.replace_with_mask(yes, other, pc.fill_null(pc.less(index, len(YES)), False))
            blank = pc.replace_with_mask(blank, other, pc.equal(lowered, ""))
            # Only cells among the others can be invalid: those found in no list.
            invalid = pc.replace_with_mask(other, other, pc.is_null(index))
            for name, column in zip(names, split(invalid, len(names), self.length), strict=True):
                self.invalid(column, name, "is not Yes or No")
        yes, blank = split(yes, len(names), self.length), split(blank, len(names), self.length)
        for name, yes_column, blank_column in zip(names, yes, blank, strict=True):
            self.yes_no_read[normal(name)] = (yes_column, blank_column)

    def yes_no(self, name, nullable=False):
        """Yes → true, No → false; blank is false (unticked), or null where it means not stated."""
        self.read_yes_no([name])
        yes, blank = self.yes_no_read[normal(name)]
        return pc.if_else(blank, pa.scalar(None, pa.bool_()), yes) if nullable else yes

    def choice(self, name, mapping, expected, value_type=None):
        values, index = distinct(self.text(name))
        lowered, keys = pc.utf8_lower(values), pa.array(list(mapping))
        self.invalid(pc.take(pc.invert(pc.is_in(lowered, keys)), index), name, expected)
        chosen = pc.take(pa.array(list(mapping.values()), value_type or pa.string()), pc.index_in(lowered, keys))
        return pc.take(chosen, index)

    def read_whole_numbers(self, names):
        """Read many whole-number columns at once, end to end; `whole_number` then answers from what was read."""
        names = [name for name in dict.fromkeys(names) if normal(name) not in self.numbers_read]
        if not names:
            return
        values, index = distinct(pa.concat_arrays([self.text(name) for name in names]))
        numeric = pc.match_substring_regex(values, r"^\d{1,4}(\.0+)?$")
        invalid = pc.take(pc.and_(pc.not_equal(values, ""), pc.invert(numeric)), index)
        for name, column in zip(names, split(invalid, len(names), self.length), strict=True):
            self.invalid(column, name, "is not a whole number")
        digits = pc.if_else(numeric, pc.replace_substring_regex(values, r"\.0+$", ""), pa.scalar(None, pa.string()))
        numbers = split(pc.take(pc.cast(digits, pa.int64()), index), len(names), self.length)
        for name, column in zip(names, numbers, strict=True):
            self.numbers_read[normal(name)] = column

    def whole_number(self, name):
        self.read_whole_numbers([name])
        return self.numbers_read[normal(name)]


def distinct(text):
    """The distinct values of a column, and each cell's index among them.

    Most columns hold few distinct values in a batch, and string functions (regular
    expressions above all) cost per cell: they run on the values, and the results are
    taken back.
    """
    encoded = pc.dictionary_encode(text)
    return encoded.dictionary, encoded.indices


def split(array, count, length):
    """An array of `count` columns of `length` rows laid end to end, cut back into its columns."""
    return [array.slice(i * length, length) for i in range(count)]


DATE_PATTERNS = (
    r"^(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})$",  # ISO, the time part cut off
    r"^(?P<day>\d{1,2})[/-](?P<month>\d{1,2})[/-](?P<year>\d{4})$",  # day first, as in UK spreadsheets
)


def dates(columns, name):
    """ISO dates (2021-02-28, with or without a time) or day-first dates (28/02/2021).

    Parsed from their parts and checked against the calendar: pyarrow's strptime would
    quietly roll 31/02/2021 over to 3 March.
    """
    values, index = distinct(columns.text(name))
    parsed = pc.take(parse_dates(values), index)
    blank = pc.equal(columns.text(name), "")
    columns.invalid(blank, name, "is empty; the date of the incident is required")
    columns.invalid(
        pc.and_(pc.invert(blank), pc.is_null(parsed)), name, "is not a date (expected YYYY-MM-DD or DD/MM/YYYY)"
    )
    return pc.cast(parsed, pa.date32())


def parse_dates(texts):
    """Each text as a date (a timestamp), or null."""
    text = pc.utf8_trim_whitespace(pc.utf8_slice_codeunits(texts, 0, 10))
    matches = [pc.extract_regex(text, pattern) for pattern in DATE_PATTERNS]
    year, month, day = (
        pc.cast(pc.coalesce(*(pc.struct_field(match, part) for match in matches)), pa.int32())
        for part in ("year", "month", "day")
    )
    iso = pc.binary_join_element_wise(
        pc.cast(year, pa.string()), pc.utf8_lpad(pc.cast(month, pa.string()), 2, "0"),
        pc.utf8_lpad(pc.cast(day, pa.string()), 2, "0"), "-",
    )  # fmt: skip
    parsed = pc.strptime(iso, format="%Y-%m-%d", unit="s", error_is_null=True)
    rolled_over = pc.or_(pc.not_equal(pc.day(parsed), day), pc.not_equal(pc.month(parsed), month))
    return pc.if_else(pc.fill_null(rolled_over, True), pa.scalar(None, parsed.type), parsed)


def times(columns, name):
    text = columns.text(name)
    valid = pc.match_substring_regex(text, r"^([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")
    columns.invalid(pc.and_(pc.not_equal(text, ""), pc.invert(valid)), name, "is not a time of day (expected HH:MM)")
    padded = pc.utf8_lpad(text, 5, "0")
    return pc.if_else(valid, pc.binary_join_element_wise(pc.utf8_slice_codeunits(padded, 0, 5), ":00", ""), None)


def any_of(arrays, length):
    result = pa.repeat(False, length)
    for array in arrays:
        result = pc.or_(result, array)
    return result
