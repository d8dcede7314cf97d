"""A file whose areas are mostly another force's is refused, unless the user says its areas are new."""

import html

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from forces.models import Area
from forces.services import InputError
from incidents.imports.pipeline import import_reports
from incidents.models import ImportBatch, UseOfForceReport
from tests.incidents.test_import_uof import met_file, row
from tests.incidents.test_vocabularies import canonical_file

LONDON = [
    "Barking and Dagenham", "Barnet", "Bexley", "Brent", "Bromley", "Camden", "Croydon", "Ealing", "Enfield",
    "Greenwich", "Hackney", "Hammersmith and Fulham", "Haringey", "Harrow",
]  # fmt: skip
REFUSED = (
    "uof.csv: 14 of 15 areas are boroughs of metropolitan, not thames-valley; nothing was imported; if they are new "
    "areas of thames-valley, import the file again allowing new areas (--new-areas)."
)


@pytest.fixture
def met_file_for_thames_valley(boroughs, tmp_path):
    """A Met export of 14 London boroughs and Heathrow, with one row in Oxford (a Thames Valley area)."""
    rows = [row(Borough=borough) for borough in [*LONDON, "Heathrow", "Out of force"]] + [row(Borough="Oxford")]
    return met_file(tmp_path / "uof.csv", rows)


def nothing_written(force, areas):
    return not UseOfForceReport.objects.exists() and force.areas.count() == areas


def test_a_met_file_imported_for_another_force_is_refused_naming_the_force_whose_areas_they_are(
    met_file_for_thames_valley, thames_valley
):
    areas = thames_valley.areas.count()
    with pytest.raises(CommandError) as refusal:
        call_command("import_uof", str(met_file_for_thames_valley), force="thames-valley", verbosity=0)
    assert str(refusal.value) == REFUSED
    assert nothing_written(thames_valley, areas)
    assert ImportBatch.objects.get().errors == [REFUSED]


def test_with_new_areas_the_command_imports_it_and_creates_the_areas_for_review(
    met_file_for_thames_valley, thames_valley, capsys
):
    areas = thames_valley.areas.count()
    call_command("import_uof", str(met_file_for_thames_valley), force="thames-valley", new_areas=True, verbosity=0)
    assert UseOfForceReport.objects.filter(force=thames_valley).count() == 17
    assert thames_valley.areas.count() == areas + 16
    assert thames_valley.areas.get(name="Barnet").needs_review


def test_a_file_with_a_few_new_areas_among_known_ones_is_imported(boroughs, thames_valley, tmp_path):
    rows = [row(Borough=name) for name in ("Oxford", "Reading", "Slough", "Newtown")]
    batch = import_reports(met_file(tmp_path / "uof.csv", rows), thames_valley)
    assert batch.rows_added == 4
    assert "Area 'Newtown' was not known and has been created; review it in the admin." in batch.notes


def test_a_force_without_areas_takes_the_files_areas(forces, thames_valley, tmp_path):
    batch = import_reports(met_file(tmp_path / "uof.csv", [row(Borough=name) for name in LONDON]), thames_valley)
    assert (batch.rows_added, thames_valley.areas.count()) == (14, 14)


def test_a_canonical_file_of_another_forces_area_codes_is_refused_too(boroughs, thames_valley, tmp_path):
    codes = Area.objects.filter(force_id="metropolitan").order_by("code").values_list("code", flat=True)[:3]
    path = canonical_file(tmp_path / "uof.csv", [{"area_code": code, "area_name": ""} for code in codes])
    with pytest.raises(InputError, match="3 of 3 areas are boroughs of metropolitan, not thames-valley"):
        import_reports(path, thames_valley)
    assert not UseOfForceReport.objects.exists()


def test_an_edition_revising_the_forces_own_reports_is_never_refused(boroughs, thames_valley, tmp_path):
    first = [row(Borough=name) for name in LONDON]
    import_reports(met_file(tmp_path / "uof.csv", first), thames_valley, new_areas=True)
    # The next edition adds rows in areas still unknown: its known rows make it the force's file.
    later = first + [row(Borough=name, IncidentDate="2020-05-01") for name in ("Atlantis", "Lyonesse")]
    batch = import_reports(met_file(tmp_path / "uof.csv", later), thames_valley)
    assert (batch.rows_unchanged, batch.rows_added) == (14, 2)


@pytest.mark.parametrize(("url", "ticked"), [("/reports/imports/", "on"), ("/api/v1/imports/", "true")])
def test_the_upload_page_and_the_api_refuse_it_and_accept_it_with_new_areas(
    send_file, met_file_for_thames_valley, url, ticked
):
    refused = send_file(url, met_file_for_thames_valley)
    assert REFUSED in html.unescape(refused.content.decode())
    assert not UseOfForceReport.objects.exists()
    send_file(url, met_file_for_thames_valley, new_areas=ticked)
    assert UseOfForceReport.objects.count() == 17
