"""import_population: Census 2021 TS021 (ethnic group) by local authority, summed into areas.

These files are made by hand in the shape of a Nomis download (the group totals followed by their
sub-groups), with real 2016 LAD codes; test_population_vintages sums codes of other years.
"""

import csv
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from forces.models import Area, PopulationBaseline
from tests.conftest import ONS_LOOKUP, published
from tests.factories import PopulationBaselineFactory

ASIAN = "Ethnic group: Asian, Asian British or Asian Welsh"
BLACK = "Ethnic group: Black, Black British, Black Welsh, Caribbean or African"
MIXED = "Ethnic group: Mixed or Multiple ethnic groups"
WHITE = "Ethnic group: White"
OTHER = "Ethnic group: Other ethnic group"
SUB_GROUPS = {
    ASIAN: ["Bangladeshi", "Chinese", "Indian", "Pakistani", "Other Asian"],
    BLACK: ["African", "Caribbean", "Other Black"],
    MIXED: ["White and Asian", "White and Black African", "White and Black Caribbean", "Other Mixed or Multiple"],
    WHITE: [
        "English, Welsh, Scottish, Northern Irish or British", "Irish", "Gypsy or Irish Traveller", "Roma",
        "Other White",
    ],
    OTHER: ["Arab", "Any other ethnic group"],
}  # fmt: skip
HEADER = ["date", "geography", "geography code", "Ethnic group: Total: All usual residents"] + [
    column for group, subs in SUB_GROUPS.items() for column in [group, *(f"{group}: {sub}" for sub in subs)]
]


def census_row(code, name, **sub_group_counts):
    """A TS021 row; sub_group_counts holds each group's sub-group counts, e.g. asian=[1, 2, 3, 4, 5]."""
    groups = {"asian": ASIAN, "black": BLACK, "mixed": MIXED, "white": WHITE, "other": OTHER}
    counts = {group: sub_group_counts.get(key, [0] * len(SUB_GROUPS[group])) for key, group in groups.items()}
    total = sum(sum(subs) for subs in counts.values())
    row = ["2021", name, code, str(total)]
    for subs in counts.values():
        row += [str(sum(subs)), *(str(count) for count in subs)]
    return row


OXFORD = census_row(
    "E07000178", "Oxford", asian=[1_500, 3_000, 4_000, 3_500, 2_000], black=[3_000, 1_000, 500],
    mixed=[1_000, 500, 1_500, 1_200], white=[100_000, 2_000, 100, 300, 12_000], other=[800, 1_600],
)  # fmt: skip
WARWICK = census_row(
    "E07000222", "Warwick", asian=[200, 900, 6_000, 300, 1_000], black=[700, 300, 100],
    mixed=[400, 200, 500, 400], white=[120_000, 1_200, 100, 50, 6_000], other=[300, 500],
)  # fmt: skip
STRATFORD = census_row(
    "E07000221", "Stratford-on-Avon", asian=[100, 300, 800, 100, 300], black=[200, 100, 50],
    mixed=[300, 100, 400, 300], white=[125_000, 900, 300, 20, 4_000], other=[100, 200],
)  # fmt: skip


def csv_line(values):
    line = StringIO()
    csv.writer(line).writerow(values)
    return line.getvalue().encode()


def write_census(path, rows, header=HEADER, encoding="utf-8"):
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def areas(forces):
    call_command("import_areas", published(ONS_LOOKUP), verbosity=0)


def baseline(area_code):
    return PopulationBaseline.objects.get(area__code=area_code, census_year=2021)


def groups_of(baseline):
    return {group: getattr(baseline, group) for group in ("white", "black", "asian", "mixed", "other", "total")}


def test_import_population_sums_local_authorities_into_their_areas(areas, tmp_path):
    path = write_census(tmp_path / "census2021-ts021-ltla.csv", [OXFORD, WARWICK, STRATFORD])
    call_command("import_population", str(path), verbosity=0)
    assert PopulationBaseline.objects.count() == 2
    oxford = baseline("E22000308")
    assert groups_of(oxford) == {
        "white": 114_400, "black": 4_500, "asian": 14_000, "mixed": 4_200, "other": 2_400, "total": 139_500,
    }  # fmt: skip
    assert (oxford.census_year, oxford.source) == (2021, "census2021-ts021-ltla.csv")
    # South Warwickshire is Stratford-on-Avon and Warwick together.
    south_warwickshire = baseline("E22000359")
    assert south_warwickshire.area.name == "South Warwickshire"
    assert groups_of(south_warwickshire) == {
        "white": 257_570, "black": 1_450, "asian": 10_000, "mixed": 2_600, "other": 1_100, "total": 272_720,
    }  # fmt: skip


def test_import_population_counts_chinese_residents_in_the_asian_group_once(areas, tmp_path):
    only_chinese = census_row("E07000178", "Oxford", asian=[0, 3_000, 0, 0, 0], white=[7_000, 0, 0, 0, 0])
    call_command("import_population", str(write_census(tmp_path / "ts021.csv", [only_chinese])), verbosity=0)
    # The sub-group columns are not added on top of their group's total.
    assert groups_of(baseline("E22000308")) == {
        "white": 7_000, "black": 0, "asian": 3_000, "mixed": 0, "other": 0, "total": 10_000,
    }  # fmt: skip


def test_import_population_reads_the_five_groups_by_name_in_any_column_order(areas, tmp_path):
    order = [3, 0, 2, 1] + list(reversed(range(4, len(HEADER))))
    reordered = [[row[position] for position in order] for row in (HEADER, OXFORD)]
    path = write_census(tmp_path / "ts021.csv", reordered[1:], header=reordered[0])
    call_command("import_population", str(path), verbosity=0)
    assert baseline("E22000308").asian == 14_000


def test_import_population_tolerates_a_byte_order_mark_case_and_spacing_in_the_header(areas, tmp_path):
    header = [f"  {column.upper()}  ".replace(": ", ":   ") for column in HEADER]
    header[3] = "Ethnic group: Total: All usual residents; measures: Value"
    path = write_census(tmp_path / "ts021.csv", [OXFORD], header=header, encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    call_command("import_population", str(path), verbosity=0)
    assert baseline("E22000308").total == 139_500


def test_import_population_replaces_2021_baselines_of_the_areas_in_the_file_only(areas, tmp_path):
    oxford, cherwell = Area.objects.get(code="E22000308"), Area.objects.get(code="E22000305")
    PopulationBaselineFactory(area=oxford, census_year=2021, source="old")
    PopulationBaselineFactory(area=oxford, census_year=2011, source="census 2011")
    PopulationBaselineFactory(area=cherwell, census_year=2021, source="old")
    path = write_census(tmp_path / "ts021.csv", [OXFORD])
    call_command("import_population", str(path), verbosity=0)
    call_command("import_population", str(path), verbosity=0)
    assert PopulationBaseline.objects.count() == 3
    assert baseline("E22000308").total == 139_500
    assert PopulationBaseline.objects.get(area=oxford, census_year=2011).source == "census 2011"
    assert PopulationBaseline.objects.get(area=cherwell).source == "old"


def test_import_population_skips_scottish_and_northern_irish_rows_and_says_how_many(areas, tmp_path):
    edinburgh = census_row("S12000036", "City of Edinburgh", white=[400_000, 0, 0, 0, 0])
    belfast = census_row("N09000003", "Belfast", white=[300_000, 0, 0, 0, 0])
    path = write_census(tmp_path / "ts021.csv", [OXFORD, edinburgh, belfast])
    out = StringIO()
    call_command("import_population", str(path), stdout=out)
    assert PopulationBaseline.objects.count() == 1
    assert "baselines for 1 areas from 1 local authorities" in out.getvalue()
    assert "2 Scottish or Northern Irish rows skipped" in out.getvalue()


def test_import_population_refuses_a_code_neither_the_lookup_nor_the_code_history_knows(areas, tmp_path):
    nowhere = census_row("E06000999", "Nowhere", white=[400_000, 0, 0, 0, 0])
    path = write_census(tmp_path / "ts021.csv", [OXFORD, nowhere])
    with pytest.raises(CommandError) as raised:
        call_command("import_population", str(path), verbosity=0)
    message = str(raised.value)
    assert message.startswith("row 3, geography code: 'E06000999' is not a local authority of the imported ONS lookup")
    assert "expected local authority codes of England and Wales from 2016 on" in message
    assert PopulationBaseline.objects.count() == 0


def test_import_population_lists_the_first_50_unknown_codes(areas, tmp_path):
    unknown = [census_row(f"E06099{number:03d}", f"Nowhere {number}", white=[10, 0, 0, 0, 0]) for number in range(55)]
    with pytest.raises(CommandError) as raised:
        call_command("import_population", str(write_census(tmp_path / "ts021.csv", unknown)), verbosity=0)
    message = str(raised.value)
    assert "55 code(s) are unknown (E06099000, E06099001," in message
    assert "E06099049 and 5 more)" in message
    assert "E06099050" not in message


def test_import_population_refuses_an_area_with_only_some_of_its_authorities(areas, tmp_path):
    with pytest.raises(CommandError, match=r"South Warwickshire \(E22000359\): local authority E07000221 is missing"):
        call_command("import_population", str(write_census(tmp_path / "ts021.csv", [WARWICK])), verbosity=0)
    assert PopulationBaseline.objects.count() == 0


def test_import_population_refuses_a_non_numeric_count_naming_row_column_and_value(areas, tmp_path):
    broken = list(WARWICK)
    broken[HEADER.index(WHITE)] = "lots"
    path = write_census(tmp_path / "ts021.csv", [OXFORD, STRATFORD, broken])
    with pytest.raises(CommandError, match=rf"^row 4, {WHITE}: 'lots' is not a count; expected a whole number"):
        call_command("import_population", str(path), verbosity=0)
    assert PopulationBaseline.objects.count() == 0


def test_import_population_refuses_groups_that_add_up_to_more_than_the_total(areas, tmp_path):
    broken = list(OXFORD)
    broken[3] = "100"
    with pytest.raises(
        CommandError, match=r"row 2, Ethnic group: Total: All usual residents: 100 is less than the five"
    ):
        call_command("import_population", str(write_census(tmp_path / "ts021.csv", [broken])), verbosity=0)


def test_import_population_refuses_a_local_authority_twice(areas, tmp_path):
    path = write_census(tmp_path / "ts021.csv", [OXFORD, OXFORD])
    with pytest.raises(CommandError, match=r"row 3, geography code: 'E07000178' appears twice \(first on row 2\)"):
        call_command("import_population", str(path), verbosity=0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty (0 bytes)"),
        (b"date,geography,geography code\n2021,Oxford,E07000178\n", "not a Census 2021 TS021 (ethnic group) table"),
        (csv_line(HEADER), "the file has a header but no rows"),
        (b"\xff\xfe\x00d\x00a\x00t\x00e", "not a UTF-8 text file"),
    ],
    ids=["empty", "another-table", "header-only", "utf-16"],
)
def test_import_population_refuses_bad_files_with_one_clear_sentence(areas, tmp_path, content, message):
    path = tmp_path / "ts021.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError) as raised:
        call_command("import_population", str(path), verbosity=0)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    assert PopulationBaseline.objects.count() == 0


def test_import_population_names_every_missing_column(areas, tmp_path):
    header = [column for column in HEADER if column not in (WHITE, "geography code")]
    with pytest.raises(CommandError, match=r"missing column\(s\) 'geography code', 'Ethnic group: White'\.$"):
        call_command("import_population", str(write_census(tmp_path / "ts021.csv", [], header=header)), verbosity=0)


def test_import_population_of_a_missing_file_says_so(areas):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_population", "/nonexistent/ts021.csv", verbosity=0)


def test_import_population_before_import_areas_says_what_to_run(forces, tmp_path):
    path = write_census(tmp_path / "ts021.csv", [OXFORD])
    with pytest.raises(CommandError, match="No local authorities are loaded; run import_areas first."):
        call_command("import_population", str(path), verbosity=0)
