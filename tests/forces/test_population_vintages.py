"""Census 2021 summed through area lookups of another year: the code history relates the codes.

The lookups and census tables here are small files made by the test in the published layouts: the
real December 2016 lookup's columns (LAD16CD…) and a December 2023 one's (LAD23CD…), and Nomis's
TS021 as a CSV and as the ZIP it comes in. The local authority codes are the real ones; the CSP codes
of the 2023 lookup are stand-ins. Thames Valley shows a census authority made since the 2016 lookup
(Buckinghamshire, 2020), Cumbria one made since the census (Cumberland, Westmorland and Furness, 2023).
"""

import csv
import io
import zipfile
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from forces.local_authority_changes import code_changes, latest_code
from forces.models import Force, ForcePopulationBaseline, LocalAuthority, PopulationBaseline
from incidents import queries as incident_queries
from tests.conftest import ONS_LOOKUP, published
from tests.dashboards.test_reconciliation import publish
from tests.forces.test_population import HEADER, census_row

TV, CUMBRIA = ("E23000029", "Thames Valley"), ("E23000002", "Cumbria")
LOOKUP_2016 = [
    ("E07000178", "Oxford", "E22000308", "Oxford", *TV),
    ("E07000004", "Aylesbury Vale", "E22000303", "Aylesbury Vale", *TV),
    ("E07000005", "Chiltern", "E22000306", "Chiltern", *TV),
    ("E07000006", "South Bucks", "E22000311", "South Bucks", *TV),
    ("E07000007", "Wycombe", "E22000318", "Wycombe", *TV),
    ("E07000026", "Allerdale", "E22000031", "Allerdale", *CUMBRIA),
    ("E07000027", "Barrow-in-Furness", "E22000032", "Barrow-in-Furness", *CUMBRIA),
    ("E07000028", "Carlisle", "E22000033", "Carlisle", *CUMBRIA),
    ("E07000029", "Copeland", "E22000034", "Copeland", *CUMBRIA),
    ("E07000030", "Eden", "E22000035", "Eden", *CUMBRIA),
    ("E07000031", "South Lakeland", "E22000036", "South Lakeland", *CUMBRIA),
]
LOOKUP_2023 = [
    ("E07000178", "Oxford", "E22000308", "Oxford", *TV),
    ("E06000060", "Buckinghamshire", "E22000401", "Buckinghamshire", *TV),
    ("E06000063", "Cumberland", "E22000402", "Cumberland", *CUMBRIA),
    ("E06000064", "Westmorland and Furness", "E22000403", "Westmorland and Furness", *CUMBRIA),
]

# Residents by authority, all White but for a few Asian ones, so that sums are easy to follow.
OXFORD = census_row("E07000178", "Oxford", white=[150_000, 0, 0, 0, 0], asian=[0, 2_000, 0, 0, 0])
BUCKINGHAMSHIRE_DISTRICTS = {
    "E07000004": 200_000, "E07000005": 95_000, "E07000006": 70_000, "E07000007": 175_000,
}  # fmt: skip
CUMBRIA_DISTRICTS = {
    "E07000026": 96_000, "E07000028": 110_000, "E07000029": 68_000,  # Cumberland
    "E07000027": 67_000, "E07000030": 55_000, "E07000031": 104_000,  # Westmorland and Furness
}  # fmt: skip
BUCKINGHAMSHIRE = sum(BUCKINGHAMSHIRE_DISTRICTS.values())
CUMBERLAND = 96_000 + 110_000 + 68_000
WESTMORLAND_AND_FURNESS = 67_000 + 55_000 + 104_000


def white_only(code, residents):
    return census_row(code, code, white=[residents, 0, 0, 0, 0])


def census_2021_codes():
    """As Census 2021 came out: Buckinghamshire one authority, Cumbria still six districts."""
    return [OXFORD, white_only("E06000060", BUCKINGHAMSHIRE)] + [
        white_only(code, residents) for code, residents in CUMBRIA_DISTRICTS.items()
    ]


def census_2023_codes():
    """As ONS re-issued it on the authorities of April 2023."""
    return [
        OXFORD, white_only("E06000060", BUCKINGHAMSHIRE), white_only("E06000063", CUMBERLAND),
        white_only("E06000064", WESTMORLAND_AND_FURNESS),
    ]  # fmt: skip


def census_2016_codes():
    return [OXFORD] + [
        white_only(code, residents) for code, residents in {**BUCKINGHAMSHIRE_DISTRICTS, **CUMBRIA_DISTRICTS}.items()
    ]


def write_lookup(path, rows, year):
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([f"LAD{year}CD", f"LAD{year}NM", f"CSP{year}CD", f"CSP{year}NM", f"PFA{year}CD",
                         f"PFA{year}NM", "ObjectId"])  # fmt: skip
        writer.writerows([*row, number] for number, row in enumerate(rows, start=1))
    return str(path)


def write_census_csv(path, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return str(path)


def write_census_zip(path, rows):
    """Nomis's bulk ZIP: the table at each level of geography, the local authorities in -ltla.csv."""
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(HEADER)
    writer.writerows(rows)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("census2021-ts021-ctry.csv", "date,geography,geography code\n2021,England,E92000001\n")
        archive.writestr("census2021-ts021-ltla.csv", table.getvalue())
        archive.writestr("census2021-ts021-rgn.csv", "date,geography,geography code\n")
    return str(path)


def import_population(path):
    out = StringIO()
    call_command("import_population", path, stdout=out)
    return out.getvalue()


def area_total(name):
    baseline = PopulationBaseline.objects.filter(area__name=name, census_year=2021).first()
    return baseline and baseline.total


def force_total(force_id):
    return incident_queries.populations(force=Force.objects.get(pk=force_id))["total"]


@pytest.fixture
def lookup_2016(forces, tmp_path):
    call_command("import_areas", write_lookup(tmp_path / "lookup16.csv", LOOKUP_2016, "16"), verbosity=0)


@pytest.fixture
def lookup_2023(forces, tmp_path):
    call_command("import_areas", write_lookup(tmp_path / "lookup23.csv", LOOKUP_2023, "23"), verbosity=0)


def test_census_2021_codes_sum_into_whole_forces_through_the_2016_lookup(lookup_2016, tmp_path):
    output = import_population(write_census_csv(tmp_path / "census2021-ts021-ltla.csv", census_2021_codes()))
    assert force_total("thames-valley") == 152_000 + BUCKINGHAMSHIRE
    assert force_total("cumbria") == CUMBERLAND + WESTMORLAND_AND_FURNESS
    assert area_total("Oxford") == 152_000
    assert area_total("Eden") == 55_000
    # Census 2021 cannot tell the four former districts apart: no area of them gets a made-up share.
    assert [area_total(name) for name in ("Aylesbury Vale", "Chiltern", "South Bucks", "Wycombe")] == [None] * 4
    assert (
        "Census 2021 counts Buckinghamshire (E06000060) as one, where the lookup has the areas Aylesbury Vale, "
        "Chiltern, South Bucks, Wycombe: they have no baseline of their own, and count in Thames Valley Police's."
    ) in output
    assert "Whole forces: 2." in output
    whole = ForcePopulationBaseline.objects.get(force="thames-valley")
    assert (whole.white, whole.asian, whole.lookup_year, whole.source) == (
        150_000 + BUCKINGHAMSHIRE, 2_000, 2016, "census2021-ts021-ltla.csv",
    )  # fmt: skip


def test_census_2021_codes_sum_into_todays_areas_through_the_2023_lookup_from_the_zip(lookup_2023, tmp_path):
    import_population(write_census_zip(tmp_path / "census2021-ts021.zip", census_2021_codes()))
    assert area_total("Buckinghamshire") == BUCKINGHAMSHIRE
    # Cumberland did not exist on Census day: its three districts are summed into it.
    assert area_total("Cumberland") == CUMBERLAND
    assert area_total("Westmorland and Furness") == WESTMORLAND_AND_FURNESS
    assert force_total("thames-valley") == 152_000 + BUCKINGHAMSHIRE
    assert force_total("cumbria") == CUMBERLAND + WESTMORLAND_AND_FURNESS
    assert ForcePopulationBaseline.objects.get(force="cumbria").source == "census2021-ts021.zip"


def test_census_2023_codes_give_the_same_sums_through_either_lookup(forces, tmp_path):
    census = write_census_csv(tmp_path / "ts021-2023.csv", census_2023_codes())
    totals = []
    for rows, year in ((LOOKUP_2016, "16"), (LOOKUP_2023, "23")):
        call_command("import_areas", write_lookup(tmp_path / f"lookup{year}.csv", rows, year), verbosity=0)
        import_population(census)
        totals.append((force_total("thames-valley"), force_total("cumbria")))
    assert totals == [(152_000 + BUCKINGHAMSHIRE, CUMBERLAND + WESTMORLAND_AND_FURNESS)] * 2
    assert area_total("Cumberland") == CUMBERLAND


def test_the_old_buckinghamshire_codes_give_each_2016_area_its_own_baseline(lookup_2016, tmp_path):
    import_population(write_census_csv(tmp_path / "ts021.csv", census_2016_codes()))
    assert [area_total(name) for name in ("Aylesbury Vale", "Chiltern", "South Bucks", "Wycombe")] == [
        200_000, 95_000, 70_000, 175_000,
    ]  # fmt: skip
    assert force_total("thames-valley") == 152_000 + BUCKINGHAMSHIRE


def test_the_old_buckinghamshire_codes_sum_into_todays_authority_through_the_2023_lookup(lookup_2023, tmp_path):
    import_population(write_census_csv(tmp_path / "ts021.csv", census_2016_codes()))
    assert area_total("Buckinghamshire") == BUCKINGHAMSHIRE
    assert area_total("Westmorland and Furness") == WESTMORLAND_AND_FURNESS


def test_a_merged_authority_with_a_district_missing_is_refused_naming_it(lookup_2023, tmp_path):
    rows = [row for row in census_2016_codes() if row[2] != "E07000006"]
    with pytest.raises(CommandError) as raised:
        import_population(write_census_csv(tmp_path / "ts021.csv", rows))
    assert "is part of E06000060 in the imported lookup, and E07000006, also part of it, is missing" in str(
        raised.value
    )
    assert not PopulationBaseline.objects.exists() and not ForcePopulationBaseline.objects.exists()


def test_a_file_mixing_the_codes_of_two_years_is_refused_rather_than_counted_twice(lookup_2016, tmp_path):
    rows = [*census_2021_codes(), white_only("E07000004", 200_000)]
    with pytest.raises(CommandError, match="the file mixes the codes of different years, and would count"):
        import_population(write_census_csv(tmp_path / "ts021.csv", rows))
    assert not ForcePopulationBaseline.objects.exists()


def test_a_newer_lookup_replaces_the_districts_it_merged(lookup_2016, tmp_path):
    call_command("import_areas", write_lookup(tmp_path / "lookup23.csv", LOOKUP_2023, "23"), verbosity=0)
    codes = set(LocalAuthority.objects.values_list("code", flat=True))
    assert codes == {"E07000178", "E06000060", "E06000063", "E06000064"}
    assert LocalAuthority.objects.get(code="E06000060").lookup_year == 2023
    import_population(write_census_csv(tmp_path / "ts021.csv", census_2021_codes()))
    assert force_total("thames-valley") == 152_000 + BUCKINGHAMSHIRE
    assert ForcePopulationBaseline.objects.get(force="thames-valley").lookup_year == 2023


def test_a_zip_without_a_table_by_local_authority_is_refused(lookup_2023, tmp_path):
    path = tmp_path / "census2021-ts021.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("census2021-ts021-rgn.csv", "date,geography,geography code\n")
    with pytest.raises(CommandError, match=r"a ZIP file without one table by local authority .*-ltla\.csv"):
        import_population(str(path))


def test_the_public_page_names_the_population_its_rates_divide_by(lookup_2016, client, tmp_path):
    import_population(write_census_csv(tmp_path / "census2021-ts021-ltla.csv", census_2021_codes()))
    thames_valley = Force.objects.get(pk="thames-valley")
    publish(thames_valley, "2019/20", use_of_force_total=15_000, ced_total=778, ced_discharge=90, ced_fired=70)
    page = client.get("/public/thames-valley/").content.decode()
    assert f"{152_000 + BUCKINGHAMSHIRE:,} residents, Census 2021 usual residents (table TS021, " in page
    assert "ltla.csv), summed into the force area through the ONS local authority lookup of 2016" in page
    assert f'<td class="num">{round(778 * 1000 / (152_000 + BUCKINGHAMSHIRE), 2)}</td>' in page


def test_the_code_history_agrees_with_the_december_2016_lookup():
    """Every district the history retires that existed in December 2016 is in that lookup, by the same name;
    no authority the history makes is."""
    with published(ONS_LOOKUP).open(encoding="utf-8-sig", newline="") as handle:
        names = {row["LAD16CD"]: row["LAD16NM"] for row in csv.DictReader(handle)}
    made = {change.new_code for change in code_changes()}
    for change in code_changes():
        assert change.new_code not in names
        if change.old_code not in made:
            assert names[change.old_code] == change.old_name
    # Every 2016 district maps to a code of today, and no two changes retire the same code.
    assert len({change.old_code for change in code_changes()}) == len(code_changes())
    assert latest_code("E07000190") == "E06000066"  # Taunton Deane, via Somerset West and Taunton (2019)


def codes_of(year):
    """{district code of `year`: the December 2016 districts it is made of}, from the real 2016 lookup."""
    with published(ONS_LOOKUP).open(encoding="utf-8-sig", newline="") as handle:
        districts = [row["LAD16CD"] for row in csv.DictReader(handle)]
    retired = {change.old_code: change for change in code_changes()}
    made = {}
    for district in districts:
        code = district
        while code in retired and retired[code].took_effect.year <= year:
            code = retired[code].new_code
        made.setdefault(code, []).append(district)
    return made


@pytest.mark.parametrize(("year", "areas_counted_together"), [(2021, 15), (2023, 21)])
def test_a_census_of_all_england_and_wales_sums_into_every_force_through_the_real_2016_lookup(
    forces, tmp_path, year, areas_counted_together
):
    """Every district of the real December 2016 lookup, as the census of `year` codes it, 1,000 residents a
    2016 district: every territorial force whole, and all but the areas merged authorities span counted."""
    call_command("import_areas", str(published(ONS_LOOKUP)), verbosity=0)
    made = codes_of(year)
    rows = [white_only(code, 1_000 * len(districts)) for code, districts in made.items()]
    rows.append(white_only("S12000036", 500_000))
    output = import_population(write_census_csv(tmp_path / "ts021.csv", rows))
    assert ForcePopulationBaseline.objects.count() == 43
    assert force_total("thames-valley") == 1_000 * LocalAuthority.objects.filter(area__force="thames-valley").count()
    assert sum(ForcePopulationBaseline.objects.values_list("total", flat=True)) == 348_000
    assert PopulationBaseline.objects.count() == 315 - areas_counted_together
    assert "Census 2021 counts Buckinghamshire (E06000060) as one" in output
    assert ("Cumberland (E06000063)" in output) is (year == 2023)
    assert "1 Scottish or Northern Irish rows skipped" in output
