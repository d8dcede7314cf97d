"""The CED ladder rule: a report counts once, at the highest level used."""

import itertools

import pytest
from django.db import IntegrityError, transaction

from incidents.models import DISCHARGE_LEVELS, LADDER, CedLevel, UseOfForceReport, highest_level, highest_level_of
from tests.factories import CedUseFactory, ReportFactory

STATED_LEVELS = [level for level in CedLevel if level != CedLevel.NOT_STATED]


def test_ladder_order_is_angle_drive_stun_fired_drive_stun_arced_red_dotted_aimed_drawn():
    assert [level.label for level, _ in LADDER] == [
        "Angle drive stun", "Fired", "Drive stun", "Arced", "Red-dotted", "Aimed", "Drawn",
    ]  # fmt: skip


@pytest.mark.parametrize(("lower", "higher"), list(itertools.combinations(sorted(STATED_LEVELS), 2)))
def test_every_pair_of_levels_counts_at_the_higher(lower, higher):
    assert highest_level([lower, higher]) == higher
    assert highest_level([higher, lower]) == higher


def test_drawn_aimed_red_dotted_then_fired_counts_as_fired():
    assert highest_level([CedLevel.DRAWN, CedLevel.AIMED, CedLevel.RED_DOTTED, CedLevel.FIRED]) == CedLevel.FIRED


def test_taser_use_without_a_recorded_level_is_kept_as_not_stated():
    assert highest_level([]) == CedLevel.NOT_STATED


def test_discharge_is_angle_drive_stun_fired_and_drive_stun_only():
    assert set(DISCHARGE_LEVELS) == {CedLevel.ANGLE_DRIVE_STUN, CedLevel.FIRED, CedLevel.DRIVE_STUN}


@pytest.mark.parametrize(("lower", "higher"), list(itertools.combinations(sorted(STATED_LEVELS), 2)))
def test_saved_report_stores_the_higher_of_two_levels(oxford, lower, higher):
    report = ReportFactory(area=oxford, ced_levels=[lower, higher])
    report.refresh_from_db()
    assert report.highest_ced_level == higher
    assert UseOfForceReport.objects.filter(highest_ced_level=higher).count() == 1


def test_saving_a_report_derives_its_highest_level_from_its_flags(oxford):
    report = ReportFactory(area=oxford, ced_levels=[CedLevel.DRAWN])
    report.ced_fired = True
    report.save()
    report.refresh_from_db()
    assert report.highest_ced_level == CedLevel.FIRED


def test_highest_level_of_reads_flags_by_column():
    assert highest_level_of({"ced_aimed": True, "ced_arced": True, "ced_drawn": False}) == CedLevel.ARCED


def test_database_refuses_a_highest_level_that_contradicts_the_flags(oxford):
    report = ReportFactory(area=oxford, ced_levels=[CedLevel.DRAWN, CedLevel.FIRED])
    with pytest.raises(IntegrityError), transaction.atomic():
        UseOfForceReport.objects.filter(pk=report.pk).update(highest_ced_level=CedLevel.DRAWN)


def test_database_refuses_a_level_on_a_report_without_taser_use(oxford):
    report = ReportFactory(area=oxford)
    with pytest.raises(IntegrityError), transaction.atomic():
        UseOfForceReport.objects.filter(pk=report.pk).update(ced_aimed=True)


def test_database_refuses_a_device_used_at_a_level_its_report_lacks(oxford):
    report = ReportFactory(area=oxford, ced_levels=[CedLevel.DRAWN, CedLevel.AIMED])
    with pytest.raises(IntegrityError, match="ced_use_levels_on_report"), transaction.atomic():
        CedUseFactory(report=report, ced_drawn=True, ced_fired=True)


def test_database_refuses_a_report_dropping_a_level_its_device_used(oxford):
    report = ReportFactory(area=oxford, ced_levels=[CedLevel.DRAWN, CedLevel.FIRED])
    CedUseFactory(report=report, ced_drawn=True, ced_fired=True)
    with pytest.raises(IntegrityError, match="report_levels_cover_ced_uses"), transaction.atomic():
        UseOfForceReport.objects.filter(pk=report.pk).update(ced_fired=False, highest_ced_level=CedLevel.DRAWN)


def test_device_with_levels_of_its_report_is_accepted_and_reports_its_own_highest(oxford):
    report = ReportFactory(area=oxford, ced_levels=[CedLevel.DRAWN, CedLevel.RED_DOTTED, CedLevel.FIRED])
    first = CedUseFactory(report=report, ced_drawn=True, ced_fired=True)
    second = CedUseFactory(report=report, device_number=2, ced_red_dotted=True)
    assert (first.highest_level, second.highest_level) == (CedLevel.FIRED, CedLevel.RED_DOTTED)
