"""import_ho_tables: the Home Office "Police use of force statistics" data tables, and the TASER
statistics before them.

Some tests read the real 2016, 2018/19 and 2019/20 editions; the others build small workbooks
(XLSX with openpyxl, ODS with write_ods) in the layouts other editions use, to show that nothing
depends on one edition's positions, and that every figure keeps the period its edition gives it.
"""

import datetime
import zipfile
from io import StringIO
from xml.sax.saxutils import escape

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from python_calamine import CalamineWorkbook

from forces.models import Edition, PublishedFigure
from tests.conftest import (
    HOME_OFFICE_TABLES_2018_19,
    HOME_OFFICE_TABLES_2019_20,
    HOME_OFFICE_TASER_2016,
    published,
)

TABLES_2019_20 = HOME_OFFICE_TABLES_2019_20
EDITION_2018_19 = (
    "Police use of force statistics, England and Wales April 2018 - March 2019 (published 19 December 2019)"
)
EDITION_2016 = (
    "Police use of TASER ® X26 conducted energy devices statistics, England and Wales, 1 January to 31 December 2016"
)
EDITION_2019_20 = (
    "Police use of force statistics, England and Wales April 2019 - March 2020 (published 17 December 2020)"
)

CED_HEADER = [
    "Region", "Police force", "Total", "Total non-discharge", "Drawn ", "Aimed", "Red-dot", "Arced",
    "Total discharge", "Drive stun", "Fired", "Angled drive stun", "CED not \nstated",
]  # fmt: skip
CED_MEASURES = [
    "ced_total", "ced_non_discharge", "ced_drawn", "ced_aimed", "ced_red_dotted", "ced_arced",
    "ced_discharge", "ced_drive_stun", "ced_fired", "ced_angle_drive_stun", "ced_not_stated",
]  # fmt: skip


def figure(geography, period, measure, edition=EDITION_2019_20):
    """The figure of one edition for a period as the pages name it: "2019/20", "January to March 2017", "2016"."""
    figures = PublishedFigure.objects.filter(edition__name=edition, geography=geography, measure=measure)
    (found,) = [figure for figure in figures if figure.period == period]
    return found


def figures_of(edition):
    return {
        (figure.period, figure.geography, figure.force_id, figure.measure, figure.value, figure.unit)
        for figure in PublishedFigure.objects.filter(edition__name=edition)
    }


def real_ced_rows(financial_year):
    """Table_13's rows of one year from the real file, without the Financial year column."""
    rows = CalamineWorkbook.from_path(str(published(TABLES_2019_20))).get_sheet_by_name("Table_13").to_python()
    return [row[1:] for row in rows if row[0] == financial_year]


def write_workbook(path, sheets):
    """An XLSX with one sheet per {name: {(row, column): value}} (1-based, as a spreadsheet shows)."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, cells in sheets.items():
        sheet = workbook.create_sheet(name)
        for (row, column), value in cells.items():
            sheet.cell(row=row, column=column, value=value)
    workbook.save(path)
    return path


def write_ods(path, sheets):
    """An ODS (OpenDocument spreadsheet) with one sheet per {name: {(row, column): value}}, as write_workbook.

    Older Home Office editions are ODS files; this writes the few parts of the format a reader needs.
    """
    body = []
    for name, cells in sheets.items():
        rows = max(row for row, _ in cells)
        columns = max(column for _, column in cells)
        body.append(f'<table:table table:name="{escape(name)}">')
        for row in range(1, rows + 1):
            body.append("<table:table-row>")
            for column in range(1, columns + 1):
                value = cells.get((row, column))
                if value is None:
                    body.append("<table:table-cell/>")
                elif isinstance(value, int | float):
                    body.append(f'<table:table-cell office:value-type="float" office:value="{value}"><text:p>{value}'
                                "</text:p></table:table-cell>")  # fmt: skip
                else:
                    paragraphs = "".join(f"<text:p>{escape(line)}</text:p>" for line in str(value).split("\n"))
                    body.append(f'<table:table-cell office:value-type="string">{paragraphs}</table:table-cell>')
            body.append("</table:table-row>")
        body.append("</table:table>")
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet>{''.join(body)}</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", content)
    return path


def table(title, header, rows, top=1, left=1, gap_after=(), notes=("Notes", "Source: Home Office.")):
    """Cells of a table: title, "Contents", a blank row, the header, rows (a blank row after each
    index in gap_after), a blank row and notes; placed at (top, left)."""
    cells = {(top, left): title, (top + 1, left): "Contents"}
    row_number = top + 3
    for column, value in enumerate(header):
        cells[(row_number, left + column)] = value
    for index, row in enumerate(rows):
        row_number += 1
        for column, value in enumerate(row):
            cells[(row_number, left + column)] = value
        if index in gap_after:
            row_number += 1
    for note in notes:
        row_number += 2 if note == notes[0] else 1
        cells[(row_number, left)] = note
    return cells


@pytest.fixture
def tables_2019_20(forces):
    call_command("import_ho_tables", published(TABLES_2019_20), verbosity=0)


# --- the real 2019/20 edition ----------------------------------------------------------------


def test_import_ho_tables_reads_thames_valley_ced_total_and_fired_count(tables_2019_20, thames_valley):
    total = figure("Thames Valley", "2019/20", "ced_total")
    assert (total.value, total.force, total.unit) == (1_037, thames_valley, "incidents")
    assert figure("Thames Valley", "2019/20", "ced_fired").value == 123


def test_import_ho_tables_reads_the_england_and_wales_ced_total_as_a_total_row(tables_2019_20):
    assert figure("Total England and Wales", "2019/20", "ced_total").value == 32_058
    assert figure("Total England and Wales", "2019/20", "ced_fired").value == 3_275
    assert figure("Total England and Wales", "2019/20", "ced_not_stated").value == 1_267
    assert figure("Total England and Wales", "2019/20", "ced_total").force is None


def test_import_ho_tables_reads_every_ced_level_of_one_row(tables_2019_20):
    values = dict(
        PublishedFigure.objects.filter(geography="Thames Valley", financial_year="2019/20").values_list(
            "measure", "value"
        )
    )
    assert values == {
        "use_of_force_total": 16_674, "ced_total": 1_037, "ced_non_discharge": 860, "ced_drawn": 179,
        "ced_aimed": 92, "ced_red_dotted": 576, "ced_arced": 13, "ced_discharge": 127, "ced_drive_stun": 3,
        "ced_fired": 123, "ced_angle_drive_stun": 1, "ced_not_stated": 50,
    }  # fmt: skip


def test_import_ho_tables_reads_all_three_financial_years_of_the_ced_table(tables_2019_20):
    ced_years = PublishedFigure.objects.filter(measure="ced_total").values_list("financial_year", flat=True)
    assert set(ced_years) == {"2017/18", "2018/19", "2019/20"}
    assert figure("Total England and Wales", "2017/18", "ced_total").value == 16_913
    assert figure("Total England and Wales", "2018/19", "ced_total").value == 23_451
    # 43 forces and 11 totals (England and Wales, and ten regions) a year, eleven CED measures each.
    assert PublishedFigure.objects.filter(measure__startswith="ced_").count() == 3 * 54 * 11
    for year in ("2017/18", "2018/19", "2019/20"):
        forces = PublishedFigure.objects.filter(measure="ced_total", financial_year=year, force__isnull=False)
        assert forces.count() == 43


def test_import_ho_tables_reads_incidents_by_police_force_with_the_year_from_the_title(tables_2019_20, metropolitan):
    # Table 12 has no Financial year column: "Incidents by police force, year ending March 2020".
    assert set(
        PublishedFigure.objects.filter(measure="use_of_force_total").values_list("financial_year", flat=True)
    ) == {"2019/20"}
    assert figure("Total England and Wales", "2019/20", "use_of_force_total").value == 491_984
    met = figure("Metropolitan", "2019/20", "use_of_force_total")
    assert (met.value, met.force, met.unit) == (157_705, metropolitan, "incidents")


def test_import_ho_tables_imports_hampshire_2017_18_despite_the_revised_marker(tables_2019_20):
    hampshire = figure("Hampshire", "2017/18", "ced_total")  # published as "Hampshire (R)"
    assert (hampshire.value, hampshire.force_id) == (158, "hampshire")
    assert figure("Hampshire", "2017/18", "ced_not_stated").value == 152


def test_an_edition_that_writes_its_names_in_capitals_and_with_ampersands_stores_the_same_geographies(forces, tmp_path):
    """Totals are stored in one spelling: "*TOTAL ENGLAND & WALES" is the "Total England and Wales" of 2019/20."""
    rows = [[row[0].upper(), row[1].upper().replace(" AND ", " & "), *row[2:]] for row in real_ced_rows("2019/20")]
    cells = table("Table 7: Use of CED by type and police force, 1 April 2019 to 31 March 2020", CED_HEADER, rows)
    path = write_workbook(tmp_path / "capitals.xlsx", {"CED": cells})
    call_command("import_ho_tables", str(path), verbosity=0)
    call_command("import_ho_tables", published(TABLES_2019_20), verbosity=0)
    real = {
        figure for figure in figures_of(EDITION_2019_20) if figure[0] == "2019/20" and figure[3] != "use_of_force_total"
    }
    assert figures_of("capitals.xlsx") == real
    assert figure("Total North East", "2019/20", "ced_total", edition="capitals.xlsx").force is None


def test_import_ho_tables_keeps_total_rows_without_their_star_or_trailing_spaces(tables_2019_20):
    north_east = figure("Total North East", "2017/18", "ced_total")  # published as "*Total North East "
    assert (north_east.value, north_east.force) == (552, None)
    assert not PublishedFigure.objects.filter(geography__startswith="*").exists()
    assert not PublishedFigure.objects.filter(geography__endswith=" ").exists()
    # "Devon & Cornwall " has a trailing space too, and is a force.
    assert figure("Devon & Cornwall", "2019/20", "ced_total").force_id == "devon-and-cornwall"


def test_import_ho_tables_names_the_edition_from_the_cover_sheet(tables_2019_20):
    assert set(PublishedFigure.objects.values_list("edition__name", flat=True)) == {EDITION_2019_20}
    edition = Edition.objects.get()
    assert (edition.published_on, edition.published_on_source) == (datetime.date(2020, 12, 17), "publication")


def test_import_ho_tables_twice_changes_nothing(forces):
    call_command("import_ho_tables", published(TABLES_2019_20), verbosity=0)
    before = set(PublishedFigure.objects.values_list("pk", "financial_year", "geography", "measure", "value"))
    out = StringIO()
    call_command("import_ho_tables", published(TABLES_2019_20), stdout=out)
    assert set(PublishedFigure.objects.values_list("pk", "financial_year", "geography", "measure", "value")) == before
    assert len(before) == 1_836
    assert "1836 figures for 2017/18, 2018/19 and 2019/20 from Table_12, Table_13" in out.getvalue()
    assert "(0 new, 0 changed, 0 removed)" in out.getvalue()


# --- other layouts -----------------------------------------------------------------------------


def test_import_ho_tables_reads_a_ced_table_laid_out_like_the_2017_18_edition(forces, tmp_path):
    """No Financial year column (the year is in the title), extra blank rows, columns shifted right,
    counts typed as text with thousands separators, and the sheet in another position."""
    rows = real_ced_rows("2019/20")
    as_text = [[*row[:2], *(f"{value:,.0f}" for value in row[2:])] if row[1].startswith("*") else row for row in rows]
    cells = table(
        "Table 7: Use of CED by type and police force, 1 April 2019 to 31 March 2020",
        CED_HEADER,
        as_text,
        top=3,
        left=4,
        gap_after=(0, 4, 20),
    )
    path = write_workbook(tmp_path / "shifted.xlsx", {"Notes": {(1, 1): "About these tables"}, "CED": cells})
    call_command("import_ho_tables", str(path), verbosity=0)
    call_command("import_ho_tables", published(TABLES_2019_20), verbosity=0)
    real = {
        figure for figure in figures_of(EDITION_2019_20) if figure[0] == "2019/20" and figure[3] != "use_of_force_total"
    }
    assert figures_of("shifted.xlsx") == real
    assert figure("Total England and Wales", "2019/20", "ced_total", edition="shifted.xlsx").value == 32_058


def test_import_ho_tables_reads_colon_as_not_available(forces, tmp_path):
    rows = [["South East", "Thames Valley", 1037, 860, 179, 92, 576, 13, 127, 3, 123, 1, ":"]]
    cells = table("Use of CED by type and police force, year ending March 2020", CED_HEADER, rows)
    call_command("import_ho_tables", str(write_workbook(tmp_path / "t.xlsx", {"Table_1": cells})), verbosity=0)
    assert figure("Thames Valley", "2019/20", "ced_not_stated", edition="t.xlsx").value is None
    assert figure("Thames Valley", "2019/20", "ced_fired", edition="t.xlsx").value == 123


def test_import_ho_tables_counts_reports_from_2023_24(forces, tmp_path):
    header = ["Financial year", "Region", "Police force", "Total"]
    rows = [["2022/23", "South East", "Kent", 20_000], ["2023/24", "South East", "Kent", 21_000]]
    cells = table("Table 3.1: Use of force by police force, years ending March 2023 and March 2024", header, rows)
    call_command("import_ho_tables", str(write_workbook(tmp_path / "t.xlsx", {"Data": cells})), verbosity=0)
    assert figure("Kent", "2022/23", "use_of_force_total", edition="t.xlsx").unit == "incidents"
    assert figure("Kent", "2023/24", "use_of_force_total", edition="t.xlsx").unit == "reports"


def test_import_ho_tables_again_replaces_the_figures_of_the_same_edition(forces, tmp_path):
    header = ["Region", "Police force", "Total"]
    title = "Incidents by police force, year ending March 2020"
    first = [["South East", "Kent", 100], ["South East", "Surrey", 50]]
    path = write_workbook(tmp_path / "t.xlsx", {"T": table(title, header, first)})
    call_command("import_ho_tables", str(path), verbosity=0)
    write_workbook(path, {"T": table(title, header, [["South East", "Kent", 101]])})
    out = StringIO()
    call_command("import_ho_tables", str(path), stdout=out)
    assert figures_of("t.xlsx") == {("2019/20", "Kent", "kent", "use_of_force_total", 101, "incidents")}
    assert "(0 new, 1 changed, 1 removed)" in out.getvalue()


# --- bad input -----------------------------------------------------------------------------------


def test_import_ho_tables_refuses_an_unknown_force_naming_sheet_row_and_value_and_writes_nothing(forces, tmp_path):
    rows = real_ced_rows("2019/20")
    rows[5][1] = "Atlantis"
    cells = table("Use of CED by type and police force: 1 April 2019 to 31 March 2020", CED_HEADER, rows, top=2)
    force_table = table("Incidents by police force, year ending March 2020", ["Police force", "Total"], [["Kent", 9]])
    path = write_workbook(tmp_path / "t.xlsx", {"Table_12": force_table, "Table_13": cells})
    # Title on row 2, header on row 5: the sixth row of figures is row 11.
    with pytest.raises(CommandError, match=r"^Table_13, row 11, column B \(Police force\): 'Atlantis' is not a known"):
        call_command("import_ho_tables", str(path), verbosity=0)
    assert PublishedFigure.objects.count() == 0


def test_import_ho_tables_refuses_a_count_that_is_not_a_number(forces, tmp_path):
    rows = [["South East", "Kent", 863, 417, 137, 42, 233, 5, 116, 1, "many", 0, 330]]
    cells = table("Use of CED by type and police force, year ending March 2020", CED_HEADER, rows)
    with pytest.raises(CommandError, match=r"^T, row 5, column K \(Fired\): 'many' is not a count; expected a whole"):
        call_command("import_ho_tables", str(write_workbook(tmp_path / "t.xlsx", {"T": cells})), verbosity=0)


def test_import_ho_tables_refuses_a_table_of_several_years_without_a_financial_year_column(forces, tmp_path):
    rows = [["South East", "Kent", 863, 417, 137, 42, 233, 5, 116, 1, 115, 0, 330]]
    cells = table("Use of CED by type and police force: 1 April 2017 to 31 March 2020", CED_HEADER, rows)
    with pytest.raises(
        CommandError, match=r"has no year column and its title names several periods \(2017/18, 2018/19"
    ):
        call_command("import_ho_tables", str(write_workbook(tmp_path / "t.xlsx", {"T": cells})), verbosity=0)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("tables.ods", b"", "the file is empty (0 bytes)"),
        ("tables.ods", b"Region,Police force,Total\nSouth East,Kent,1\n", "not a spreadsheet that can be read"),
        ("tables.xlsx", b"%PDF-1.4\n\xff\xfe binary", "not a spreadsheet that can be read"),
        ("tables.csv", b"Region,Police force,Total\nSouth East,Kent,1\n", "not a spreadsheet that can be read"),
    ],
    ids=["empty", "csv-named-ods", "pdf-named-xlsx", "csv"],
)
def test_import_ho_tables_refuses_files_that_are_not_spreadsheets_in_one_sentence(
    forces, tmp_path, name, content, message
):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CommandError) as raised:
        call_command("import_ho_tables", str(path), verbosity=0)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_import_ho_tables_refuses_a_spreadsheet_without_the_tables(forces, tmp_path):
    path = write_workbook(tmp_path / "t.xlsx", {"Sheet": {(1, 1): "Budget", (2, 1): "Police force", (2, 2): "Total"}})
    with pytest.raises(CommandError, match=r"^t\.xlsx: no table of use of force by police force"):
        call_command("import_ho_tables", str(path), verbosity=0)


def test_import_ho_tables_of_a_missing_file_says_so(forces):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_ho_tables", "/nonexistent/tables.ods", verbosity=0)


def test_import_ho_tables_before_load_forces_says_what_to_run(db):
    with pytest.raises(CommandError, match="No forces are loaded; run load_forces first."):
        call_command("import_ho_tables", str(published(TABLES_2019_20)), verbosity=0)


# --- the period of a table, and editions ranked by publication -----------------------------------

FORCE_HEADER = ["Region", "Police force", "Total"]
FORCE_ROWS = [["England and Wales", "Total England and Wales", 427_725], ["South East", "Kent", 12_000]]
COVER_2018_19 = {
    (1, 2): "Police use of force statistics, England and Wales\nApril 2018 - March 2019",
    (2, 2): "Tables - 01 to 17",
    (6, 2): "Published: 19 December 2019",
    (7, 2): "Crown copyright © 2019",
}


def periods_of(edition):
    return {(figure.period, figure.period_kind, figure.financial_year, figure.unit)
            for figure in PublishedFigure.objects.filter(edition__name=edition)}  # fmt: skip


def test_a_table_without_a_period_in_its_title_takes_it_from_the_cover_sheet_of_an_ods(forces, tmp_path):
    path = write_ods(tmp_path / "tables.ods", {
        "Cover_sheet": COVER_2018_19,
        "Table_12": table("Table 12. Incidents by police force", FORCE_HEADER, FORCE_ROWS),
    })  # fmt: skip
    call_command("import_ho_tables", str(path), verbosity=0)
    assert periods_of(EDITION_2018_19) == {("2018/19", "financial_year", "2018/19", "incidents")}
    assert figure("Kent", "2018/19", "use_of_force_total", edition=EDITION_2018_19).value == 12_000
    edition = Edition.objects.get()
    assert (edition.published_on, edition.published_on_source) == (datetime.date(2019, 12, 19), "publication")


def test_a_table_without_a_period_in_its_title_takes_it_from_its_line_on_the_contents_sheet(forces, tmp_path):
    contents = {
        (1, 1): "Police use of force statistics, England and Wales",
        (2, 1): "Publication Date: 19 December 2019",
        (5, 1): "Table", (5, 2): "Title", (5, 3): "Period covered", (5, 4): "Last updated",
        (6, 1): 1, (6, 2): "Number of times tactics were used", (6, 3): "Year ending 31 March 2017",
        (7, 1): 12, (7, 2): "Incidents by police force", (7, 3): "Year ending 31 March 2019", (7, 4): "19/12/2019",
    }  # fmt: skip
    path = write_ods(tmp_path / "tables.ods", {
        "Contents": contents, "Table_12": table("Table 12. Incidents by police force", FORCE_HEADER, FORCE_ROWS),
    })  # fmt: skip
    call_command("import_ho_tables", str(path), verbosity=0)
    edition = "Police use of force statistics, England and Wales (published 19 December 2019)"
    assert periods_of(edition) == {("2018/19", "financial_year", "2018/19", "incidents")}


def test_a_layout_like_the_newer_editions_with_a_notes_sheet_dated_cells_and_bracketed_symbols(forces, tmp_path):
    cover = {
        (1, 1): "Police use of force statistics, England and Wales",
        (2, 1): "April 2023 to March 2024",
        (4, 1): "Publication date", (4, 2): datetime.datetime(2024, 12, 5),
        (5, 1): "Crown copyright 2024",
    }  # fmt: skip
    notes = {(1, 1): "Notes", (2, 1): "Note number", (2, 2): "Note text", (3, 1): "[note 3]", (3, 2): "Reports."}
    title = "Table 3.1: Use of force by police force [note 2]"
    cells = {(1, 1): title, (2, 1): "This worksheet contains one table. Notes are in the notes tab.",
             (3, 1): "Police force area", (3, 2): "Number of reports [note 3]",
             (4, 1): "Avon and Somerset", (4, 2): 21_000, (5, 1): "British Transport Police", (5, 2): "[x]",
             (6, 1): "England and Wales", (6, 2): 747_396}  # fmt: skip
    path = write_workbook(tmp_path / "t.xlsx", {"Cover_sheet": cover, "Notes": notes, "Table_3_1": cells})
    call_command("import_ho_tables", str(path), verbosity=0)
    edition = Edition.objects.get()
    assert edition.name == "Police use of force statistics, England and Wales (published 5 December 2024)"
    assert (edition.published_on, edition.published_on_source) == (datetime.date(2024, 12, 5), "publication")
    avon = figure("Avon & Somerset", "2023/24", "use_of_force_total", edition=edition.name)
    assert (avon.value, avon.force_id, avon.unit) == (21_000, "avon-and-somerset", "reports")
    assert figure("British Transport Police", "2023/24", "use_of_force_total", edition=edition.name).value is None
    assert figure("Total England and Wales", "2023/24", "use_of_force_total", edition=edition.name).value == 747_396


def test_a_table_with_its_period_only_in_the_file_name_is_ranked_by_the_end_of_that_period(forces, tmp_path):
    path = tmp_path / "police-use-of-force-apr2018-mar2019-tables.xlsx"
    write_workbook(path, {"Table_12": table("Table 12. Incidents by police force", FORCE_HEADER, FORCE_ROWS)})
    out = StringIO()
    call_command("import_ho_tables", str(path), stdout=out)
    assert periods_of(path.name) == {("2018/19", "financial_year", "2018/19", "incidents")}
    edition = Edition.objects.get()
    assert (edition.published_on, edition.published_on_source) == (datetime.date(2019, 3, 31), "latest_period")
    assert "Ranked by end of the latest period it covers (no publication date found): 31 March 2019." in out.getvalue()


def test_the_title_names_the_period_before_the_cover_sheet_does(forces, tmp_path):
    # A 2017/18 edition's table of the quarter before the use-of-force form: its title wins over the cover's year.
    cover = {(1, 2): "Police use of force statistics, England and Wales\nApril 2017 - March 2018"}
    rows = [["South East", "Thames Valley", 116, 100, 30, 10, 58, 2, 14, 1, 12, 1, 2]]
    quarter = table("Table 13b. Use of CED by type and police force, 1 January to 31 March 2017", CED_HEADER, rows)
    path = write_ods(tmp_path / "tables.ods", {"Cover_sheet": cover, "Table_13b": quarter})
    call_command("import_ho_tables", str(path), verbosity=0)
    edition = "Police use of force statistics, England and Wales April 2017 - March 2018"
    assert periods_of(edition) == {("January to March 2017", "quarter", "", "uses")}
    total = figure("Thames Valley", "January to March 2017", "ced_total", edition=edition)
    assert (total.value, total.period_start, total.period_end) == (
        116,
        datetime.date(2017, 1, 1),
        datetime.date(2017, 3, 31),
    )
    assert not PublishedFigure.objects.exclude(financial_year="").exists()


def test_a_table_of_revisions_keeps_the_calendar_year_it_revises(forces, tmp_path):
    rows = [["South East", "Thames Valley", 430, 380, 125, 26, 225, 4, 50, 4, 44, 2, 0]]
    revisions = table("Table 13c. Use of CED by type and police force: revisions, 1 January to 31 December 2016",
                      CED_HEADER, rows)  # fmt: skip
    path = write_workbook(tmp_path / "t.xlsx", {"Table_13c": revisions})
    call_command("import_ho_tables", str(path), verbosity=0)
    assert periods_of("t.xlsx") == {("2016 (revised)", "revision", "", "uses")}
    revised = figure("Thames Valley", "2016 (revised)", "ced_fired", edition="t.xlsx")
    assert (revised.value, revised.period_start, revised.period_end) == (
        44,
        datetime.date(2016, 1, 1),
        datetime.date(2016, 12, 31),
    )


def test_one_edition_with_two_values_for_the_same_period_is_refused_naming_both_places(forces, tmp_path):
    rows = [["South East", "Thames Valley", 430, 380, 125, 26, 225, 4, 50, 4, 44, 2, 0]]
    path = write_workbook(tmp_path / "t.xlsx", {
        "A": table("Use of CED by type and police force, 1 January to 31 December 2016", CED_HEADER, rows),
        "B": table("Use of CED by type and police force, revised, 1 January to 31 December 2016", CED_HEADER, rows),
    })  # fmt: skip
    with pytest.raises(CommandError, match=r"^B, row 5: Thames Valley 2016 \(revised\) ced_total is also in A, row 5"):
        call_command("import_ho_tables", str(path), verbosity=0)


def test_the_2016_taser_layout_with_regions_as_rows_and_revised_markers_between_the_columns(forces, tmp_path):
    share = "Proportion of TASER ® X26 use"
    header = ["Police Force/Region", "Drawn ", "", "Aimed", "", "Arced", "", "Red-dot", "", "Total non-discharge", "",
              share, "Drive stun", "", "Angled drive stun", "", "Fired", "", "Total discharge", "", share, "Not stated",
              "", "Total"]  # fmt: skip

    def row(name, drawn, fired, marker=""):
        return [name, drawn, marker, 1, "", 0, "", 2, "", drawn + 3, "", 0.9, 0, "", 0, "", fired, "", fired, "", 0.1,
                0, "", drawn + 3 + fired]  # fmt: skip

    rows = [
        row("West Midlands ", 60, 6, "R"), row("Staffordshire", 10, 1), row("West Midlands", 50, 5),
        row("London ", 40, 4), row("Metropolitan Police", 40, 4), row("England and Wales", 100, 10, "R"),
    ]  # fmt: skip
    title = "Table 2: Police use of TASER ® X26 by type, police force and region, 2016"
    cells = {(1, 1): title}
    for r, values in enumerate([header, *rows], start=2):
        cells.update({(r, c): value for c, value in enumerate(values, start=1) if value != ""})
    cells[(len(rows) + 3, 1)] = "Notes:"
    index = {(1, 1): "Index", (2, 1): EDITION_2016, (3, 1): "Sheet", (3, 2): "Title", (3, 3): "Period covered",
             (4, 1): "Table_2", (4, 2): "Police use of TASER ® X26 by type, police force and region",
             (4, 3): 2016}  # fmt: skip
    call_command("import_ho_tables", str(write_ods(tmp_path / "taser.ods", {"Index": index, "Table_2": cells})),
                 verbosity=0)  # fmt: skip
    assert periods_of(EDITION_2016) == {("2016", "calendar_year", "", "uses")}
    region = figure("Total West Midlands", "2016", "ced_total", edition=EDITION_2016)
    force = figure("West Midlands", "2016", "ced_total", edition=EDITION_2016)
    assert (region.value, region.force, force.value, force.force_id) == (69, None, 58, "west-midlands")
    met = figure("Metropolitan", "2016", "ced_fired", edition=EDITION_2016)
    assert (met.value, met.force_id) == (4, "metropolitan")
    assert figure("Total England and Wales", "2016", "ced_drawn", edition=EDITION_2016).value == 100
    assert Edition.objects.get().published_on == datetime.date(2016, 12, 31)


def test_a_table_whose_period_is_nowhere_is_refused_saying_where_it_was_looked_for(forces, tmp_path):
    path = write_workbook(tmp_path / "tables.xlsx", {"T": table("Incidents by police force", FORCE_HEADER, FORCE_ROWS)})
    expected = (r"^T: the table 'Incidents by police force' has no year column, and neither its title, the contents "
                r"sheet, the cover sheet nor the file name")  # fmt: skip
    with pytest.raises(CommandError, match=expected):
        call_command("import_ho_tables", str(path), verbosity=0)
    assert not Edition.objects.exists()


def test_a_period_that_is_neither_a_year_nor_a_quarter_is_refused(forces, tmp_path):
    title = "Incidents by police force, April to September 2019"
    path = write_workbook(tmp_path / "t.xlsx", {"T": table(title, FORCE_HEADER, FORCE_ROWS)})
    with pytest.raises(CommandError, match="'April to September 2019' is neither a financial year, a calendar year"):
        call_command("import_ho_tables", str(path), verbosity=0)


def edition_file(path, published, kent):
    """A small edition publishing Kent's 2017/18 use-of-force total, with its publication date on the cover."""
    cover = {(1, 1): "Police use of force statistics, England and Wales", (2, 1): f"Published: {published}"}
    rows = [["2017/18", "South East", "Kent", kent]]
    return write_ods(path, {
        "Cover_sheet": cover,
        "Table_12": table("Use of force by police force", ["Financial year", *FORCE_HEADER], rows),
    })  # fmt: skip


@pytest.mark.parametrize("newer_first", [False, True], ids=["older-imported-first", "newer-imported-first"])
def test_the_newest_publication_is_current_whatever_the_import_order_and_names_what_it_revised(
    forces, tmp_path, newer_first
):
    older = edition_file(tmp_path / "older.ods", "13 December 2018", kent=100)
    newer = edition_file(tmp_path / "newer.ods", "19 December 2019", kent=90)
    for path in (newer, older) if newer_first else (older, newer):
        call_command("import_ho_tables", str(path), verbosity=0)
    (current,) = PublishedFigure.objects.current().with_revised().filter(geography="Kent")
    assert (current.value, current.edition.name, current.revised_value, current.revised_edition) == (
        90, "Police use of force statistics, England and Wales (published 19 December 2019)",
        100, "Police use of force statistics, England and Wales (published 13 December 2018)",
    )  # fmt: skip
    # The older value stays, as history.
    assert sorted(PublishedFigure.objects.filter(geography="Kent").values_list("value", flat=True)) == [90, 100]


def test_importing_an_older_edition_after_a_newer_one_says_its_figures_are_revised(forces, tmp_path):
    call_command("import_ho_tables", str(edition_file(tmp_path / "newer.ods", "19 December 2019", kent=90)),
                 verbosity=0)  # fmt: skip
    out = StringIO()
    call_command("import_ho_tables", str(edition_file(tmp_path / "older.ods", "13 December 2018", kent=100)),
                 stdout=out)  # fmt: skip
    assert "1 of its figures are revised by a newer edition already imported, which stays current." in out.getvalue()


# --- the real editions --------------------------------------------------------------------------------


def test_the_real_2018_19_edition_imports_as_published_with_its_period_from_the_cover_sheet(forces):
    call_command("import_ho_tables", str(published(HOME_OFFICE_TABLES_2018_19)), verbosity=0)
    assert figure("Thames Valley", "2018/19", "ced_total", edition=EDITION_2018_19).value == 778
    assert figure("Thames Valley", "2018/19", "ced_fired", edition=EDITION_2018_19).value == 73
    assert figure("Thames Valley", "2018/19", "use_of_force_total", edition=EDITION_2018_19).value == 15_718
    assert figure("Metropolitan", "2018/19", "ced_total", edition=EDITION_2018_19).value == 7_396
    assert figure("Total England and Wales", "2018/19", "use_of_force_total", edition=EDITION_2018_19).value == 427_725
    assert {period for period, *_ in periods_of(EDITION_2018_19)} == {"2017/18", "2018/19"}
    assert Edition.objects.get().published_on == datetime.date(2019, 12, 19)


def test_the_real_2016_taser_tables_import_as_calendar_year_uses_with_the_revised_2015(forces):
    call_command("import_ho_tables", str(published(HOME_OFFICE_TASER_2016)), verbosity=0)
    assert periods_of(EDITION_2016) == {
        ("2016", "calendar_year", "", "uses"),
        ("2015 (revised)", "revision", "", "uses"),
    }
    total = figure("Thames Valley", "2016", "ced_total", edition=EDITION_2016)
    assert (total.value, total.force_id) == (427, "thames-valley")
    assert figure("Thames Valley", "2016", "ced_fired", edition=EDITION_2016).value == 43
    assert figure("Metropolitan", "2016", "ced_total", edition=EDITION_2016).value == 2_072
    # Table 1 of the same file gives England and Wales 11,294 uses in 2016.
    assert figure("Total England and Wales", "2016", "ced_total", edition=EDITION_2016).value == 11_294
    assert figure("Thames Valley", "2015 (revised)", "ced_total", edition=EDITION_2016).value == 356
    # 43 forces, ten regions and England and Wales, eleven measures, two tables.
    assert PublishedFigure.objects.count() == 2 * 54 * 11


def current_figures():
    return set(
        PublishedFigure.objects.current().values_list(
            "period_start", "period_end", "geography", "measure", "value", "edition__name"
        )
    )


def test_the_real_editions_in_either_order_give_the_same_current_figures_the_newest_publications(forces):
    paths = [published(HOME_OFFICE_TASER_2016), published(HOME_OFFICE_TABLES_2018_19), published(TABLES_2019_20)]
    for path in paths:
        call_command("import_ho_tables", str(path), verbosity=0)
    in_publication_order = current_figures()
    PublishedFigure.objects.all().delete()
    Edition.objects.all().delete()
    for path in reversed(paths):
        call_command("import_ho_tables", str(path), verbosity=0)
    assert current_figures() == in_publication_order
    hampshire = (
        PublishedFigure.objects.current()
        .with_revised()
        .get(geography="Hampshire", financial_year="2017/18", measure="ced_total")
    )
    assert (hampshire.value, hampshire.edition.name, hampshire.revised_value) == (158, EDITION_2019_20, 158)
    met = PublishedFigure.objects.current().get(geography="Metropolitan", financial_year="2018/19", measure="ced_total")
    assert (met.value, met.edition.name) == (7_396, EDITION_2019_20)
    # 2018/19 use of force by force is only in the 2018/19 edition: it stays current there.
    tvp = PublishedFigure.objects.current().get(
        geography="Thames Valley", financial_year="2018/19", measure="use_of_force_total"
    )
    assert (tvp.value, tvp.edition.name) == (15_718, EDITION_2018_19)


# --- figures imported before editions were ranked --------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_figures_imported_before_editions_get_their_financial_year_period_and_a_dated_edition():
    executor = MigrationExecutor(connection)
    before, after = [("forces", "0003_api_tokens")], executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps
        OldForce, OldFigure = old.get_model("forces", "Force"), old.get_model("forces", "PublishedFigure")
        kent = OldForce.objects.create(id="kent", name="Kent Police", home_office_name="Kent", region="South East")
        for year, value, edition in [
            ("2017/18", 329, "Police use of force statistics (published 13 December 2018)"),
            ("2017/18", 158, "Police use of force statistics (published 17 December 2020)"),
            ("2019/20", 1037, "tables.xlsx"),
        ]:
            OldFigure.objects.create(force=kent, geography="Kent", financial_year=year, measure="ced_total",
                                     value=value, source_edition=edition)  # fmt: skip
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        figures = {(f.edition.name, f.edition.published_on, f.edition.published_on_source, f.period, f.period_kind,
                    f.value) for f in PublishedFigure.objects.select_related("edition")}  # fmt: skip
        assert figures == {
            ("Police use of force statistics (published 13 December 2018)", datetime.date(2018, 12, 13), "publication",
             "2017/18", "financial_year", 329),
            ("Police use of force statistics (published 17 December 2020)", datetime.date(2020, 12, 17), "publication",
             "2017/18", "financial_year", 158),
            ("tables.xlsx", datetime.date(2020, 3, 31), "latest_period", "2019/20", "financial_year", 1037),
        }  # fmt: skip
        assert PublishedFigure.objects.current().get(financial_year="2017/18").value == 158
    finally:
        MigrationExecutor(connection).migrate(after)
