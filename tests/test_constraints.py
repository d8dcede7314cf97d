"""What must never happen is refused by the database itself, whoever writes the row."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction

from forces.models import Area, PopulationBaseline
from incidents.models import CedLevel, CedUse, ImportBatch, UseOfForceReport
from incidents.models.reports import INTEGRITY_RULES
from scrutiny.models import Action, CaseSample, Finding
from tests.factories import (
    AreaFactory,
    CaseSampleFactory,
    CedUseFactory,
    MeetingFactory,
    PanelFactory,
    PanelMemberFactory,
    ReportFactory,
    ReviewFactory,
    SampledCaseFactory,
)

# Deleting what is still referred to is refused by statement triggers, which SQLite lacks
# (see oversight/triggers.py); there the ORM's PROTECT and CASCADE keep the references.
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
REPORTS = UseOfForceReport._meta.db_table


def refused(rule=None):
    return pytest.raises(IntegrityError, match=rule)


def test_report_of_one_force_cannot_be_in_an_area_of_another(thames_valley, lambeth):
    with refused("report_area_in_report_force"), transaction.atomic():
        UseOfForceReport.objects.create(force=thames_valley, area=lambeth, occurred_on=datetime.date(2025, 1, 1))


def test_report_cannot_be_moved_into_another_forces_area(oxford, lambeth):
    report = ReportFactory(area=oxford)
    with refused("report_area_in_report_force"), transaction.atomic():
        UseOfForceReport.objects.filter(pk=report.pk).update(area=lambeth)


def test_area_with_reports_cannot_move_to_another_force(oxford, metropolitan):
    ReportFactory(area=oxford)
    oxford.force = metropolitan
    with refused("area_keeps_force_of_its_reports"), transaction.atomic():
        oxford.save()


def test_report_of_an_unknown_force_is_refused(forces):
    with refused("report_of_known_force_and_batch"), transaction.atomic():
        UseOfForceReport.objects.create(force_id="atlantis", occurred_on=datetime.date(2025, 1, 1))


def test_report_of_an_unknown_import_batch_is_refused(thames_valley):
    with refused("report_of_known_force_and_batch"), transaction.atomic():
        UseOfForceReport.objects.create(force=thames_valley, import_batch_id=999, occurred_on=datetime.date(2025, 1, 1))


@postgresql_only
@pytest.mark.parametrize(
    ("table", "rule"),
    [("forces_area", "area_keeps_its_reports"), ("incidents_importbatch", "import_batch_keeps_its_reports")],
)
def test_what_reports_refer_to_cannot_be_deleted_under_them(oxford, table, rule):
    report = ReportFactory(area=oxford, import_batch=ImportBatch.objects.create(force=oxford.force, data_version=1))
    referred = report.area_id if table == "forces_area" else report.import_batch_id
    # Raw SQL, as a script might: the ORM would refuse before the database is asked.
    with refused(rule), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [referred])  # noqa: S608 - a table name of the test's


@postgresql_only
def test_force_with_reports_cannot_be_deleted_under_them(oxford):
    ReportFactory(area=oxford)
    with refused("force_keeps_its_reports"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM forces_force WHERE id = %s", [oxford.force_id])


@postgresql_only
def test_report_with_ced_uses_cannot_be_deleted_under_them(oxford):
    report = CedUseFactory(report=ReportFactory(area=oxford, ced_levels=[CedLevel.FIRED]), ced_fired=True).report
    with refused("report_keeps_its_ced_uses"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM incidents_useofforcereport WHERE id = %s", [report.pk])


@postgresql_only
def test_a_rule_over_many_updated_reports_finds_each_by_its_key_not_by_reading_every_report(oxford):
    # A statement's rows are checked together (a transition table). Were the reports looked up as
    # IN (SELECT id …), a table too large to hash in work_mem would be read again for each row:
    # withdrawing a million reports of a million then ran for more than ten minutes.
    ReportFactory(area=oxford, source_key="")
    columns = [field.column for field in UseOfForceReport._meta.concrete_fields if field.column != "id"]
    rule = next(rule for rule in INTEGRITY_RULES if rule.name == "report_keeps_its_ced_uses")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {REPORTS} ({', '.join(columns)}) SELECT {', '.join(columns)} "  # noqa: S608 - the model's
            f"FROM {REPORTS}, generate_series(1, 4999)"
        )
        cursor.execute(f"CREATE TEMPORARY TABLE affected ON COMMIT DROP AS SELECT * FROM {REPORTS}")  # noqa: S608
        cursor.execute(f"ANALYZE {REPORTS}")
        cursor.execute("ANALYZE affected")
        cursor.execute("SET LOCAL work_mem = '64kB'")  # 5,000 keys do not fit: as a million would not in 4 MB
        cursor.execute(
            f"EXPLAIN (FORMAT JSON) SELECT 1 FROM affected WHERE NOT ({rule.condition.replace('OLD.', 'affected.')})"  # noqa: S608
        )
        plan = cursor.fetchone()[0][0]["Plan"]
    reads_of_reports = [node for node in plan_nodes(plan) if node.get("Relation Name") == REPORTS]
    assert reads_of_reports
    assert all(node["Node Type"] in ("Index Only Scan", "Index Scan") for node in reads_of_reports), plan


def plan_nodes(node):
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


def test_report_is_deleted_with_its_ced_uses(oxford):
    report = CedUseFactory(report=ReportFactory(area=oxford, ced_levels=[CedLevel.FIRED]), ced_fired=True).report
    report.delete()
    assert not CedUse.objects.filter(report_id=report.pk).exists()


def test_area_without_reports_can_be_deleted(oxford):
    ReportFactory(area=AreaFactory(force=oxford.force))
    oxford.delete()
    assert not Area.objects.filter(pk=oxford.pk).exists()


def test_report_in_an_area_of_its_own_force_is_accepted(oxford):
    assert ReportFactory(area=oxford).force_id == "thames-valley"


def test_review_by_a_member_of_another_panel_is_refused(oxford):
    case = SampledCaseFactory(report=ReportFactory(area=oxford))
    outsider = PanelMemberFactory(panel=PanelFactory(force=case.sample.panel.force))
    with refused("review_by_member_of_case_panel"), transaction.atomic():
        ReviewFactory(sampled_case=case, member=outsider)


def test_review_by_a_member_of_the_case_panel_is_accepted(oxford):
    case = SampledCaseFactory(report=ReportFactory(area=oxford))
    member = PanelMemberFactory(panel=case.sample.panel)
    assert ReviewFactory(sampled_case=case, member=member).pk


def test_panel_cannot_sample_a_report_of_another_force(thames_valley, lambeth):
    sample = CaseSampleFactory(panel=PanelFactory(force=thames_valley))
    with refused("sampled_report_of_panel_force"), transaction.atomic():
        SampledCaseFactory(sample=sample, report=ReportFactory(area=lambeth))


def test_sample_cannot_belong_to_a_meeting_of_another_panel(thames_valley):
    meeting = MeetingFactory(panel=PanelFactory(force=thames_valley))
    with refused("sample_meeting_of_same_panel"), transaction.atomic():
        CaseSampleFactory(panel=PanelFactory(force=thames_valley), meeting=meeting, rule=CaseSample.Rule.AREA_FOCUS)


def test_population_groups_cannot_exceed_the_total(thames_valley):
    area = AreaFactory(force=thames_valley)
    with refused("baseline_groups_within_total"), transaction.atomic():
        PopulationBaseline.objects.create(area=area, white=90, black=20, asian=0, mixed=0, other=0, total=100)


def test_closed_action_needs_its_closing_date(oxford):
    finding = Finding.objects.create(
        sampled_case=SampledCaseFactory(report=ReportFactory(area=oxford)), panel_grade="Amber", summary="Late warning."
    )
    with refused("closed_action_has_closing_date"), transaction.atomic():
        Action.objects.create(
            finding=finding, description="Brief", owner="Training", due_on=datetime.date(2025, 12, 1), status="closed"
        )


def test_area_codes_are_unique_within_a_force(thames_valley):
    AreaFactory(force=thames_valley, code="E1")
    with refused(), transaction.atomic():
        AreaFactory(force=thames_valley, code="E1")


def test_a_source_key_cannot_repeat_within_a_force(oxford):
    ReportFactory(area=oxford, source_key="TVP-0001")
    with refused("source_key"), transaction.atomic():
        ReportFactory(area=oxford, source_key="TVP-0001")


def test_a_source_key_cannot_be_taken_by_another_report_of_the_force(oxford):
    ReportFactory(area=oxford, source_key="TVP-0001")
    other = ReportFactory(area=oxford, source_key="TVP-0002")
    with refused("source_key"), transaction.atomic():
        UseOfForceReport.objects.filter(pk=other.pk).update(source_key="TVP-0001")


def test_two_forces_may_use_the_same_source_key_and_reports_without_one_repeat(oxford, lambeth):
    reports = [ReportFactory(area=area, source_key=key) for area in (oxford, lambeth) for key in ("0001", "", "")]
    assert UseOfForceReport.objects.filter(pk__in=[report.pk for report in reports]).count() == 6


def test_a_report_keeps_its_source_key_when_corrected(oxford):
    report = ReportFactory(area=oxford, source_key="TVP-0001", subject_age="18_34")
    UseOfForceReport.objects.filter(pk=report.pk).update(subject_age="35_49")
    assert UseOfForceReport.objects.get(source_key="TVP-0001").subject_age == "35_49"
