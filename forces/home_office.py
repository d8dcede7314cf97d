"""Import published figures from the Home Office "Police use of force statistics" data tables.

The tables come as ODS (older editions) or XLSX; python-calamine reads both. Editions differ in
sheet order, in the rows above and below each table, in column positions and even in which
columns a table has (the 2017/18 edition's CED table has no Financial year column), so tables
are found by their title, the header row by its "Police force" cell and columns by their
header text, never by position.
"""

import re
from pathlib import Path

from django.db import transaction
from python_calamine import CalamineError, CalamineWorkbook

from forces.models import Force, PublishedFigure
from forces.services import InputError

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
FORCE_COLUMN_NAMES = {"police force", "police force area"}
YEAR_COLUMN_NAMES = {"financial year", "year"}

# ":" is the Home Office's "not available"; the bracketed ones are the newer government
# statistics symbols for not available, confidential and not applicable.
NOT_AVAILABLE = {":", "..", "[x]", "[c]", "[z]"}
# Footnote markers after a name: "Hampshire (R)" (revised), "Kent (1)", "Essex [note 4]", "Kent¹".
# Longer brackets are kept: "(excluding BTP)" says what a total covers.
FOOTNOTE_MARKER = re.compile(r"\s*(\((?:[a-z]|\d{1,2})\)|\[(?:[a-z]|\d{1,2}|note \d+)\]|[¹²³⁴⁵⁶⁷⁸⁹⁰]+)$", re.IGNORECASE)
NOTES_MARKERS = {"note", "notes", "source", "sources", "footnotes"}
# Rows above the header: a title, a "Contents" link, blank rows; never this many.
HEADER_SEARCH_ROWS = 50
# The Home Office called a form an "incident" up to 2022/23 and a "report" from 2023/24.
FIRST_YEAR_OF_REPORTS = 2023
AGGREGATE_NAMES = {"england and wales", "england", "wales"}


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
    if re.search(r"\bced\b|\bconducted energy\b", text):
        return CED_TABLE if re.search(r"\btype\b", text) else None
    if re.search(r"\b(incidents|reports|use of force)\b", text):
        return FORCE_TABLE
    return None


def financial_years(text):
    """Start years of the financial years a title or cell names.

    "2019/20" and "2019-20"; "year ending (31) March 2020"; "(1) April 2017 to (31) March 2020".
    """
    text = " ".join(str(text).split())
    years = set()
    for start, end in re.findall(r"\b(20\d\d)\s*[/-]\s*(20\d\d|\d\d)\b", text):
        if int(end[-2:]) == (int(start) + 1) % 100:
            years.add(int(start))
    ends = [int(year) for year in re.findall(r"\bmarch\s+(20\d\d)\b", text, re.IGNORECASE)]
    starts = [int(year) for year in re.findall(r"\bapril\s+(20\d\d)\b", text, re.IGNORECASE)]
    if ends:
        last = max(ends)
        first = min(starts) if starts else last - 1
        years.update(range(first, last))
    return sorted(years)


def financial_year_label(start):
    return f"{start}/{(start + 1) % 100:02d}"


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
        self.by_name = {self.key(force.home_office_name): force for force in forces}
        self.aggregates = AGGREGATE_NAMES | {self.key(force.region) for force in forces if force.region}

    @staticmethod
    def key(name):
        # Later editions may write "Avon and Somerset" where 2019/20 writes "Avon & Somerset".
        return " ".join(name.replace("&", " and ").lower().split())

    def read(self, label):
        """(geography as stored, force or None for a total), or None for an unknown name."""
        text = " ".join(label.split())
        total = text.startswith("*")
        text = text.lstrip("*").strip()
        while FOOTNOTE_MARKER.search(text):
            text = FOOTNOTE_MARKER.sub("", text).strip()
        key = self.key(text)
        if total or key == "total" or key.startswith("total "):
            return text, None
        # Names first: West Midlands is a force as well as a region.
        if key in self.by_name:
            return text, self.by_name[key]
        if key in self.aggregates:
            return text, None
        return None


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


def read_table(sheet, kind, header_index, header, forces):
    """Figures of one table as {(financial year, geography, measure): (value, force, sheet, row index)}."""
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
    title_year = None
    if year_position is None:
        years = financial_years(title)
        if len(years) != 1:
            raise sheet.error(
                header_index,
                f"the table '{title}' has no Financial year column and its title does not name one financial year; "
                "expected a title such as '1 April 2017 to 31 March 2018'.",
            )
        title_year = years[0]
    figures = {}
    for index in range(header_index + 1, len(sheet.rows)):
        row = sheet.rows[index]
        first_text = next((normalise(cell) for cell in row if isinstance(cell, str) and cell.strip()), "")
        if first_text.split(" ")[0] in NOTES_MARKERS:
            break
        # Blank rows, notes and section headings have no counts; they are not part of the table.
        if all(is_empty(cell_text(row, position)) for position in measures):
            continue
        label = cell_text(row, force_position)
        force_column = f"{column_letter(force_position)} ({header_row[force_position].strip()})"
        if is_empty(label):
            raise sheet.error(index, "empty; expected a police force or a total row.", force_column)
        if not isinstance(label, str):
            raise sheet.error(index, f"'{label}' is not a name; expected a police force or a total row.", force_column)
        geography = forces.read(label)
        if geography is None:
            raise sheet.error(
                index,
                f"'{label}' is not a known Home Office force name; expected one of the forces load_forces loads, "
                "or a total row.",
                force_column,
            )
        geography, force = geography
        if title_year is None:
            year_cell = cell_text(row, year_position)
            years = financial_years(year_cell) if isinstance(year_cell, str) else []
            if len(years) != 1:
                raise sheet.error(
                    index,
                    f"'{year_cell}' is not a financial year; expected one such as 2019/20.",
                    f"{column_letter(year_position)} ({header_row[year_position].strip()})",
                )
            year = years[0]
        else:
            year = title_year
        for position, measure in measures.items():
            column = f"{column_letter(position)} ({' '.join(header_row[position].split())})"
            value = parse_count(sheet, index, column, cell_text(row, position))
            key = (financial_year_label(year), geography, measure)
            if key in figures:
                raise sheet.error(
                    index,
                    f"'{label}' for {key[0]} appears twice (first on row {figures[key][3] + 1}); expected one row.",
                    force_column,
                )
            figures[key] = (value, force, sheet.name, index)
    if not figures:
        raise sheet.error(header_index, f"the table '{title}' has a header but no rows of figures.")
    return figures


def edition_name(workbook, path):
    """The publication's title and date from its cover sheet, or else the file name."""
    cover = next((name for name in workbook.sheet_names if "cover" in name.lower()), None)
    if cover is not None:
        texts = [
            " ".join(cell.split())
            for row in workbook.get_sheet_by_name(cover).to_python(skip_empty_area=False)
            for cell in row
            if isinstance(cell, str) and cell.strip()
        ]
        title = next((text for text in texts if "use of force" in text.lower()), None)
        published = next((text for text in texts if re.match(r"published\b", text, re.IGNORECASE)), None)
        if title:
            if published:
                title += f" ({published[0].lower()}{published[1:].replace(':', '')})"
            max_length = PublishedFigure._meta.get_field("source_edition").max_length
            return title[:max_length]
    return Path(path).name


def read_ho_tables(path):
    """(edition, {(financial year, geography, measure): (value, force, sheet, row index)}, tables found)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file.")
    if path.stat().st_size == 0:
        raise InputError(f"{path.name}: the file is empty (0 bytes).")
    forces = Forces()
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        edition = edition_name(workbook, path)
        figures = {}
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
            for key, figure in read_table(sheet, kind, header_index, header, forces).items():
                if key in figures:
                    raise sheet.error(
                        figure[3],
                        f"{key[1]} {key[0]} {key[2]} is also in {figures[key][2]}, row {figures[key][3] + 1}; "
                        "expected each figure once.",
                    )
                figures[key] = figure
            tables.append((name, kind))
    except CalamineError as error:
        raise InputError(f"{path.name}: not a spreadsheet that can be read as ODS, XLSX or XLS ({error}).") from None
    if not tables:
        raise InputError(
            f"{path.name}: no table of use of force by police force, nor of use of CED by type and police force; "
            "expected the data tables of the Home Office's Police use of force statistics (April 2017 onwards)."
        )
    return edition, figures, tables


@transaction.atomic
def import_ho_tables(path):
    """Import the two by-force tables of one edition into PublishedFigure; all or nothing.

    Re-importing an edition replaces its figures: rows the new file no longer has are removed.
    Returns a dict: edition, tables [(sheet, kind)], years, created, updated, removed, figures.
    """
    edition, figures, tables = read_ho_tables(path)
    existing = {
        (figure.financial_year, figure.geography, figure.measure): figure
        for figure in PublishedFigure.objects.filter(source_edition=edition)
    }
    to_create, to_update = [], []
    for key, (value, force, _, _) in figures.items():
        financial_year, geography, measure = key
        unit = (
            PublishedFigure.Unit.REPORTS
            if int(financial_year[:4]) >= FIRST_YEAR_OF_REPORTS
            else PublishedFigure.Unit.INCIDENTS
        )
        figure = existing.pop(key, None)
        if figure is None:
            to_create.append(
                PublishedFigure(
                    force=force,
                    geography=geography,
                    financial_year=financial_year,
                    measure=measure,
                    value=value,
                    unit=unit,
                    source_edition=edition,
                )
            )
        elif (figure.force_id, figure.value, figure.unit) != (force and force.pk, value, unit):
            figure.force, figure.value, figure.unit = force, value, unit
            to_update.append(figure)
    PublishedFigure.objects.filter(pk__in=[figure.pk for figure in existing.values()]).delete()
    PublishedFigure.objects.bulk_create(to_create)
    PublishedFigure.objects.bulk_update(to_update, ["force", "value", "unit"])
    return {
        "edition": edition,
        "tables": tables,
        "years": sorted({key[0] for key in figures}),
        "figures": len(figures),
        "created": len(to_create),
        "updated": len(to_update),
        "removed": len(existing),
    }
