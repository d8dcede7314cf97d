"""Column-wise reading of a batch of text columns, shared by the file formats.

Each helper converts one column with pyarrow and records a problem, naming the file row,
the column and the value, for every cell that does not fit. A categorical value outside its
vocabulary (incidents.vocabularies) is the exception, unless the import is strict: it is kept
as published, counted as not stated, and listed in the import's report.
"""

import collections
import json
import re
from functools import cache

import pyarrow as pa
import pyarrow.compute as pc

from incidents.vocabularies import NO, YES

YES_NO_KEYS = pa.array([label.casefold() for label in (*YES, *NO, "")])
# A longer cell is no label of any publisher's: free text, which a record does not keep.
KEPT_LENGTH = 60


@cache  # called for every column of every batch, with the same few hundred names
def normal(name):
    """Column names compared case- and spacing-blind."""
    return re.sub(r"\s+", " ", name).strip().casefold()


def unquoted_formulas(text):
    """Cells our CSVs wrote as '=… (oversight.spreadsheets.neutralised, so no spreadsheet runs them) read back as =…."""
    if not pc.any(pc.starts_with(text, "'")).as_py():  # nearly always: one cheap pass, no regex
        return text
    return pc.replace_substring_regex(text, r"^'([=+\-@\t\r])", r"\1")


class Columns:
    """One batch's columns by normalised name; absent optional columns read as empty."""

    def __init__(self, batch, first_row, errors, aliases=None, unrecognised=None):
        self.length = batch.num_rows
        # The import's Unrecognised, or None (strict): values outside a vocabulary are then problems.
        self.unrecognised = unrecognised
        self.kept = {}  # column as in the file → its values kept as published (null where recognised)
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

    def outside(self, mask, name, expected, counted_as):
        """Cells (where mask) holding a value outside the column's vocabulary: problems if strict, else kept."""
        if not pc.any(mask).as_py():
            return
        if self.unrecognised is None:
            self.invalid(mask, name, expected)
            return
        text = self.text(name)
        too_long = pc.and_(mask, pc.greater(pc.utf8_length(text), KEPT_LENGTH))
        self.invalid(too_long, name, f"{expected}, and is too long to be a label (over {KEPT_LENGTH} characters)")
        kept = pc.if_else(pc.and_(mask, pc.invert(too_long)), text, pa.scalar(None, pa.string()))
        self.kept[self.label(name)] = kept
        self.unrecognised.found(self.label(name), kept, counted_as)

    def kept_as_published(self):
        """Each row's kept values as a JSON object by column ("{}" for none); None if the batch has none."""
        if not self.kept:
            return None
        fragments = []
        for label, values in self.kept.items():
            texts, index = distinct(values)
            quoted = pa.array([json.dumps(text, ensure_ascii=False) for text in texts.to_pylist()], pa.string())
            fragment = pc.binary_join_element_wise(f"{json.dumps(label)}: ", pc.take(quoted, index), ", ", "")
            fragments.append(pc.fill_null(fragment, ""))
        # Each fragment ends in ", " (the last one's cut off) and each value in a quote, which the cut keeps.
        joined = pc.utf8_rtrim(pc.binary_join_element_wise(*fragments, ""), characters=", ")
        return pc.binary_join_element_wise("{", joined, "}", "")

    def within_length(self, name, most):
        """The column's text, each value longer than `most` characters reported and blanked."""
        text = self.text(name)
        too_long = pc.greater(pc.utf8_length(text), most)
        self.invalid(too_long, name, f"is longer than {most} characters")
        return pc.if_else(too_long, "", text)

    def read_yes_no(self, names, lenient=()):
        """Read many Yes/No columns at once, end to end; `yes_no` then answers from what was read.

        Compute functions cost little per call but a lot per cell, and these columns are most
        of the file. Nearly every cell is exactly Yes, No or blank, which one comparison each
        recognises; only the other cells are trimmed, lowered and looked up. Other values are
        problems, but in the `lenient` columns (the form's options, not the CED ladder's), where
        they are kept and read as blank.
        """
        lenient = {normal(name) for name in lenient}
        names = [name for name in dict.fromkeys(names) if normal(name) not in self.yes_no_read]
        if not names:
            return
        cells = pa.concat_arrays([self.raw(name) for name in names])
        yes, blank = pc.equal(cells, "Yes"), pc.equal(pc.binary_length(cells), 0)
        other = pc.invert(pc.or_(pc.or_(yes, blank), pc.equal(cells, "No")))
        if pc.any(other).as_py():
            lowered = pc.utf8_lower(pc.utf8_trim_whitespace(pc.filter(cells, other)))
            index = pc.index_in(lowered, YES_NO_KEYS)
            yes = pc.replace_with_mask(yes, other, pc.fill_null(pc.less(index, len(YES)), False))
            # A value outside the vocabulary reads as blank: not stated (it is a problem, or kept).
            blank = pc.replace_with_mask(blank, other, pc.or_(pc.equal(lowered, ""), pc.is_null(index)))
            # Only cells among the others can be invalid: those found in no list.
            invalid = pc.replace_with_mask(other, other, pc.is_null(index))
            for name, column in zip(names, split(invalid, len(names), self.length), strict=True):
                if normal(name) in lenient:
                    self.outside(column, name, "is not Yes or No", "not stated")
                else:
                    self.invalid(column, name, "is not Yes or No")
        yes, blank = split(yes, len(names), self.length), split(blank, len(names), self.length)
        for name, yes_column, blank_column in zip(names, yes, blank, strict=True):
            self.yes_no_read[normal(name)] = (yes_column, blank_column)

    def yes_no(self, name, nullable=False):
        """Yes → true, No → false; blank is false (unticked), or null where it means not stated."""
        self.read_yes_no([name])
        yes, blank = self.yes_no_read[normal(name)]
        return pc.if_else(blank, pa.scalar(None, pa.bool_()), yes) if nullable else yes

    def choice(self, name, vocabulary, value_type=None, strict=False):
        """The column's labels as the vocabulary's values; one outside it is not stated (see `outside`)."""
        values, index = distinct(self.text(name))
        at = vocabulary.lookup(values)
        outside = pc.take(pc.is_null(at), index)
        if strict:
            self.invalid(outside, name, vocabulary.expected)
        else:
            self.outside(outside, name, vocabulary.expected, vocabulary.counted_as)
        chosen = pc.take(vocabulary.values(value_type), at)
        if vocabulary.not_stated is not None:
            chosen = pc.fill_null(chosen, vocabulary.not_stated)
        return pc.take(chosen, index)

    def known(self, name, vocabulary):
        """Whether each cell is a label of the vocabulary."""
        values, index = distinct(self.text(name))
        return pc.take(pc.is_valid(vocabulary.lookup(values)), index)

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


class Unrecognised:
    """The values outside the vocabularies an import kept, counted by column and value (for its report)."""

    SHOWN = 50  # values listed per column; the others are counted in a note

    def __init__(self):
        self.rows = collections.defaultdict(collections.Counter)  # column → {value: rows}
        self.counted_as = {}
        self.batch = []

    def start_batch(self):
        """Forget what an earlier batch found: its rows were counted, or none of it is written."""
        self.batch = []

    def found(self, column, kept, counted_as):
        self.batch.append((column, kept))
        self.counted_as[column] = counted_as

    def count(self, written):
        """Count the values found in the batch just converted, in its rows written (a numpy mask)."""
        mask = pa.array(written)
        for column, kept in self.batch:
            counts = pc.value_counts(pc.drop_null(pc.filter(kept, mask)))
            for value, rows in zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True):
                self.rows[column][value] += rows
        self.batch = []

    def report(self):
        """([{column, value, rows, counted_as}, …] by column, most rows first; notes of the values not listed)."""
        listed, notes = [], []
        for column in sorted(self.rows, key=str.casefold):
            values = self.rows[column].most_common()
            listed += [
                {"column": column, "value": value, "rows": rows, "counted_as": self.counted_as[column]}
                for value, rows in values[: self.SHOWN]
            ]
            if len(values) > self.SHOWN:
                rest = values[self.SHOWN :]
                notes.append(
                    f"{column}: {len(rest)} more unrecognised value(s) in {sum(rows for _, rows in rest)} row(s), "
                    f"not listed, also counted as {self.counted_as[column]}."
                )
        return listed, notes


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
