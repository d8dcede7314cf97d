"""Column-wise reading of a batch of text columns, shared by the file formats.

Each helper converts one column with pyarrow and records a problem, naming the file row,
the column and the value, for every cell that does not fit.
"""

import re

import pyarrow as pa
import pyarrow.compute as pc

YES, NO = ("yes", "y", "true"), ("no", "n", "false")


def normal(name):
    """Column names compared case- and spacing-blind."""
    return re.sub(r"\s+", " ", name).strip().casefold()


class Columns:
    """One batch's columns by normalised name; absent optional columns read as empty."""

    def __init__(self, batch, first_row, errors, aliases=None):
        self.length = batch.num_rows
        self.first_row = first_row
        self.errors = errors
        self.by_name = {}
        # Compute functions cost the same per call whatever the length of the array, so each is
        # called once over all the columns end to end, and the result cut back into columns.
        trimmed = split(pc.utf8_trim_whitespace(pa.concat_arrays(batch.columns)), batch.num_columns, self.length)
        for name, column in zip(batch.schema.names, trimmed, strict=True):
            key = normal(name)
            self.by_name[(aliases or {}).get(key, key)] = (name, column)
        self.empty = pa.array([""] * self.length, pa.string())
        self.yes_no_read = {}

    def has(self, name):
        return normal(name) in self.by_name

    def text(self, name):
        return self.by_name.get(normal(name), (name, self.empty))[1]

    def label(self, name):
        return self.by_name.get(normal(name), (name, None))[0]

    def lowered(self, name):
        return pc.utf8_lower(self.text(name))

    def invalid(self, mask, name, expected):
        """Record an error for each row where mask is true."""
        if not pc.any(mask).as_py():
            return
        rows = pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist()
        values = pc.take(self.text(name), pa.array(rows)).to_pylist()
        for index, value in zip(rows, values, strict=True):
            self.errors.add(self.first_row + index, self.label(name), value, expected)

    def read_yes_no(self, names):
        """Read many Yes/No columns at once (see __init__); `yes_no` then answers from what was read."""
        names = [name for name in dict.fromkeys(names) if normal(name) not in self.yes_no_read]
        if not names:
            return
        lowered = pc.utf8_lower(pa.concat_arrays([self.text(name) for name in names]))
        index = pc.index_in(lowered, pa.array([*YES, *NO, ""]))
        yes = split(pc.fill_null(pc.less(index, len(YES)), False), len(names), self.length)
        blank = split(pc.equal(lowered, ""), len(names), self.length)
        invalid = pc.is_null(index)
        if pc.any(invalid).as_py():
            for name, column in zip(names, split(invalid, len(names), self.length), strict=True):
                self.invalid(column, name, "is not Yes or No")
        for name, yes_column, blank_column in zip(names, yes, blank, strict=True):
            self.yes_no_read[normal(name)] = (yes_column, blank_column)

    def yes_no(self, name, nullable=False):
        """Yes → true, No → false; blank is false (unticked), or null where it means not stated."""
        self.read_yes_no([name])
        yes, blank = self.yes_no_read[normal(name)]
        return pc.if_else(blank, pa.scalar(None, pa.bool_()), yes) if nullable else yes

    def choice(self, name, mapping, expected, value_type=None):
        lowered = self.lowered(name)
        keys = pa.array(list(mapping))
        self.invalid(pc.invert(pc.is_in(lowered, keys)), name, expected)
        return pc.take(pa.array(list(mapping.values()), value_type or pa.string()), pc.index_in(lowered, keys))

    def whole_number(self, name):
        text = self.text(name)
        numeric = pc.match_substring_regex(text, r"^\d{1,4}(\.0+)?$")
        self.invalid(pc.and_(pc.not_equal(text, ""), pc.invert(numeric)), name, "is not a whole number")
        digits = pc.if_else(numeric, pc.replace_substring_regex(text, r"\.0+$", ""), pa.scalar(None, pa.string()))
        return pc.cast(digits, pa.int64())


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
    text = pc.utf8_trim_whitespace(pc.utf8_slice_codeunits(columns.text(name), 0, 10))
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
    parsed = pc.if_else(pc.fill_null(rolled_over, True), pa.scalar(None, parsed.type), parsed)
    blank = pc.equal(columns.text(name), "")
    columns.invalid(blank, name, "is empty; the date of the incident is required")
    columns.invalid(
        pc.and_(pc.invert(blank), pc.is_null(parsed)), name, "is not a date (expected YYYY-MM-DD or DD/MM/YYYY)"
    )
    return pc.cast(parsed, pa.date32())


def times(columns, name):
    text = columns.text(name)
    valid = pc.match_substring_regex(text, r"^([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")
    columns.invalid(pc.and_(pc.not_equal(text, ""), pc.invert(valid)), name, "is not a time of day (expected HH:MM)")
    padded = pc.utf8_lpad(text, 5, "0")
    return pc.if_else(valid, pc.binary_join_element_wise(pc.utf8_slice_codeunits(padded, 0, 5), ":00", ""), None)


def any_of(arrays, length):
    result = pa.array([False] * length)
    for array in arrays:
        result = pc.or_(result, array)
    return result
