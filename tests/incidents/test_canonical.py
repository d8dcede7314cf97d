"""The canonical CSV: export, re-import, identical records; its data dictionary stays current."""

import csv
import datetime
import io
from pathlib import Path

import pytest

from incidents import canonical
from incidents.imports.pipeline import ImportFailed, import_reports
from incidents.models import CedLevel, UseOfForceReport
from oversight.api import CsvLines, copied_csv
from tests.factories import CedUseFactory, ReportFactory
from tests.test_constraints import postgresql_only

DICTIONARY = Path(__file__).resolve().parents[2] / "docs" / "data-dictionary.md"
PROVENANCE = {"id", "import_batch", "source_row", "content_hash", "data_version", "area"}


def record(report):
    """A report and its devices as plain values, without provenance."""
    fields = {f.name: getattr(report, f.attname) for f in report._meta.concrete_fields if f.name not in PROVENANCE}
    devices = [
        {f.name: getattr(use, f.name) for f in use._meta.concrete_fields if f.name not in ("id", "report")}
        for use in report.ced_uses.order_by("device_number")
    ]
    return fields | {"area_code": report.area.code, "devices": devices}


def export(path):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        canonical.write(UseOfForceReport.objects.current(), handle)
    return path


@pytest.fixture
def varied_reports(oxford):
    fired = ReportFactory(
        area=oxford, source_key="TVP-0001", occurred_at=datetime.time(23, 5), incident_reference="INC-9",
        officer_reference="OFF-12", ced_levels=[CedLevel.DRAWN, CedLevel.RED_DOTTED, CedLevel.FIRED],
        subject_age="11_17", subject_ethnicity="asian", subject_ethnicity_source="Chinese", subject_conduct=5,
        officer_single_crewed=True, officer_assaulted=None, body_worn_video="yes", location_dwelling=True,
        reason_prevent_harm=True, outcome_hospitalised=True, subject_injury="minor",
        officer_main_duty="Response, nights",
    )  # fmt: skip
    CedUseFactory(
        report=fired, device_model="taser7", serial_number="T7-1", ced_drawn=True, ced_fired=True, cycles=2,
        cycle_extended=True, missed_one_probe=False, probe_zones=["F3", "BA"], cartridge_number=1,
    )  # fmt: skip
    CedUseFactory(report=fired, device_number=2, ced_red_dotted=True)
    ReportFactory(area=oxford, source_key="TVP-0002", ced_levels=[])  # Taser used, level not stated
    ReportFactory(area=oxford, source_key="TVP-0003", occurred_on=datetime.date(2024, 2, 29))
    return [record(r) for r in UseOfForceReport.objects.order_by("source_key")]


def test_an_export_reimported_gives_identical_records(varied_reports, thames_valley, tmp_path):
    path = export(tmp_path / "export.csv")
    UseOfForceReport.objects.all().delete()
    batch = import_reports(path, thames_valley)
    assert (batch.rows_added, batch.source_format) == (3, "canonical")
    assert [record(r) for r in UseOfForceReport.objects.order_by("source_key")] == varied_reports


def test_reimporting_an_export_over_its_own_records_changes_nothing_the_second_time(
    varied_reports, thames_valley, tmp_path
):
    path = export(tmp_path / "export.csv")
    import_reports(path, thames_valley)
    again = import_reports(path, thames_valley)
    assert (again.rows_added, again.rows_changed, again.rows_unchanged, again.rows_withdrawn) == (0, 0, 3, 0)


def test_the_export_has_one_column_per_field_and_plain_values(varied_reports, tmp_path):
    text = export(tmp_path / "export.csv").read_text(encoding="utf-8")
    header, first = text.splitlines()[:2]
    assert header.split(",")[:4] == ["source_key", "force", "area_code", "area_name"]
    assert "TVP-0001,thames-valley,E22000155,Oxford" in first
    assert ",23:05," in first and ",F3 BA," in first and '"Response, nights"' in first


def test_a_contradicting_highest_level_is_refused(varied_reports, thames_valley, tmp_path):
    text = export(tmp_path / "export.csv").read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    column = header.index("ced_fired")
    cells = text[1].split(",")
    # The first row is quoted (a comma in main duty), so find the column from the end instead.
    from_end = len(header) - column
    cells[-from_end] = "no"
    text[1] = ",".join(cells)
    path = tmp_path / "edited.csv"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as failure:
        import_reports(path, thames_valley)
    assert "row 2, highest_ced_level: '6' contradicts the levels used (highest: 3)" in failure.value.batch.errors


def test_a_repeated_source_key_is_refused(varied_reports, thames_valley, tmp_path):
    lines = export(tmp_path / "export.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "twice.csv"
    path.write_text("\n".join([*lines, lines[-1]]) + "\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as failure:
        import_reports(path, thames_valley)
    assert failure.value.batch.errors == ["row 5, source_key: 'TVP-0003' repeats row 4; each record appears once"]


def test_rows_without_a_source_key_are_each_reported_once_as_empty(varied_reports, thames_valley, tmp_path):
    rows = list(csv.reader(io.StringIO(export(tmp_path / "export.csv").read_text(encoding="utf-8"))))
    for row in rows[1:3]:
        row[0] = ""
    path = tmp_path / "no-keys.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    with pytest.raises(ImportFailed) as failure:
        import_reports(path, thames_valley)
    assert [error.split(":")[0] for error in failure.value.batch.errors] == ["row 2, source_key", "row 3, source_key"]
    assert all("is empty" in error for error in failure.value.batch.errors)


def test_rows_of_another_force_are_refused(varied_reports, metropolitan, tmp_path):
    with pytest.raises(ImportFailed) as failure:
        import_reports(export(tmp_path / "export.csv"), metropolitan)
    assert "row 2, force: 'thames-valley' is not metropolitan, the force imported into" in failure.value.batch.errors


def rewritten(path, **cells):
    """The exported file with the named columns of every record set to new values."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    for column, value in cells.items():
        for row in rows[1:]:
            row[rows[0].index(column)] = value
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_a_known_area_under_a_code_the_force_does_not_use_is_matched_by_name(
    varied_reports, thames_valley, oxford, tmp_path
):
    # As after an export from a copy whose areas had other codes (the demo's, or the ONS lookup's).
    path = rewritten(export(tmp_path / "export.csv"), area_code="DEMO-THA01")
    UseOfForceReport.objects.all().delete()
    batch = import_reports(path, thames_valley)
    assert batch.rows_added == 3
    assert {report.area for report in UseOfForceReport.objects.all()} == {oxford}
    assert list(thames_valley.areas.all()) == [oxford]
    assert batch.notes == [
        "Area code 'DEMO-THA01' is not one of the force's; its rows were counted in the force's area "
        "'Oxford', whose code is E22000155."
    ]


def test_an_area_code_longer_than_its_column_is_refused_and_nothing_is_written(varied_reports, thames_valley, tmp_path):
    path = rewritten(export(tmp_path / "export.csv"), area_code="E22000155-AND-MORE-TEXT", area_name="Nowhere")
    with pytest.raises(ImportFailed) as failure:
        import_reports(path, thames_valley)
    assert failure.value.batch.errors[0] == "row 2, area_code: 'E22000155-AND-MORE-TEXT' is longer than 20 characters"
    assert [record(r) for r in UseOfForceReport.objects.order_by("source_key")] == varied_reports
    assert not thames_valley.areas.filter(name="Nowhere").exists()


def test_the_data_dictionary_in_docs_is_current():
    assert DICTIONARY.read_text(encoding="utf-8") == canonical.data_dictionary(), (
        "Regenerate docs/data-dictionary.md from incidents.canonical.data_dictionary()."
    )


def test_the_writer_streams_to_any_text_handle(varied_reports):
    buffer = io.StringIO()
    canonical.write(UseOfForceReport.objects.current(), buffer)
    assert buffer.getvalue().count("\n") == 4


@postgresql_only
def test_postgresqls_copy_writes_the_same_csv_as_python(varied_reports, oxford):
    ReportFactory(source_key="TVP-0004", officer_main_duty='Said "stop", then\nleft', area=None)
    reports = UseOfForceReport.objects.current()
    from_python = list(csv.reader(io.StringIO("".join(CsvLines().row(row) for row in canonical.rows(reports)))))
    copied = b"".join(copied_csv([canonical.copy_query(reports)], canonical.HEADER)).decode()
    assert list(csv.reader(io.StringIO(copied))) == from_python
    assert len(from_python) == 1 + 4
