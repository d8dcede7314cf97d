"""import_uof on hand-made files in the Metropolitan Police export format, quirks included."""

import csv
import functools
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from openpyxl import Workbook

from forces.models import Area
from incidents import met_format, readers
from incidents.imports import bulk, pipeline
from incidents.imports.matching import content_digests
from incidents.imports.pipeline import ImportFailed, import_reports
from incidents.models import CedLevel, CedUse, ImportBatch, UseOfForceReport
from tests.conftest import ONS_LOOKUP, published
from tests.factories import ReportFactory
from tests.test_constraints import postgresql_only

BASE = {
    "IncidentDate": "2020-04-03", "IncidentTime": "14:20", "Borough": "Lambeth", "PrimaryConduct": "Active resistance",
    "Incident Location: Street/Highway": "Yes", "Impact Factor: Possesion of a weapon": "Yes",
    "Reason for Force: Protect self": "Yes", "MainDuty": "Response", "SingleCrewed": "No", "TrainedCED": "Yes",
    "CarryingCED": "Yes", "SubjectAge": "18-34", "SubjectGender": "Male", "SubjectEthnicity": "White",
    "PhysicalDisability": "No", "MentalDisability": "No", "StaffInjured": "No", "SubjectInjured": "No",
    "Outcome: Arrested": "Yes", "CED Used": "No",
}  # fmt: skip


@pytest.fixture
def boroughs(boroughs_of_the_module, metropolitan):
    """The ONS lookup's areas, read once for this module's tests, which all take them as they are."""


def met_file(path, rows, encoding="utf-8", delimiter=","):
    """A Met-format CSV with the union of the rows' columns, in first-seen order."""
    header = list(dict.fromkeys(name for row in rows for name in row))
    with open(path, "w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows([row.get(name, "") for name in header] for row in rows)
    return path


def row(**changes):
    return BASE | {name.replace("__", " "): value for name, value in changes.items()}


def reports():
    return UseOfForceReport.objects.current().order_by("source_row")


def test_imports_a_plain_met_row_with_its_categories(boroughs, metropolitan, tmp_path):
    batch = import_reports(met_file(tmp_path / "uof.csv", [row()]), metropolitan)
    report = reports().get()
    assert (batch.status, batch.rows_added, batch.data_version) == ("succeeded", 1, 1)
    assert (report.area.name, report.occurred_at.isoformat(), report.subject_age) == ("Lambeth", "14:20:00", "18_34")
    assert report.location_street and report.impact_weapon and report.reason_protect_self and report.outcome_arrested
    assert (report.officer_single_crewed, report.officer_ced_trained, report.subject_conduct) == (False, True, 4)
    assert (report.subject_health, report.officer_injury, report.highest_ced_level) == ("none", "none", None)
    assert (report.import_batch, report.source_row, report.data_version) == (batch, 2, 1)


def test_chinese_counts_as_asian_and_dont_know_as_not_reported_keeping_the_source(boroughs, metropolitan, tmp_path):
    import_reports(
        met_file(tmp_path / "uof.csv", [row(SubjectEthnicity="Chinese"), row(SubjectEthnicity="Don't know")]),
        metropolitan,
    )
    assert list(reports().values_list("subject_ethnicity", "subject_ethnicity_source")) == [
        ("asian", "Chinese"), ("not_reported", "Don't know"),
    ]  # fmt: skip


def test_each_ced_block_becomes_a_device_and_the_report_counts_at_its_highest(boroughs, metropolitan, tmp_path):
    fired = row(**{
        "CED Used": "Yes", "CED Drawn": "Yes", "CED Red-Dotted": "Yes", "CED Fired": "Yes",
        "CED Fired Total Number Of Cycles": "3", "CED Fired Cycle Extended Beyond 5 Secs": "Yes", "CED Front 3": "Yes",
        "CED Back A": "Yes", "CED Device Serial No": "X2-0001", "CED2 Drawn": "Yes", "CED2 ArCED2": "Yes",
    })  # fmt: skip
    import_reports(met_file(tmp_path / "uof.csv", [fired]), metropolitan)
    report = reports().get()
    first, second = report.ced_uses.order_by("device_number")
    assert report.highest_ced_level == CedLevel.FIRED
    assert (report.ced_drawn, report.ced_red_dotted, report.ced_arced, report.ced_aimed) == (True, True, True, False)
    assert (first.highest_level, first.cycles, first.cycle_extended, first.probe_zones) == (
        CedLevel.FIRED, 3, True, ["F3", "BA"],
    )  # fmt: skip
    assert (first.serial_number, second.highest_level) == ("X2-0001", CedLevel.ARCED)  # CED2 ArCED2 read as arced


def test_tactics_set_the_levels_where_no_device_block_is_filled(boroughs, metropolitan, tmp_path):
    tactics = row(**{"CED Used": "Yes", "Tactic 1": "CED (Taser) Drawn", "Tactic 2": "CED (Taser) Red-Dotted"})
    import_reports(met_file(tmp_path / "uof.csv", [tactics]), metropolitan)
    report = reports().get()
    assert (report.highest_ced_level, report.ced_drawn, report.ced_uses.count()) == (CedLevel.RED_DOTTED, True, 0)


def test_taser_used_without_a_level_is_kept_as_not_stated(boroughs, metropolitan, tmp_path):
    import_reports(met_file(tmp_path / "uof.csv", [row(**{"CED Used": "Yes"})]), metropolitan)
    assert reports().get().highest_ced_level == CedLevel.NOT_STATED


@pytest.mark.parametrize(
    ("encoding", "delimiter"), [("utf-8-sig", ","), ("cp1252", ";"), ("utf-8", ";"), ("cp1252", ",")]
)
def test_reads_utf8_and_windows_1252_with_commas_or_semicolons(boroughs, metropolitan, tmp_path, encoding, delimiter):
    rows = [row(MainDuty="Response – Café patrol", Borough="Hammersmith and Fulham")]
    import_reports(met_file(tmp_path / "uof.csv", rows, encoding, delimiter), metropolitan)
    report = reports().get()
    assert (report.officer_main_duty, report.area.name) == ("Response – Café patrol", "Hammersmith and Fulham")


def test_new_boroughs_whose_names_begin_alike_become_two_areas(boroughs, metropolitan, tmp_path):
    # Made-up codes are cut to the column's 20 characters, where these two names agree.
    rows = [row(Borough="City of London Airport"), row(Borough="City of London Docks")]
    import_reports(met_file(tmp_path / "uof.csv", rows), metropolitan, new_areas=True)
    areas = [report.area for report in reports()]
    assert [(a.name, a.code) for a in areas] == [
        ("City of London Airport", "metropolitan-city-of"),
        ("City of London Docks", "metropolitan-city-2"),
    ]


def test_a_borough_name_longer_than_its_column_is_refused_and_nothing_is_written(boroughs, metropolitan, tmp_path):
    long_name = " ".join(["Borough"] * 16)
    with pytest.raises(ImportFailed) as failure:
        import_reports(met_file(tmp_path / "uof.csv", [row(), row(Borough=long_name)]), metropolitan)
    assert failure.value.batch.errors == [f"row 3, Borough: '{long_name}' is longer than 120 characters"]
    assert not reports().exists()
    assert not metropolitan.areas.filter(needs_review=True).exists()


def test_reads_the_uof_sheet_of_an_xlsx_export(boroughs, metropolitan, tmp_path):
    workbook = Workbook()
    workbook.active.title = "UoFPO"
    workbook.active.append(["something else"])
    sheet = workbook.create_sheet("UoF")
    sheet.append(list(BASE))
    sheet.append(list(BASE.values()))
    workbook.save(tmp_path / "MPS Use of Force - FY20-21.xlsx")
    batch = import_reports(tmp_path / "MPS Use of Force - FY20-21.xlsx", metropolitan)
    assert batch.rows_added == 1
    assert reports().get().occurred_on.isoformat() == "2020-04-03"


def test_westminster_matches_its_area_and_new_boroughs_are_created_for_review(boroughs, metropolitan, tmp_path):
    rows = [row(Borough="City of Westminster"), row(Borough="Heathrow"), row(Borough="Out of force")]
    batch = import_reports(met_file(tmp_path / "uof.csv", rows), metropolitan)
    areas = [report.area for report in reports()]
    assert (areas[0].name, areas[0].needs_review) == ("Westminster", False)
    assert [(a.name, a.kind, a.needs_review) for a in areas[1:]] == [
        ("Heathrow", "other", True),
        ("Out of force", "other", True),
    ]
    assert "Area 'Heathrow' was not known and has been created; review it in the admin." in batch.notes


def test_unknown_columns_are_reported_once_and_ignored(boroughs, metropolitan, tmp_path):
    rows = [row(**{"Mystery": "1", "Tactic Effective 20": "Yes"}), row(**{"Mystery": "2"})]
    batch = import_reports(met_file(tmp_path / "uof.csv", rows), metropolitan)
    assert batch.notes == ["Ignored 1 column(s) the product does not know: Mystery."]
    assert batch.rows_added == 2


# --- revisions -----------------------------------------------------------------------------


def test_importing_the_same_file_twice_adds_nothing(boroughs, metropolitan, tmp_path):
    path = met_file(tmp_path / "uof.csv", [row(), row(), row(IncidentTime="09:00")])
    import_reports(path, metropolitan)
    second = import_reports(path, metropolitan)
    assert (second.rows_added, second.rows_changed, second.rows_unchanged, second.rows_withdrawn) == (0, 0, 3, 0)
    assert (UseOfForceReport.objects.count(), second.data_version) == (3, 2)


def test_the_same_rows_with_columns_reordered_relabelled_and_re_encoded_are_unchanged(boroughs, metropolitan, tmp_path):
    rows = [row(), row(SubjectEthnicity="Black"), row(IncidentTime="09:00")]
    import_reports(met_file(tmp_path / "uof.csv", rows), metropolitan)
    republished = [{name.upper(): value for name, value in reversed(list(one.items()))} for one in rows]
    path = met_file(tmp_path / "uof-republished.csv", republished, encoding="cp1252", delimiter=";")
    later = import_reports(path, metropolitan)
    assert (later.rows_added, later.rows_changed, later.rows_unchanged, later.rows_withdrawn) == (0, 0, 3, 0)


def test_the_same_rows_with_spaces_around_the_column_names_are_unchanged(boroughs, metropolitan, tmp_path):
    rows = [row(), row(IncidentTime="09:00")]
    import_reports(met_file(tmp_path / "uof.csv", rows), metropolitan)
    spaced = [
        {f" {name} " if name in ("Borough", "SubjectGender") else name: value for name, value in one.items()}
        for one in rows
    ]
    later = import_reports(met_file(tmp_path / "uof-spaced.csv", spaced), metropolitan)
    assert (later.rows_added, later.rows_changed, later.rows_unchanged, later.rows_withdrawn) == (0, 0, 2, 0)


def test_the_same_rows_with_columns_spelt_otherwise_are_unchanged(boroughs, metropolitan, tmp_path):
    published = {"Tactic Effective 20": "Yes", "CED2 ArCED2": "", "Impact Factor: Possesion of a weapon": "Yes"}
    rows = [row(**published), row(IncidentTime="09:00", **published)]
    import_reports(met_file(tmp_path / "uof.csv", rows), metropolitan)
    respelt = {"Tactic Effective 20": "Effective 20", "CED2 ArCED2": "CED2 Arced"}
    respelt["Impact Factor: Possesion of a weapon"] = "Impact Factor: Possession of a weapon"
    later = [{respelt.get(name, name): value for name, value in one.items()} for one in rows]
    batch = import_reports(met_file(tmp_path / "uof-respelt.csv", later), metropolitan)
    assert (batch.rows_added, batch.rows_changed, batch.rows_unchanged, batch.rows_withdrawn) == (0, 0, 2, 0)


def test_a_file_in_the_mets_own_spellings_keeps_the_content_digests_its_reports_were_stored_with(tmp_path):
    published = {"Tactic Effective 20": "Yes", "CED2 ArCED2": "", "CED Device Serial No": "X2-0001"}
    path = met_file(tmp_path / "uof.csv", [row(**published), row(IncidentTime="09:00")])
    ((_, batch),) = readers.open_table(path).batches()
    as_written, as_published = content_digests(batch), content_digests(batch, met_format.digest_name)
    assert as_written[0].tolist() == as_published[0].tolist()


def test_a_later_edition_corrects_adds_and_withdraws_as_a_new_data_version(boroughs, metropolitan, tmp_path):
    first = [row(), row(IncidentTime="09:00"), row(IncidentTime="10:00")]
    import_reports(met_file(tmp_path / "fy20-21.csv", first), metropolitan)
    later = [row(PrimaryConduct="Aggressive resistance"), row(IncidentTime="09:00"), row(IncidentDate="2021-03-30")]
    batch = import_reports(met_file(tmp_path / "fy20-21 v2.csv", later), metropolitan)
    assert (batch.rows_added, batch.rows_changed, batch.rows_unchanged, batch.rows_withdrawn) == (1, 1, 1, 1)
    assert reports().count() == 3
    corrected = reports().get(occurred_on="2020-04-03", occurred_at="14:20")
    assert (corrected.subject_conduct, corrected.data_version) == (5, 2)
    withdrawn = UseOfForceReport.objects.get(occurred_at="10:00")
    assert withdrawn.withdrawn_in_version == 2  # kept, not deleted, and no longer counted


def test_officers_on_the_same_subject_are_told_apart_by_their_order_in_the_file(boroughs, metropolitan, tmp_path):
    import_reports(met_file(tmp_path / "uof.csv", [row(), row(MainDuty="Custody")]), metropolitan)
    keys = list(reports().values_list("source_key", flat=True))
    assert len(set(keys)) == 2
    assert keys[0][:-2] == keys[1][:-2] and keys[0].endswith("-1") and keys[1].endswith("-2")


def test_repeated_identities_are_numbered_in_file_order_across_many_batches(
    boroughs, metropolitan, tmp_path, monkeypatch
):
    # Batches of a few rows: each repeat meets the earlier ones in batches read long before.
    monkeypatch.setattr(readers, "BLOCK_BYTES", 1024)
    monkeypatch.setattr(readers, "BATCH_BYTES", 1024)
    times = [f"{hour:02}:00" for hour in (9, 10, 9, 11, 10, 9)] * 30
    path = met_file(tmp_path / "uof.csv", [row(IncidentTime=time) for time in times])
    assert len(list(readers.open_table(path).batches())) > 20
    import_reports(path, metropolitan)
    numbers = [
        (str(at)[:5], int(key.rsplit("-", 1)[1])) for at, key in reports().values_list("occurred_at", "source_key")
    ]
    assert numbers == [(time, times[: position + 1].count(time)) for position, time in enumerate(times)]


@postgresql_only
def test_batches_gathered_into_larger_pieces_are_written_as_batch_by_batch(
    boroughs, metropolitan, tmp_path, monkeypatch
):
    # Batches of a few rows, some with Taser (CED uses, written after their reports) and some with a value
    # outside the vocabularies (a column the others lack): written batch by batch, then gathered in fifties.
    monkeypatch.setattr(readers, "BLOCK_BYTES", 1024)
    monkeypatch.setattr(readers, "BATCH_BYTES", 1024)
    taser = {"CED Used": "Yes", "CED Drawn": "Yes", "CED Fired": "Yes"}
    rows = [
        row(IncidentDate=f"2020-{4 + n % 9:02}-{1 + n % 28:02}", IncidentTime=f"{n // 60:02}:{n % 60:02}")
        | (taser | {"CED Device Serial No": f"X2-{n}"} if n % 7 == 0 else {})
        | ({"SubjectEthnicity": "Martian"} if n % 37 == 5 else {})
        for n in range(200)
    ]
    path = met_file(tmp_path / "uof.csv", rows)
    assert len(list(readers.open_table(path).batches())) > 20

    def imported(rows_a_piece):
        monkeypatch.setattr(pipeline, "InBackground", functools.partial(bulk.InBackground, rows=rows_a_piece))
        saved = transaction.savepoint()
        batch = import_reports(path, metropolitan)
        written = (
            batch.rows_added,
            sorted(reports().values_list("source_key", "content_hash", "occurred_on", "highest_ced_level")),
            sorted(reports().exclude(unrecognised={}).values_list("source_key", "unrecognised")),
            sorted(CedUse.objects.values_list("report__source_key", "device_number", "serial_number", "ced_fired")),
        )
        transaction.savepoint_rollback(saved)
        return written

    batch_by_batch = imported(1)
    assert batch_by_batch[0] == 200 and len(batch_by_batch[2]) == 6 and len(batch_by_batch[3]) == 29
    assert imported(50) == batch_by_batch


def test_when_an_earlier_officer_drops_out_the_next_takes_their_number_and_report(boroughs, metropolitan, tmp_path):
    import_reports(met_file(tmp_path / "v1.csv", [row(), row(MainDuty="Custody")]), metropolitan)
    batch = import_reports(met_file(tmp_path / "v2.csv", [row(MainDuty="Custody")]), metropolitan)
    assert (batch.rows_added, batch.rows_changed, batch.rows_unchanged, batch.rows_withdrawn) == (0, 1, 0, 1)
    (report,) = reports()
    assert (report.officer_main_duty, report.source_key[-2:]) == ("Custody", "-1")


def test_an_edition_withdraws_neither_another_formats_reports_nor_those_withdrawn_before(
    boroughs, metropolitan, tmp_path
):
    canonical_batch = ImportBatch.objects.create(
        force=metropolitan, data_version=1, source_name="refs.csv", source_format="canonical", status="succeeded"
    )
    lambeth = Area.objects.get(force=metropolitan, name="Lambeth")
    by_reference = ReportFactory(
        area=lambeth, occurred_on="2020-05-01", source_key="ref-1", import_batch=canonical_batch, data_version=1
    )
    import_reports(met_file(tmp_path / "v1.csv", [row(), row(IncidentTime="10:00")]), metropolitan)
    second = import_reports(met_file(tmp_path / "v2.csv", [row()]), metropolitan)
    third = import_reports(met_file(tmp_path / "v3.csv", [row()]), metropolitan)
    assert (second.rows_withdrawn, third.rows_withdrawn) == (1, 0)
    assert UseOfForceReport.objects.get(occurred_at="10:00").withdrawn_in_version == second.data_version
    by_reference.refresh_from_db()
    assert by_reference.withdrawn_in_version is None


def test_withdrawal_reaches_only_the_financial_years_the_edition_covers(boroughs, metropolitan, tmp_path):
    import_reports(met_file(tmp_path / "fy19.csv", [row(IncidentDate="2019-06-01")]), metropolitan)
    batch = import_reports(met_file(tmp_path / "fy20.csv", [row()]), metropolitan)
    assert (batch.rows_withdrawn, reports().count()) == (0, 2)


# --- bad input -----------------------------------------------------------------------------


def test_a_bad_date_names_row_column_value_and_nothing_is_written(boroughs, metropolitan, tmp_path):
    areas = Area.objects.count()
    rows = [row(), row(IncidentDate="31/02/2021", Borough="Atlantis")]
    with pytest.raises(ImportFailed) as failure:
        import_reports(met_file(tmp_path / "uof.csv", rows), metropolitan)
    assert failure.value.batch.errors == [
        "row 3, IncidentDate: '31/02/2021' is not a date (expected YYYY-MM-DD or DD/MM/YYYY)"
    ]
    assert (UseOfForceReport.objects.count(), Area.objects.count()) == (0, areas)
    assert ImportBatch.objects.get().status == "failed"


def test_every_kind_of_bad_value_is_reported_in_row_order_when_strict(boroughs, metropolitan, tmp_path):
    rows = [row(SingleCrewed="Maybe"), row(SubjectAge="12"), row(IncidentTime="25:00", SubjectGender="X")]
    with pytest.raises(ImportFailed) as failure:
        import_reports(met_file(tmp_path / "uof.csv", rows), metropolitan, strict=True)
    assert failure.value.batch.errors == [
        "row 2, SingleCrewed: 'Maybe' is not Yes or No",
        "row 3, SubjectAge: '12' is not an age band (expected 0-10, 11-17, 18-34, 35-49, 50-64 or 65 and over)",
        "row 4, IncidentTime: '25:00' is not a time of day (expected HH:MM)",
        "row 4, SubjectGender: 'X' is not a gender (expected Male, Female or Other)",
    ]


def test_at_most_50_problems_are_listed_then_a_count(boroughs, metropolitan, tmp_path):
    rows = [row(IncidentDate="soon")] * 120
    with pytest.raises(ImportFailed) as failure:
        import_reports(met_file(tmp_path / "uof.csv", rows), metropolitan)
    errors = failure.value.batch.errors
    assert len(errors) == 51
    assert errors[0].startswith("row 2, IncidentDate: 'soon' is not a date")
    assert errors[-1] == "… and 70 more problem(s)."


def test_skip_invalid_writes_the_good_rows_and_a_reject_file_with_reasons(boroughs, metropolitan, tmp_path):
    path = met_file(tmp_path / "uof.csv", [row(), row(IncidentDate="31/02/2021"), row(IncidentTime="08:00")])
    batch = import_reports(path, metropolitan, skip_invalid=True)
    assert (batch.rows_added, batch.rows_rejected) == (2, 1)
    with open(tmp_path / "uof.rejects.csv", encoding="utf-8") as handle:
        rejects = list(csv.DictReader(handle))
    assert len(rejects) == 1
    assert rejects[0]["row"] == "3" and rejects[0]["IncidentDate"] == "31/02/2021"
    assert (
        rejects[0]["problems"] == "row 3, IncidentDate: '31/02/2021' is not a date (expected YYYY-MM-DD or DD/MM/YYYY)"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "uof.csv: the file is empty (0 bytes)."),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "uof.csv: this is a PDF document, not a CSV or XLSX file."),
        (b"\x00\x01\x02binary", "uof.csv: this is a binary file, not a CSV or XLSX file"),
        (b"PK\x03\x04not really a workbook", "uof.csv: a ZIP file but not an Excel workbook (.xlsx)."),
        (
            b"IncidentDate,Borough,incidentdate\n2020-04-03,Lambeth,x\n",
            "the header names the same column twice: incidentdate.",
        ),
        (b"IncidentDate,Borough\n", "uof.csv: the file has a header but no rows."),
        (b"\n\n", "uof.csv: the first row is empty; expected a header row of column names."),
    ],
    ids=["zero-bytes", "pdf-renamed", "binary", "zip", "duplicate-columns", "header-only", "blank"],
)
def test_files_that_are_not_use_of_force_tables_get_one_sentence(boroughs, metropolitan, tmp_path, content, message):
    path = tmp_path / "uof.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError) as error:
        call_command("import_uof", str(path), force="metropolitan", verbosity=0)
    assert message in str(error.value)
    assert UseOfForceReport.objects.count() == 0


def test_a_header_from_another_format_is_refused(boroughs, metropolitan):
    with pytest.raises(CommandError, match="not a use-of-force export: neither the Met format .* its columns: LAD16CD"):
        call_command("import_uof", published(ONS_LOOKUP), force="metropolitan", verbosity=0)


def test_command_prints_a_summary_line(boroughs, metropolitan, tmp_path, capsys):
    call_command("import_uof", str(met_file(tmp_path / "uof.csv", [row(), row()])), force="metropolitan", verbosity=0)
    assert (
        "uof.csv: 2 rows read, 2 written (2 added, 0 changed), 0 unchanged, 0 withdrawn, 0 rejected"
        in capsys.readouterr().out
    )


def test_command_refuses_an_unknown_force(forces, tmp_path):
    with pytest.raises(CommandError, match="--force: 'atlantis' is not a known force id"):
        call_command("import_uof", str(met_file(tmp_path / "uof.csv", [row()])), force="atlantis", verbosity=0)


def test_a_row_with_more_values_than_the_header_is_refused_showing_its_row_and_line(boroughs, metropolitan, tmp_path):
    path = tmp_path / "uof.csv"
    path.write_text("IncidentDate,Borough\n2020-04-03,Lambeth\n2020-04-04,Lambeth,extra\n", encoding="utf-8")
    message = "malformed at row 3: expected 2 columns, got 3 in the line '2020-04-04,Lambeth,extra'"
    with pytest.raises(CommandError, match=message):
        call_command("import_uof", str(path), force="metropolitan", verbosity=0)
    assert UseOfForceReport.objects.count() == 0


# --- files in unusual shapes ---------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_csv_is_read(boroughs, metropolitan, tmp_path, encoding):
    # Excel's "Unicode text" is UTF-16 with a byte-order mark; other tools write it without one.
    path = met_file(tmp_path / "uof.csv", [row(Borough="Lambeth"), row(SubjectEthnicity="Don’t know")], encoding)
    batch = import_reports(path, metropolitan)
    assert batch.rows_added == 2
    assert list(reports().values_list("area__name", "subject_ethnicity")) == [
        ("Lambeth", "white"), ("Lambeth", "not_reported"),
    ]  # fmt: skip


def test_a_file_without_line_breaks_gets_one_sentence(boroughs, metropolitan, tmp_path):
    path = tmp_path / "uof.csv"
    path.write_bytes(b"IncidentDate,Borough," + b"2020-04-03,Lambeth," * ((5 << 20) // 19))
    with pytest.raises(CommandError) as error:
        call_command("import_uof", str(path), force="metropolitan", verbosity=0)
    assert str(error.value) == (
        "uof.csv: no line break in its first 1 MB; a CSV holds one row a line, so this is not a CSV table "
        "(or its lines were joined)."
    )


def test_a_row_longer_than_a_block_gets_one_sentence(boroughs, metropolitan, tmp_path):
    path = tmp_path / "uof.csv"
    path.write_bytes(b"IncidentDate,Borough\n2020-04-03,Lambeth\n2020-04-03," + b"x" * (3 << 20) + b"\n")
    with pytest.raises(CommandError, match="uof.csv: a row at row 2 or after is longer than 1 MB; are its line"):
        call_command("import_uof", str(path), force="metropolitan", verbosity=0)


def test_an_xlsx_that_expands_past_the_limit_is_refused_before_it_is_expanded(
    boroughs, metropolitan, tmp_path, settings
):
    settings.IMPORT_XLSX_MAX_EXPANDED_BYTES = 1 << 20
    workbook = Workbook()
    workbook.active.append(list(BASE))
    workbook.active.append(list(BASE.values()))
    path = tmp_path / "uof.xlsx"
    workbook.save(path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", bytes(2 << 20))  # 2 MB of zeros, some 2 KB compressed
    assert path.stat().st_size < 100_000
    with pytest.raises(CommandError) as error:
        call_command("import_uof", str(path), force="metropolitan", verbosity=0)
    assert str(error.value) == (
        "uof.xlsx: the workbook expands to 2.0 MB, past the limit of 1.0 MB for an XLSX; nothing was imported "
        "(save it as CSV, or split it)."
    )
    assert not UseOfForceReport.objects.exists()


@postgresql_only
def test_imports_run_on_postgresql_with_debug_on(boroughs, metropolitan, tmp_path, settings):
    # DEBUG wraps each cursor in Django's debug cursor, whose copy_expert takes no keyword arguments.
    settings.DEBUG = True
    import_reports(met_file(tmp_path / "uof.csv", [row(), row(IncidentDate="2020-05-01")]), metropolitan)
    later = import_reports(met_file(tmp_path / "uof.csv", [row()]), metropolitan)
    assert (later.rows_unchanged, later.rows_withdrawn) == (1, 1)
