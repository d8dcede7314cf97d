"""import_ho_tables: the Home Office "Police use of force statistics" data tables.

Most tests read the real 2019/20 edition; the others build small workbooks with openpyxl in the
layouts other editions use, to show that nothing depends on one edition's positions.
"""

from io import StringIO

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from python_calamine import CalamineWorkbook

from forces.models import PublishedFigure
from tests.conftest import HOME_OFFICE, HOME_OFFICE_TABLES_2019_20, published

TABLES_2019_20 = HOME_OFFICE_TABLES_2019_20
TASER_2016 = HOME_OFFICE / "police-use-of-conducted-energy-devices-2016.ods"
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


def figure(geography, financial_year, measure, edition=EDITION_2019_20):
    return PublishedFigure.objects.get(
        source_edition=edition, geography=geography, financial_year=financial_year, measure=measure
    )


def figures_of(edition):
    return set(
        PublishedFigure.objects.filter(source_edition=edition).values_list(
            "financial_year", "geography", "force", "measure", "value", "unit"
        )
    )


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


def test_import_ho_tables_keeps_total_rows_without_their_star_or_trailing_spaces(tables_2019_20):
    north_east = figure("Total North East", "2017/18", "ced_total")  # published as "*Total North East "
    assert (north_east.value, north_east.force) == (552, None)
    assert not PublishedFigure.objects.filter(geography__startswith="*").exists()
    assert not PublishedFigure.objects.filter(geography__endswith=" ").exists()
    # "Devon & Cornwall " has a trailing space too, and is a force.
    assert figure("Devon & Cornwall", "2019/20", "ced_total").force_id == "devon-and-cornwall"


def test_import_ho_tables_names_the_edition_from_the_cover_sheet(tables_2019_20):
    assert set(PublishedFigure.objects.values_list("source_edition", flat=True)) == {EDITION_2019_20}


def test_import_ho_tables_twice_changes_nothing(forces):
    call_command("import_ho_tables", published(TABLES_2019_20), verbosity=0)
    before = set(PublishedFigure.objects.values_list("pk", "financial_year", "geography", "measure", "value"))
    out = StringIO()
    call_command("import_ho_tables", published(TABLES_2019_20), stdout=out)
    assert set(PublishedFigure.objects.values_list("pk", "financial_year", "geography", "measure", "value")) == before
    assert len(before) == 1_836
    assert "1836 figures for 2017/18 to 2019/20 from Table_12, Table_13" in out.getvalue()
    assert "(0 new, 0 changed, 0 removed)" in out.getvalue()


def test_import_ho_tables_refuses_the_2016_calendar_year_taser_tables(forces):
    # Calendar-year "uses" of 2016 are not comparable with the financial-year counts from 2017.
    with pytest.raises(CommandError, match="no table of use of force by police force, nor of use of CED by type"):
        call_command("import_ho_tables", published(TASER_2016), verbosity=0)


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
    with pytest.raises(CommandError, match="has no Financial year column and its title does not name one financial"):
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
        call_command("import_ho_tables", published(TABLES_2019_20), verbosity=0)
