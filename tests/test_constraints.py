"""What must never happen is refused by the database itself, whoever writes the row."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from forces.models import PopulationBaseline
from incidents.models import UseOfForceReport
from scrutiny.models import Action, CaseSample, Finding
from tests.factories import (
    AreaFactory,
    CaseSampleFactory,
    MeetingFactory,
    PanelFactory,
    PanelMemberFactory,
    ReportFactory,
    ReviewFactory,
    SampledCaseFactory,
)


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
