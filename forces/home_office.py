"""Import published figures from the Home Office "Police use of force statistics" data tables,
and from the TASER statistics that preceded them (calendar years to 2016).

The tables come as ODS (older editions) or XLSX; python-calamine reads both. Editions differ in
sheet order, in the rows above and below each table, in column positions and even in which
columns a table has (the 2017/18 edition's CED table has no Financial year column), so tables
are found by their title, the header row by its "Police force" cell and columns by their
header text, never by position.

A figure's period is whatever the edition says it is: a year column, else the table's title,
else its line on the contents sheet, else the edition's cover or contents heading, else the file
name. Financial years, quarters (January to March 2017) and calendar years are told apart and
never taken for one another.
"""

import datetime
import re
from pathlib import Path

from django.db import transaction
from python_calamine import CalamineError, CalamineWorkbook

from forces.models import Edition, Force, PublishedFigure
from forces.periods import PUBLICATION_LABEL, REVISED, periods_in, publication_date, unit_of
from forces.services import InputError
from forces.versions import bump_figures_version

Measure = PublishedFigure.Measure

FORCE_TABLE = "use of force by police force"
CED_TABLE = "use of CED by type and police force"

# Header text, normalised (see `normalise`), → measure.
FORCE_TABLE_COLUMNS = {
    "total": Measure.USE_OF_FORCE_TOTAL,
    "total incidents": Measure.USE_OF_FORCE_TOTAL,
    "total reports": Measure.USE_OF_FORCE_TOTAL,
    "number of incidents": Measure.USE_OF_FORCE_TOTAL,
    "number of reports": Measure.USE_OF_FORCE_TOTAL,
}
CED_TABLE_COLUMNS = {
    "total": Measure.CED_TOTAL,
    "total non discharge": Measure.CED_NON_DISCHARGE,
    "drawn": Measure.CED_DRAWN,
    "aimed": Measure.CED_AIMED,
    "red dot": Measure.CED_RED_DOTTED,
    "red dotted": Measure.CED_RED_DOTTED,
    "arced": Measure.CED_ARCED,
    "total discharge": Measure.CED_DISCHARGE,
    "drive stun": Measure.CED_DRIVE_STUN,
    "fired": Measure.CED_FIRED,
    "angled drive stun": Measure.CED_ANGLE_DRIVE_STUN,
    "angle drive stun": Measure.CED_ANGLE_DRIVE_STUN,
    "ced not stated": Measure.CED_NOT_STATED,
    "not stated": Measure.CED_NOT_STATED,
}
TABLE_COLUMNS = {FORCE_TABLE: FORCE_TABLE_COLUMNS, CED_TABLE: CED_TABLE_COLUMNS}
REQUIRED_MEASURE = {FORCE_TABLE: Measure.USE_OF_FORCE_TOTAL, CED_TABLE: Measure.CED_TOTAL}
# "Police Force/Region" in the 2016 TASER tables, where regions are rows of the same column.
FORCE_COLUMN_NAMES = {"police force", "police force area", "police force region"}
YEAR_COLUMN_NAMES = {"financial year", "year", "calendar year", "period"}

# ":" is the Home Office's "not available"; the bracketed ones are the newer government
# statistics symbols for not available, confidential and not applicable.
NOT_AVAILABLE = {":", "..", "[x]", "[c]", "[z]"}
# Footnote markers after a name: "Hampshire (R)" (revised), "Kent (1)", "Essex [note 4]", "Kent¹".
# Longer brackets are kept: "(excluding BTP)" says what a total covers.
FOOTNOTE_MARKER = re.compile(r"\s*(\((?:[a-z]|\d{1,2})\)|\[(?:[a-z]|\d{1,2}|note \d+)\]|[¹²³⁴⁵⁶⁷⁸⁹⁰]+)$", re.IGNORECASE)
NOTES_MARKERS = {"note", "notes", "source", "sources", "footnotes"}
# Rows above the header: a title, a "Contents" link, blank rows; never this many.
HEADER_SEARCH_ROWS = 50
# The national totals, by their key (ForceNames.key), as stored whatever an edition's spelling or case.
AGGREGATE_NAMES = {"england and wales": "England and Wales", "england": "England", "wales": "Wales"}


def normalise(text):
    """Header or title text as lower-case words: line breaks, hyphens and footnote markers go."""
    text = FOOTNOTE_MARKER.sub("", " ".join(str(text).split()))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def table_kind(title):
    """Which of the two tables a title names, or None.

    Table 12 of 2019/20 is "Incidents by police force"; Table 13 "Use of CED by type and police
    force"; the "by police force and officer perceived age …" tables are neither.
    """
    text = normalise(title)
    # "… by police force and officer perceived age" breaks the force total down further; "by
    # police force and region" does not.
    if not re.search(r"\bpolice force\b(?! and (?!region\b))", text) or "tactic" in text:
        return None
    if re.search(r"\bced\b|\bconducted energy\b|\btaser\b", text):
        return CED_TABLE if re.search(r"\btype\b", text) else None
    if re.search(r"\b(incidents|reports|use of force)\b", text):
        return FORCE_TABLE
    return None


def cell_text(row, position):
    cell = row[position] if position < len(row) else ""
    return cell.strip() if isinstance(cell, str) else cell


def is_empty(cell):
    return cell is None or (isinstance(cell, str) and not cell.strip())


def column_letter(position):
    letters = ""
    position += 1
    while position:
        position, remainder = divmod(position - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


class Sheet:
    """One sheet's rows, with the sheet name for error messages.

    Rows are read from A1 (calamine would otherwise drop empty leading rows and columns), so
    row and column numbers in messages are the ones a spreadsheet program shows.
    """

    def __init__(self, name, rows):
        self.name = name
        self.rows = rows

    def error(self, row_index, message, column=None):
        where = f"{self.name}, row {row_index + 1}"
        if column is not None:
            where += f", column {column}"
        return InputError(f"{where}: {message}")


def find_header(sheet):
    """(row index, normalised header cells) of the row holding a "Police force" cell, or None."""
    for index, row in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
        names = [normalise(cell) if isinstance(cell, str) else "" for cell in row]
        if FORCE_COLUMN_NAMES & set(names):
            return index, names
    return None


def find_title(sheet, header_index):
    for row in sheet.rows[:header_index]:
        for cell in row:
            if isinstance(cell, str) and cell.strip() and normalise(cell) != "contents":
                return " ".join(cell.split())
    return ""


class Forces:
    """Home Office row labels → forces; totals and unknown names are told apart here."""

    def __init__(self):
        forces = list(Force.objects.all())
        if not forces:
            raise InputError("No forces are loaded; run load_forces first.")
        # The Home Office name first; the 2016 tables write "Metropolitan Police", the ONS name.
        self.by_name = {}
        for field in ("home_office_name", "ons_name", "name"):
            for force in forces:
                self.by_name.setdefault(self.key(getattr(force, field)), force)
        regions = {self.key(force.region): force.region for force in forces if force.region}
        self.regions = set(regions)
        self.aggregates = {**AGGREGATE_NAMES, **regions}

    @staticmethod
    def key(name):
        # Later editions may write "Avon and Somerset" where 2019/20 writes "Avon & Somerset".
        return " ".join(name.replace("&", " and ").lower().split())

    @staticmethod
    def clean(label):
        text = " ".join(label.split())
        starred = text.startswith("*")
        text = text.lstrip("*").strip()
        while FOOTNOTE_MARKER.search(text):
            text = FOOTNOTE_MARKER.sub("", text).strip()
        return text, starred

    def read(self, label, next_label=""):
        """(geography as stored, force or None for a total), or None for an unknown name.

        Forces are stored under their Home Office name, totals as "Total <name>", so that the
        editions' spellings ("Devon and Cornwall", "Metropolitan Police", "North East") meet.
        """
        text, starred = self.clean(label)
        key = self.key(text)
        if starred or key == "total" or key.startswith("total "):
            name = text[len("total") :].strip() if key.startswith("total ") else text
            return (text if key == "total" else self.total(name)), None
        force = self.by_name.get(key)
        # West Midlands is a force and a region. Where regions are rows (the 2016 tables), the
        # region's row comes first and is followed by its forces; the force's row is not.
        if force is not None and key in self.regions:
            following = self.by_name.get(self.key(self.clean(next_label)[0])) if next_label else None
            if following is not None and following != force and self.key(following.region) == key:
                force = None
        if force is not None:
            return force.home_office_name, force
        if key in self.aggregates:
            return self.total(text), None
        return None

    def total(self, name):
        """A total's geography: "Total <name>", in one spelling for every edition ("ENGLAND & WALES" too)."""
        return f"Total {self.aggregates.get(self.key(name), name)}"


def parse_count(sheet, row_index, column, cell):
    """A published count as an int, None where published as not available."""
    if isinstance(cell, bool):
        pass
    elif isinstance(cell, int | float):
        if cell >= 0 and cell == int(cell):
            return int(cell)
    elif isinstance(cell, str):
        text = cell.strip()
        if text.lower() in NOT_AVAILABLE:
            return None
        # Counts typed as text keep their thousands separators: "1,037".
        digits = text.replace(",", "")
        if re.fullmatch(r"\d+", digits):
            return int(digits)
    shown = "empty" if is_empty(cell) else f"'{cell}'"
    raise sheet.error(row_index, f"{shown} is not a count; expected a whole number, or ':' for not available.", column)


def table_periods(sheet, title, book):
    """The one period of a table without a year column: from its title, its line on the contents
    sheet, the edition's cover or contents heading, or else the file name, in that order."""
    entry = book.contents_entry(sheet.name)
    sources = [("its title", title), ("the contents sheet", entry), ("the cover sheet", book.heading)]
    sources.append(("the file name", book.path.name))
    for source, text in sources:
        found = periods_in(text)
        if len(found) > 1:
            names = ", ".join(period.label for period in found)
            raise InputError(
                f"{sheet.name}: the table '{title}' has no year column and {source} names several periods "
                f"({names}); expected one period, or a Financial year column."
            )
        if found:
            period = found[0]
            # "Revised ... 2015" (2016 tables); "January to December 2016 revisions" (2017/18).
            return period.revised() if REVISED.search(f"{title} {entry}") else period
    raise InputError(
        f"{sheet.name}: the table '{title}' has no year column, and neither its title, the contents sheet, the cover "
        "sheet nor the file name names its period; expected a title such as '1 April 2017 to 31 March 2018'."
    )


def read_table(sheet, kind, header_index, header, forces, book):
    """Figures of one table as {(period, geography, measure): (value, force, sheet, row index)}."""
    title = find_title(sheet, header_index)
    header_row = sheet.rows[header_index]
    force_position = next(position for position, name in enumerate(header) if name in FORCE_COLUMN_NAMES)
    year_position = next((position for position, name in enumerate(header) if name in YEAR_COLUMN_NAMES), None)
    measures = {}
    for position, name in enumerate(header):
        measure = TABLE_COLUMNS[kind].get(name)
        if measure is None:
            continue
        if measure in measures.values():
            raise sheet.error(
                header_index, f"two columns read as '{measure.label}'; expected one.", column_letter(position)
            )
        measures[position] = measure
    if REQUIRED_MEASURE[kind] not in measures.values():
        raise sheet.error(header_index, f"the header of the table '{title}' has no Total column; expected one.")
    table_period = table_periods(sheet, title, book) if year_position is None else None
    rows = []
    for index in range(header_index + 1, len(sheet.rows)):
        row = sheet.rows[index]
        first_text = next((normalise(cell) for cell in row if isinstance(cell, str) and cell.strip()), "")
        if first_text.split(" ")[0] in NOTES_MARKERS:
            break
        # Blank rows, notes and section headings have no counts; they are not part of the table.
        if all(is_empty(cell_text(row, position)) for position in measures):
            continue
        rows.append((index, row))
    figures = {}
    force_column = f"{column_letter(force_position)} ({header_row[force_position].strip()})"
    for number, (index, row) in enumerate(rows):
        label = cell_text(row, force_position)
        if is_empty(label):
            raise sheet.error(index, "empty; expected a police force or a total row.", force_column)
        if not isinstance(label, str):
            raise sheet.error(index, f"'{label}' is not a name; expected a police force or a total row.", force_column)
        next_label = cell_text(rows[number + 1][1], force_position) if number + 1 < len(rows) else ""
        geography = forces.read(label, next_label if isinstance(next_label, str) else "")
        if geography is None:
            raise sheet.error(
                index,
                f"'{label}' is not a known Home Office force name; expected one of the forces load_forces loads, "
                "or a total row.",
                force_column,
            )
        geography, force = geography
        period = table_period
        if period is None:
            year_cell = cell_text(row, year_position)
            try:
                found = periods_in(year_cell)
            except InputError as error:
                raise sheet.error(index, str(error), column_letter(year_position)) from None
            if len(found) != 1:
                raise sheet.error(
                    index,
                    f"'{year_cell}' is not one period; expected a financial year such as 2019/20.",
                    f"{column_letter(year_position)} ({header_row[year_position].strip()})",
                )
            period = found[0]
        for position, measure in measures.items():
            column = f"{column_letter(position)} ({' '.join(header_row[position].split())})"
            value = parse_count(sheet, index, column, cell_text(row, position))
            key = (period, geography, measure)
            if key in figures:
                raise sheet.error(
                    index,
                    f"'{label}' for {period.label} appears twice (first on row {figures[key][3] + 1}); "
                    "expected one row.",
                    force_column,
                )
            figures[key] = (value, force, sheet.name, index)
    if not figures:
        raise sheet.error(header_index, f"the table '{title}' has a header but no rows of figures.")
    return figures


def row_texts(rows):
    return [" ".join(cell.split()) for row in rows for cell in row if isinstance(cell, str) and cell.strip()]


def labelled_date(rows):
    """A date cell beside a "Publication date" or "Published" label cell, or None."""
    for row in rows:
        cells = [cell for cell in row if not is_empty(cell)]
        for label, value in zip(cells, cells[1:], strict=False):
            if isinstance(label, str) and PUBLICATION_LABEL.fullmatch(normalise(label)):
                if isinstance(value, datetime.datetime):
                    return value.date()
                if isinstance(value, datetime.date):
                    return value
    return None


class Book:
    """What an edition says about itself: its cover and contents sheets, and its file name."""

    def __init__(self, workbook, path):
        self.path = Path(path)
        names = workbook.sheet_names
        cover = next((name for name in names if "cover" in name.lower()), None)
        contents = next((name for name in names if re.search(r"contents|index", name, re.IGNORECASE)), None)
        self.contents_rows = (
            workbook.get_sheet_by_name(contents).to_python(skip_empty_area=False) if contents is not None else []
        )
        cover_rows = workbook.get_sheet_by_name(cover).to_python(skip_empty_area=False) if cover is not None else []
        cover_texts, texts = row_texts(cover_rows), row_texts(cover_rows + self.contents_rows)
        # The publication's title: on the cover, a text naming the statistics or use of force (a
        # contents sheet also lists tables "of use of force"); on a contents or index sheet, the statistics.
        titles = [text for text in cover_texts if re.search(r"\bstatistics\b|\buse of force\b", text, re.I)]
        titles += [text for text in texts[len(cover_texts) :] if re.search(r"\bstatistics\b", text, re.I)]
        # The edition's own period: the first title that names one ("April 2018 - March 2019"), else
        # a line of the cover of its own ("April 2023 to March 2024") that is no publication or copyright line.
        own_lines = [text for text in cover_texts if not re.search(r"publi|copyright|updated|release", text, re.I)]
        self.heading = next((text for text in titles + own_lines if periods_in(text)), "")
        self.published_on = next((date for text in texts if (date := publication_date(text))), None)
        if self.published_on is None:
            self.published_on = labelled_date(cover_rows + self.contents_rows)
        title = titles[0] if titles else ""
        if title and self.published_on:
            title += f" (published {self.published_on.day} {self.published_on:%B %Y})"
        max_length = Edition._meta.get_field("name").max_length
        self.name = title[:max_length] if title else self.path.name[:max_length]

    def contents_entry(self, sheet_name):
        """The text of the table's line on the contents sheet ("12 | Incidents by police force | Year
        ending 31 March 2019"), or "" when there is none."""
        number = re.search(r"(\d+)\s*$", sheet_name)
        names = {normalise(sheet_name)}
        if number:
            names |= {f"table {int(number.group(1))}", str(int(number.group(1)))}
        for row in self.contents_rows:
            cells = [cell for cell in row if not is_empty(cell)]
            if not cells:
                continue
            first = cells[0]
            if isinstance(first, float) and first == int(first):
                first = str(int(first))
            if isinstance(first, str) and normalise(first) in names:
                # Dates are "Last updated"; whole numbers are the table's number or, in the 2016 index, its year.
                return " ".join(
                    f"{int(cell)}" if isinstance(cell, int | float) and cell == int(cell) else str(cell)
                    for cell in cells[1:]
                    if isinstance(cell, str | int | float) and not isinstance(cell, bool)
                )
        return ""


def read_ho_tables(path):
    """(book, {(period, geography, measure): (value, force, sheet, row index)}, tables found)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file.")
    if path.stat().st_size == 0:
        raise InputError(f"{path.name}: the file is empty (0 bytes).")
    forces = Forces()
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        book = Book(workbook, path)
        figures, cells = {}, {}
        tables = []
        for name in workbook.sheet_names:
            sheet = Sheet(name, workbook.get_sheet_by_name(name).to_python(skip_empty_area=False))
            found = find_header(sheet)
            if found is None:
                continue
            header_index, header = found
            kind = table_kind(find_title(sheet, header_index))
            if kind is None:
                continue
            for key, figure in read_table(sheet, kind, header_index, header, forces, book).items():
                # One value per period, geography and measure: "2016" and "2016 (revised)" are one cell.
                cell = (key[0].start, key[0].end, *key[1:])
                if cell in cells:
                    first = figures[cells[cell]]
                    raise sheet.error(
                        figure[3],
                        f"{key[1]} {key[0].label} {key[2]} is also in {first[2]}, row {first[3] + 1}; "
                        "expected each figure once.",
                    )
                cells[cell] = key
                figures[key] = figure
            tables.append((name, kind))
    except CalamineError as error:
        raise InputError(f"{path.name}: not a spreadsheet that can be read as ODS, XLSX or XLS ({error}).") from None
    if not tables:
        raise InputError(
            f"{path.name}: no table of use of force by police force, nor of use of CED by type and police force; "
            "expected the data tables of the Home Office's Police use of force statistics, or of its TASER "
            "statistics (2016 and earlier)."
        )
    return book, figures, tables


@transaction.atomic
def import_ho_tables(path):
    """Import the by-force tables of one edition into PublishedFigure; all or nothing.

    The edition is recorded with its publication date (from its cover or contents sheet, or else
    the end of the latest period it covers), which ranks it against the others: of the editions
    that publish a figure, the newest publication's is current, whatever the import order.
    Re-importing an edition replaces its figures: rows the new file no longer has are removed.
    Returns a dict: edition, published_on, tables [(sheet, kind)], periods, created, updated,
    removed, figures, superseded (figures of this edition a newer edition revises).
    """
    book, figures, tables = read_ho_tables(path)
    if book.published_on is not None:
        published_on, source = book.published_on, Edition.DateSource.PUBLICATION
    else:
        published_on, source = max(period.end for period, _, _ in figures), Edition.DateSource.LATEST_PERIOD
    edition, _ = Edition.objects.update_or_create(
        name=book.name,
        defaults={"published_on": published_on, "published_on_source": source, "file_name": book.path.name[:255]},
    )
    existing = {
        (figure.period_start, figure.period_end, figure.geography, figure.measure): figure
        for figure in edition.figures.all()
    }
    to_create, to_update = [], []
    for (period, geography, measure), (value, force, _, _) in figures.items():
        fields = {
            "force": force, "value": value, "unit": unit_of(period), "period_kind": period.kind,
            "financial_year": period.financial_year,
        }  # fmt: skip
        figure = existing.pop((period.start, period.end, geography, measure), None)
        if figure is None:
            to_create.append(
                PublishedFigure(
                    edition=edition, geography=geography, measure=measure, period_start=period.start,
                    period_end=period.end, **fields,
                )
            )  # fmt: skip
        elif any(getattr(figure, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(figure, name, value)
            to_update.append(figure)
    PublishedFigure.objects.filter(pk__in=[figure.pk for figure in existing.values()]).delete()
    PublishedFigure.objects.bulk_create(to_create)
    PublishedFigure.objects.bulk_update(to_update, ["force", "value", "unit", "period_kind", "financial_year"])
    current = PublishedFigure.objects.filter(edition=edition).current().count()
    bump_figures_version()  # figures of many forces and of England and Wales, in bulk
    periods = sorted({period for period, _, _ in figures}, key=lambda period: (period.start, period.end))
    return {
        "edition": edition.name,
        "published_on": edition.published_on,
        "published_on_source": edition.get_published_on_source_display(),
        "tables": tables,
        "periods": [period.label for period in periods],
        "figures": len(figures),
        "created": len(to_create),
        "updated": len(to_update),
        "removed": len(existing),
        "superseded": len(figures) - current,
    }
