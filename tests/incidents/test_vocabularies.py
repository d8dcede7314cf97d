"""Every label publishers use for the form's categories, in both file formats; values outside them kept and listed."""

import csv
import html

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from incidents import vocabularies
from incidents.imports.pipeline import ImportFailed, import_reports
from incidents.models import UseOfForceReport
from tests.incidents.test_import_uof import met_file, reports, row

# Labels as the Home Office tables (2017/18 to today) and the Met's export publish them, with the
# product's category each is counted in: an oracle written out, not taken from the vocabularies.
PUBLISHED = {
    "SubjectEthnicity": {
        "White": "white", "WHITE": "white", " white ": "white",
        "Black (or Black British)": "black", "Black or Black British": "black", "Black": "black",
        "black  (or black british)": "black", "Black British": "black",
        "Asian (or Asian British)": "asian", "Asian or Asian British": "asian", "Asian": "asian", "Chinese": "asian",
        "Mixed": "mixed", "Other": "other", "Other ethnic group": "other",
        "Don't know": "not_reported", "Don't Know": "not_reported", "Don\u2019t know": "not_reported",
        "Not reported": "not_reported", "Not stated": "not_reported", "": "not_reported",
    },
    "SubjectAge": {
        "0-10": "under_11", "Under 11": "under_11", "Under 11 \nyears": "under_11", "11-17": "11_17",
        "11 - 17 years": "11_17", "11\u201317": "11_17", "18-34": "18_34", "18 - 34 years": "18_34",
        "35-49": "35_49", "35 - 49 years": "35_49", "50-64": "50_64", "50 - 64 years": "50_64",
        "65 and over": "65_plus", "65+": "65_plus", "Not reported": "not_reported", "": "not_reported",
    },
    "SubjectGender": {
        "Male": "male", "MALE": "male", "Female": "female", "Other": "other", "Not reported": "not_reported",
        "Unknown": "not_reported", "": "not_reported",
    },
    "PrimaryConduct": {
        "Compliant": 1, "Passive resistance": 2, "Verbal resistance/gestures": 3, "Verbal resistance / gestures": 3,
        "Active resistance": 4, "Aggressive resistance": 5, "Serious or aggravated resistance": 6, "": None,
    },
    "SubjectNatureOfInjury": {"Minor": "minor", "Severe": "severe", "Death": "death", "Fatal": "death"},
}  # fmt: skip
FIELD_OF = {
    "SubjectEthnicity": "subject_ethnicity", "SubjectAge": "subject_age", "SubjectGender": "subject_gender",
    "PrimaryConduct": "subject_conduct", "SubjectNatureOfInjury": "subject_injury",
}  # fmt: skip


def canonical_file(path, rows):
    header = list(
        dict.fromkeys(["source_key", "force", "area_code", "area_name", "occurred_on", *(n for r in rows for n in r)])
    )
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header, restval="")
        writer.writeheader()
        for number, cells in enumerate(rows, 1):
            writer.writerow({"source_key": f"K{number}", "area_name": "Oxford", "occurred_on": "2024-05-01", **cells})
    return path


@pytest.mark.parametrize("column", list(PUBLISHED))
def test_every_published_label_of_the_met_export_is_read_as_its_category(boroughs, metropolitan, tmp_path, column):
    labels = PUBLISHED[column]
    extra = {"SubjectInjured": "Yes"} if column == "SubjectNatureOfInjury" else {}
    rows = [row(**{column: label}, **extra) for label in labels]
    batch = import_reports(met_file(tmp_path / "uof.csv", rows), metropolitan, strict=True)
    assert (batch.rows_added, batch.unrecognised) == (len(labels), [])
    assert list(reports().values_list(FIELD_OF[column], flat=True)) == list(labels.values())


@pytest.mark.parametrize("column", [c for c in PUBLISHED if c != "SubjectNatureOfInjury"])
def test_every_published_label_is_read_in_the_canonical_csv_too(thames_valley, oxford, tmp_path, column):
    labels = PUBLISHED[column]
    rows = [{FIELD_OF[column]: label} for label in labels]
    import_reports(canonical_file(tmp_path / "uof.csv", rows), thames_valley, strict=True)
    stored = UseOfForceReport.objects.order_by("source_row").values_list(FIELD_OF[column], flat=True)
    assert list(stored) == list(labels.values())


# The health condition ("disability" in editions before 2019/20) and injury levels as the Home Office
# tables label them: the Met's export gives them as Yes/No columns, the canonical CSV as a column each.
CANONICAL_ONLY = {
    "subject_health": {
        "Physical": "physical", "Mental": "mental", "Physical and mental": "physical_and_mental",
        "Physical and mental disability": "physical_and_mental", "None": "none", "No disability": "none",
        "Not reported": "not_reported", "physical_and_mental": "physical_and_mental",
    },
    "officer_injury": {
        "Minor": "minor", "Severe": "severe", "Minor injury": "minor", "None": "none", "": "not_reported",
    },
    "body_worn_video": {"Yes": "yes", "no": "no", "Not stated": "not_stated", "": "not_stated"},
}  # fmt: skip


@pytest.mark.parametrize("field", list(CANONICAL_ONLY))
def test_the_home_office_labels_of_health_injury_and_video_are_read_in_the_canonical_csv(
    thames_valley, oxford, tmp_path, field
):
    labels = CANONICAL_ONLY[field]
    import_reports(
        canonical_file(tmp_path / "uof.csv", [{field: label} for label in labels]), thames_valley, strict=True
    )
    stored = UseOfForceReport.objects.order_by("source_row").values_list(field, flat=True)
    assert list(stored) == list(labels.values())


@pytest.mark.parametrize("name", list(vocabularies.FIELDS))
def test_each_label_of_a_vocabulary_reads_whatever_its_case_and_spacing(name):
    vocabulary = vocabularies.FIELDS[name]
    mangled = pa.array([f"  {label.upper().replace(' ', '   ')} " for label in vocabulary.labels])
    values = vocabulary.values(pa.int64() if name == "subject_conduct" else None)
    assert pc.take(values, vocabulary.lookup(mangled)).to_pylist() == list(vocabulary.labels.values())


@pytest.mark.parametrize("name", list(vocabularies.FIELDS))
def test_no_two_labels_of_a_vocabulary_read_alike_with_different_meanings(name):
    vocabulary = vocabularies.FIELDS[name]
    meaning = {}
    for key, value in zip(vocabulary.keys.to_pylist(), vocabulary.labels.values(), strict=True):
        assert meaning.setdefault(key, value) == value, f"'{key}' means both {meaning[key]} and {value}"


def test_the_options_home_office_labels_name_the_met_columns_too(boroughs, metropolitan, tmp_path):
    rows = [
        row(**{
            "Impact Factor: Acute behavioural disturbance": "Yes", "Outcome: Detained (Mental Health Act)": "Yes",
            "Incident Location: Street/ highway": "Yes", "Reason for Force: Protect person involved": "Yes",
        })
    ]  # fmt: skip
    batch = import_reports(met_file(tmp_path / "uof.csv", rows), metropolitan)
    report = reports().get()
    assert report.impact_acute_behavioural_disturbance and report.outcome_detained_mha
    assert report.location_street and report.reason_protect_subject
    assert not any("does not know" in note for note in batch.notes)


# --- values outside the vocabularies ---------------------------------------------------------


def unknown_rows():
    return [
        row(SubjectEthnicity="Somali"), row(SubjectEthnicity="Somali", SubjectAge="Teenager"),
        row(SubjectEthnicity="Polish", **{"Incident Location: Dwelling": "Unsure"}), row(),
    ]  # fmt: skip


def test_a_value_outside_the_vocabulary_is_kept_as_published_and_counted_as_not_stated(
    boroughs, metropolitan, tmp_path
):
    batch = import_reports(met_file(tmp_path / "uof.csv", unknown_rows()), metropolitan)
    assert batch.rows_added == 4
    stored = list(reports().values_list("subject_ethnicity", "subject_age", "location_dwelling", "unrecognised"))
    assert stored == [
        ("not_reported", "18_34", False, {"SubjectEthnicity": "Somali"}),
        ("not_reported", "not_reported", False, {"SubjectEthnicity": "Somali", "SubjectAge": "Teenager"}),
        ("not_reported", "18_34", False, {"SubjectEthnicity": "Polish", "Incident Location: Dwelling": "Unsure"}),
        ("white", "18_34", False, {}),
    ]
    assert reports().first().subject_ethnicity_source == ""


def test_the_imports_report_lists_each_unknown_value_per_column_with_its_rows(boroughs, metropolitan, tmp_path):
    batch = import_reports(met_file(tmp_path / "uof.csv", unknown_rows()), metropolitan)
    assert batch.unrecognised == [
        {"column": "Incident Location: Dwelling", "value": "Unsure", "rows": 1, "counted_as": "not stated"},
        {"column": "SubjectAge", "value": "Teenager", "rows": 1, "counted_as": "Not reported"},
        {"column": "SubjectEthnicity", "value": "Somali", "rows": 2, "counted_as": "Not reported"},
        {"column": "SubjectEthnicity", "value": "Polish", "rows": 1, "counted_as": "Not reported"},
    ]


def test_the_command_lists_the_unknown_values(boroughs, metropolitan, tmp_path, capsys):
    call_command("import_uof", str(met_file(tmp_path / "uof.csv", unknown_rows())), force="metropolitan", verbosity=0)
    out = capsys.readouterr().out
    assert "SubjectEthnicity: 'Somali' in 2 row(s), counted as Not reported" in out
    assert "SubjectAge: 'Teenager' in 1 row(s), counted as Not reported" in out


def test_strict_refuses_naming_row_column_and_value_and_writes_nothing(boroughs, metropolitan, tmp_path):
    path = met_file(tmp_path / "uof.csv", unknown_rows())
    with pytest.raises(CommandError):
        call_command("import_uof", str(path), force="metropolitan", strict=True, verbosity=0)
    with pytest.raises(ImportFailed) as failure:
        import_reports(path, metropolitan, strict=True)
    assert failure.value.batch.errors[:2] == [
        "row 2, SubjectEthnicity: 'Somali' is not an ethnic group (expected White, Black, Asian, Mixed, Other, "
        "Chinese or Don't know)",
        "row 3, SubjectAge: 'Teenager' is not an age band (expected 0-10, 11-17, 18-34, 35-49, 50-64 or 65 and over)",
    ]
    assert "row 4, Incident Location: Dwelling: 'Unsure' is not Yes or No" in failure.value.batch.errors
    assert not UseOfForceReport.objects.exists()


def test_the_ced_ladder_stays_strict_whatever_the_policy(boroughs, metropolitan, tmp_path):
    with pytest.raises(ImportFailed) as failure:
        import_reports(met_file(tmp_path / "uof.csv", [row(**{"CED Fired": "Perhaps"})]), metropolitan)
    assert failure.value.batch.errors == ["row 2, CED Fired: 'Perhaps' is not Yes or No"]


def test_a_value_too_long_to_be_a_label_is_a_problem_not_kept(boroughs, metropolitan, tmp_path):
    text = "Described at length by the officer " * 3
    with pytest.raises(ImportFailed) as failure:
        import_reports(met_file(tmp_path / "uof.csv", [row(SubjectGender=text)]), metropolitan)
    assert failure.value.batch.errors == [
        f"row 2, SubjectGender: '{text.strip()}' is not a gender (expected Male, Female or Other), and is too long "
        "to be a label (over 60 characters)"
    ]


def test_a_canonical_value_outside_the_vocabulary_is_kept_too(thames_valley, oxford, tmp_path):
    path = canonical_file(tmp_path / "uof.csv", [{"subject_gender": "X", "location_street": "Unclear"}])
    batch = import_reports(path, thames_valley)
    report = UseOfForceReport.objects.get()
    assert (report.subject_gender, report.location_street) == ("not_reported", False)
    assert report.unrecognised == {"subject_gender": "X", "location_street": "Unclear"}
    assert [(v["column"], v["value"]) for v in batch.unrecognised] == [
        ("location_street", "Unclear"),
        ("subject_gender", "X"),
    ]


def test_a_corrected_edition_replaces_the_kept_values(boroughs, metropolitan, tmp_path):
    import_reports(met_file(tmp_path / "uof.csv", [row(PrimaryConduct="Kicking out")]), metropolitan)
    assert reports().get().unrecognised == {"PrimaryConduct": "Kicking out"}
    corrected = import_reports(met_file(tmp_path / "uof.csv", [row(PrimaryConduct="Active resistance")]), metropolitan)
    assert (corrected.rows_changed, corrected.unrecognised) == (1, [])
    assert (reports().get().unrecognised, reports().get().subject_conduct) == ({}, 4)


# --- on the upload page and in the API ---------------------------------------------------------


@pytest.fixture
def unknown_values_file(oxford, tmp_path):
    return met_file(tmp_path / "uof.csv", [{**r, "Borough": "Oxford"} for r in unknown_rows()])


def test_the_batch_page_lists_the_unknown_values_with_their_rows(send_file, unknown_values_file):
    text = html.unescape(send_file("/reports/imports/", unknown_values_file).content.decode())
    assert "Values not recognised" in text
    assert '<td>SubjectEthnicity</td><td>Somali</td><td class="num">2</td><td>Not reported</td>' in text


def test_the_upload_pages_strict_option_refuses_them(send_file, unknown_values_file):
    text = html.unescape(send_file("/reports/imports/", unknown_values_file, strict="on").content.decode())
    assert "Failed: nothing was imported." in text
    assert "row 2, SubjectEthnicity: 'Somali' is not an ethnic group" in text
    assert not UseOfForceReport.objects.exists()


def test_the_api_lists_the_unknown_values_and_its_strict_option_refuses_them(send_file, unknown_values_file):
    refused = send_file("/api/v1/imports/", unknown_values_file, strict="true").json()
    assert refused["status"] == "failed" and refused["unrecognised"] == []
    assert refused["errors"][0].startswith("row 2, SubjectEthnicity: 'Somali' is not an ethnic group")
    kept = send_file("/api/v1/imports/", unknown_values_file).json()
    assert kept["unrecognised"][-2:] == [
        {"column": "SubjectEthnicity", "value": "Somali", "rows": 2, "counted_as": "Not reported"},
        {"column": "SubjectEthnicity", "value": "Polish", "rows": 1, "counted_as": "Not reported"},
    ]
