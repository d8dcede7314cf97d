from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from forces.models import Area, Force, LocalAuthority
from forces.services import FORCES, load_forces
from tests.conftest import ONS_LOOKUP, published
from tests.factories import AreaFactory, ReportFactory


def test_load_forces_loads_43_territorial_forces_and_btp(db):
    load_forces()
    assert Force.objects.count() == 44
    assert Force.objects.get(pk="btp").name == "British Transport Police"
    assert Force.objects.get(home_office_name="Avon & Somerset").pk == "avon-and-somerset"
    assert Force.objects.get(pk="metropolitan").home_office_name == "Metropolitan"


def test_load_forces_twice_changes_nothing_and_restores_edited_names(db):
    call_command("load_forces", verbosity=0)
    Force.objects.filter(pk="kent").update(name="Edited by mistake")
    call_command("load_forces", verbosity=0)
    assert Force.objects.count() == 44
    assert Force.objects.get(pk="kent").name == "Kent Police"


def test_every_force_has_a_home_office_region_except_btp(db):
    load_forces()
    assert set(Force.objects.filter(region="").values_list("pk", flat=True)) == {"btp"}
    assert {force[4] for force in FORCES} - {""} == {
        "North East", "North West", "Yorkshire and the Humber", "East Midlands", "West Midlands",
        "East of England", "London", "South East", "South West", "Wales",
    }  # fmt: skip


def test_import_areas_reads_the_real_ons_lookup_into_areas_of_each_force(forces):
    call_command("import_areas", published(ONS_LOOKUP), verbosity=0)
    assert Area.objects.count() == 315
    assert Area.objects.values("force").distinct().count() == 43  # every force but BTP
    thames_valley = Area.objects.filter(force="thames-valley")
    assert thames_valley.count() == 16
    assert thames_valley.filter(name="Oxford").exists()
    assert set(Area.objects.filter(force="metropolitan").values_list("kind", flat=True)) == {"borough"}
    assert Area.objects.filter(force="metropolitan").count() == 32


def test_import_areas_records_each_local_authority_of_the_lookup_in_its_area(forces):
    call_command("import_areas", published(ONS_LOOKUP), verbosity=0)
    assert LocalAuthority.objects.count() == 348  # the lookup's 348 rows hold 348 distinct LAD16CD codes
    oxford = LocalAuthority.objects.get(code="E07000178")
    assert (oxford.name, oxford.area.name, oxford.area.code, oxford.area.force_id) == (
        "Oxford", "Oxford", "E22000308", "thames-valley"
    )  # fmt: skip
    # Some areas join several districts: South Warwickshire is Stratford-on-Avon and Warwick.
    south_warwickshire = Area.objects.get(code="E22000359")
    assert set(south_warwickshire.local_authorities.values_list("name", flat=True)) == {"Stratford-on-Avon", "Warwick"}
    assert not Area.objects.filter(local_authorities=None).exists()


def test_import_areas_says_how_many_local_authorities_it_imported(forces):
    out = StringIO()
    call_command("import_areas", published(ONS_LOOKUP), stdout=out)
    assert "315 areas in 43 forces, with 348 local authorities" in out.getvalue()


def test_import_areas_handles_the_byte_order_mark(forces):
    assert published(ONS_LOOKUP).read_bytes().startswith(b"\xef\xbb\xbf")
    call_command("import_areas", published(ONS_LOOKUP), verbosity=0)
    # The first header (LAD16CD) carries the mark; the columns after it are read all the same.
    assert Force.objects.get(pk="thames-valley").pfa_code.startswith("E23")


def test_import_areas_twice_changes_nothing(forces):
    call_command("import_areas", published(ONS_LOOKUP), verbosity=0)
    LocalAuthority.objects.filter(code="E07000178").update(name="Edited by mistake")
    call_command("import_areas", published(ONS_LOOKUP), verbosity=0)
    assert Area.objects.count() == 315
    assert LocalAuthority.objects.count() == 348
    assert LocalAuthority.objects.get(code="E07000178").name == "Oxford"


def test_import_areas_with_an_unknown_force_names_row_field_and_value_and_writes_nothing(forces, tmp_path):
    lines = published(ONS_LOOKUP).read_text(encoding="utf-8-sig").splitlines()
    lines.append("E06099999,Atlantis,E22099999,Atlantis,E23099999,Atlantis Constabulary,999")
    broken = tmp_path / "lookup.csv"
    broken.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(CommandError, match=rf"row {len(lines)}, PFA16NM: 'Atlantis Constabulary' is not a known"):
        call_command("import_areas", str(broken), verbosity=0)
    assert Area.objects.count() == 0
    assert LocalAuthority.objects.count() == 0


def test_import_areas_refuses_a_local_authority_in_two_areas_and_writes_nothing(forces, tmp_path):
    lines = published(ONS_LOOKUP).read_text(encoding="utf-8-sig").splitlines()
    lines.append("E07000178,Oxford,E22000305,Cherwell,E23000029,Thames Valley,999")
    broken = tmp_path / "lookup.csv"
    broken.write_text("\n".join(lines), encoding="utf-8")
    first = next(number for number, line in enumerate(lines, start=1) if line.startswith("E07000178,"))
    with pytest.raises(
        CommandError, match=rf"row {len(lines)}, LAD16CD: 'E07000178' appears twice \(first on row {first}\)"
    ):
        call_command("import_areas", str(broken), verbosity=0)
    assert LocalAuthority.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"name,code\nOxford,E1\n", "not an ONS LAD"),
        (b"LAD16CD,LAD16NM,CSP16CD,CSP16NM,PFA16CD,PFA16NM,FID\n", "header but no rows"),
        (b"%PDF-1.4\n\xff\xfe\x00binary", "not a UTF-8 text file"),
    ],
    ids=["empty", "another-format", "header-only", "pdf"],
)
def test_import_areas_refuses_bad_files_with_one_clear_sentence(forces, tmp_path, content, message):
    path = tmp_path / "lookup.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        call_command("import_areas", str(path), verbosity=0)
    assert Area.objects.count() == 0


def test_import_areas_of_a_missing_file_says_so(forces):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_areas", "/nonexistent/lookup.csv", verbosity=0)


def test_import_areas_reads_a_lookup_of_a_later_vintage(forces, tmp_path):
    later = tmp_path / "LAD23_CSP23_PFA23.csv"
    later.write_text(
        "LAD23CD,LAD23NM,CSP23CD,CSP23NM,PFA23CD,PFA23NM,ObjectId\n"
        "E06000060,Buckinghamshire,E22000301,Buckinghamshire,E23000029,Thames Valley,1\n",
        encoding="utf-8-sig",
    )
    call_command("import_areas", str(later), verbosity=0)
    assert Area.objects.get(code="E22000301").local_authorities.get().name == "Buckinghamshire"


def test_import_areas_gives_an_area_named_in_records_its_ons_code_and_keeps_its_reports(forces):
    named_in_records = AreaFactory(code="TVP-OXFORD", name="OXFORD", needs_review=True)
    report = ReportFactory(area=named_in_records)
    call_command("import_areas", published(ONS_LOOKUP), verbosity=0)
    oxford = Area.objects.get(force="thames-valley", code="E22000308")
    assert (oxford.pk, oxford.name, oxford.needs_review) == (named_in_records.pk, "Oxford", False)
    assert report.__class__.objects.get(pk=report.pk).area == oxford


def test_import_areas_refuses_a_name_and_a_code_of_two_different_areas_and_writes_nothing(forces):
    AreaFactory(code="E22000308", name="Oxford City")
    AreaFactory(code="TVP-OXFORD", name="Oxford")
    with pytest.raises(CommandError, match=r"row \d+, CSP16NM: 'Oxford' is the name of the force's area TVP-OXFORD"):
        call_command("import_areas", published(ONS_LOOKUP), verbosity=0)
    assert Area.objects.count() == 2
    assert LocalAuthority.objects.count() == 0
