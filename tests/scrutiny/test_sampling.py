"""Dip-sampling: each rule selects what it says, and a sample is drawn again from its record alone."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from incidents.models import AgeBand, CedLevel, HealthCondition, YesNoNotStated
from scrutiny.models import CaseSample, SampledCase
from scrutiny.queries import redraw
from scrutiny.services import add_chair_case, draw_sample
from tests.factories import AreaFactory, CaseSampleFactory, ReportFactory

Rule = CaseSample.Rule
JUNE = datetime.date(2025, 6, 15)
PERIOD = {"starts_on": datetime.date(2025, 4, 1), "ends_on": datetime.date(2025, 6, 30)}


def taser(area, *levels, **fields):
    return ReportFactory(area=area, ced_levels=list(levels), occurred_on=fields.pop("occurred_on", JUNE), **fields)


def reports_of(sample):
    return set(sample.cases.values_list("report_id", flat=True))


def test_every_discharge_in_the_period_and_nothing_else(meeting, oxford, pcc_staff):
    fired = taser(oxford, CedLevel.DRAWN, CedLevel.FIRED)
    stun = taser(oxford, CedLevel.DRIVE_STUN)
    angle = taser(oxford, CedLevel.ANGLE_DRIVE_STUN)
    taser(oxford, CedLevel.RED_DOTTED)  # non-discharge
    taser(oxford, CedLevel.FIRED, occurred_on=datetime.date(2025, 7, 1))  # after the period
    ReportFactory(area=oxford, occurred_on=JUNE)  # no Taser
    sample = draw_sample(meeting=meeting, rule=Rule.ALL_DISCHARGES, user=pcc_staff, **PERIOD)
    assert reports_of(sample) == {fired.pk, stun.pk, angle.pk}
    assert sample.seed is None  # no random choice, so no seed


def test_children_or_mental_health_selects_children_and_every_mental_health_marker(meeting, oxford):
    child = taser(oxford, CedLevel.AIMED, subject_age=AgeBand.FROM_11_TO_17)
    young_child = taser(oxford, CedLevel.DRAWN, subject_age=AgeBand.UNDER_11)
    mental = taser(oxford, CedLevel.DRAWN, subject_health=HealthCondition.MENTAL)
    both = taser(oxford, CedLevel.DRAWN, subject_health=HealthCondition.PHYSICAL_AND_MENTAL)
    factor = taser(oxford, CedLevel.DRAWN, impact_mental_health=True)
    detained = taser(oxford, CedLevel.DRAWN, outcome_detained_mha=True)
    setting = taser(oxford, CedLevel.DRAWN, location_mental_health_setting=True)
    taser(oxford, CedLevel.FIRED, subject_age=AgeBand.FROM_18_TO_34, subject_health=HealthCondition.PHYSICAL)
    ReportFactory(area=oxford, occurred_on=JUNE, subject_age=AgeBand.UNDER_11)  # a child, but no Taser
    sample = draw_sample(meeting=meeting, rule=Rule.CHILDREN_OR_MENTAL_HEALTH, **PERIOD)
    assert reports_of(sample) == {r.pk for r in (child, young_child, mental, both, factor, detained, setting)}


def test_area_focus_selects_the_areas_taser_uses_only(meeting, oxford):
    reading = AreaFactory(force=oxford.force, name="Reading")
    in_oxford = {taser(oxford, CedLevel.DRAWN).pk, taser(oxford, CedLevel.FIRED).pk}
    taser(reading, CedLevel.FIRED)
    sample = draw_sample(meeting=meeting, rule=Rule.AREA_FOCUS, parameters={"area": oxford.pk}, **PERIOD)
    assert reports_of(sample) == in_oxford
    assert sample.parameters == {"area": oxford.pk, "area_name": "Oxford"}


def test_area_focus_with_a_limit_draws_that_many_of_the_area_at_random(meeting, oxford):
    in_oxford = {taser(oxford, CedLevel.DRAWN).pk for _ in range(10)}
    sample = draw_sample(meeting=meeting, rule=Rule.AREA_FOCUS, parameters={"area": oxford.pk, "limit": 4}, **PERIOD)
    assert len(reports_of(sample)) == 4
    assert reports_of(sample) <= in_oxford
    assert sample.seed is not None


def test_random_share_of_non_discharge_is_stratified_by_area_rounding_up(meeting, oxford):
    reading = AreaFactory(force=oxford.force, name="Reading")
    oxford_uses = {taser(oxford, CedLevel.RED_DOTTED).pk for _ in range(10)}
    reading_uses = {taser(reading, CedLevel.AIMED).pk for _ in range(3)}
    discharge = taser(oxford, CedLevel.FIRED)
    not_stated = ReportFactory(area=oxford, occurred_on=JUNE, ced_levels=[])  # Taser used, level not stated
    sample = draw_sample(meeting=meeting, rule=Rule.RANDOM_NON_DISCHARGE, parameters={"percent": 20}, seed=7, **PERIOD)
    chosen = reports_of(sample)
    # 20% of 10 is 2; 20% of 3 is 0.6, rounded up to 1: every stratum is represented.
    assert (len(chosen & oxford_uses), len(chosen & reading_uses)) == (2, 1)
    assert discharge.pk not in chosen and not_stated.pk not in chosen
    assert sample.parameters == {"percent": 20, "strata": "area"}


def test_random_share_stratified_by_level_takes_from_each_level(meeting, oxford):
    drawn = {taser(oxford, CedLevel.DRAWN).pk for _ in range(4)}
    arced = {taser(oxford, CedLevel.ARCED).pk for _ in range(4)}
    sample = draw_sample(
        meeting=meeting, rule=Rule.RANDOM_NON_DISCHARGE, parameters={"percent": 50, "strata": "level"}, **PERIOD
    )
    assert (len(reports_of(sample) & drawn), len(reports_of(sample) & arced)) == (2, 2)


def test_the_same_seed_draws_the_same_cases_and_another_seed_others(meeting, oxford):
    for _ in range(30):
        taser(oxford, CedLevel.RED_DOTTED)
    params = {"percent": 20}

    def draw(seed):
        sample = draw_sample(meeting=meeting, rule=Rule.RANDOM_NON_DISCHARGE, parameters=params, seed=seed, **PERIOD)
        chosen = reports_of(sample)
        sample.cases.all().delete()  # so the next draw is not kept from the meeting's reports
        return chosen

    assert draw(11) == draw(11)
    assert draw(11) != draw(12)


@pytest.mark.parametrize(
    ("rule", "parameters"),
    [
        (Rule.ALL_DISCHARGES, {}),
        (Rule.CHILDREN_OR_MENTAL_HEALTH, {}),
        (Rule.RANDOM_NON_DISCHARGE, {"percent": 30, "strata": "area"}),
        (Rule.RANDOM_NON_DISCHARGE, {"percent": 30, "strata": "level"}),
        (Rule.AREA_FOCUS, {"limit": 3}),
    ],
)
def test_a_sample_is_reproduced_from_its_record(rule, parameters, meeting, oxford, pcc_staff):
    reading = AreaFactory(force=oxford.force, name="Reading")
    for index, level in enumerate([CedLevel.DRAWN, CedLevel.AIMED, CedLevel.RED_DOTTED, CedLevel.FIRED] * 4):
        taser(oxford if index % 3 else reading, level, subject_age=AgeBand.FROM_11_TO_17 if index % 5 == 0 else "18_34")
    if rule == Rule.AREA_FOCUS:
        parameters = {**parameters, "area": oxford.pk}
    sample = draw_sample(meeting=meeting, rule=rule, parameters=parameters, user=pcc_staff, **PERIOD)
    assert sample.cases.exists()
    # Everything needed to draw it again is in its record: rule, parameters, seed, period, data version.
    again = redraw(CaseSample.objects.get(pk=sample.pk))
    assert again.same
    assert again.drawn == sorted(reports_of(sample))


def test_a_re_draw_names_the_reports_that_changed_since(meeting, oxford):
    first = taser(oxford, CedLevel.FIRED)
    sample = draw_sample(meeting=meeting, rule=Rule.ALL_DISCHARGES, **PERIOD)
    # A later import corrects the report and adds another discharge.
    first.data_version = sample.data_version + 1
    first.save()
    late = taser(oxford, CedLevel.FIRED, data_version=sample.data_version + 1)
    again = redraw(sample)
    assert not again.same
    assert again.missing == [first.pk]  # read as of the sample's data version, the corrected report is not known
    assert again.extra == []  # the late report came after the sample's data version
    assert again.changed_since == {first.pk}
    assert late.pk not in again.drawn


def test_a_case_without_body_worn_video_is_kept_and_flagged_for_follow_up(meeting, oxford):
    recorded = taser(oxford, CedLevel.FIRED, body_worn_video=YesNoNotStated.YES)
    none = taser(oxford, CedLevel.FIRED, body_worn_video=YesNoNotStated.NO)
    not_stated = taser(oxford, CedLevel.FIRED, body_worn_video=YesNoNotStated.NOT_STATED)
    sample = draw_sample(meeting=meeting, rule=Rule.ALL_DISCHARGES, **PERIOD)
    flags = dict(sample.cases.values_list("report_id", "needs_video_follow_up"))
    assert flags == {recorded.pk: False, none.pk: True, not_stated.pk: True}


def test_a_report_is_sampled_once_a_meeting_and_the_re_draw_allows_for_it(meeting, oxford):
    child_discharge = taser(oxford, CedLevel.FIRED, subject_age=AgeBand.FROM_11_TO_17)
    child_aimed = taser(oxford, CedLevel.AIMED, subject_age=AgeBand.FROM_11_TO_17)
    discharges = draw_sample(meeting=meeting, rule=Rule.ALL_DISCHARGES, **PERIOD)
    children = draw_sample(meeting=meeting, rule=Rule.CHILDREN_OR_MENTAL_HEALTH, **PERIOD)
    assert reports_of(discharges) == {child_discharge.pk}
    assert reports_of(children) == {child_aimed.pk}
    assert redraw(children).same


def test_only_current_reports_of_the_panels_force_are_drawn(meeting, oxford, lambeth):
    own = taser(oxford, CedLevel.FIRED)
    taser(lambeth, CedLevel.FIRED)
    taser(oxford, CedLevel.FIRED, withdrawn_in_version=1)
    assert reports_of(draw_sample(meeting=meeting, rule=Rule.ALL_DISCHARGES, **PERIOD)) == {own.pk}


@pytest.mark.parametrize(
    ("rule", "parameters", "message"),
    [
        (Rule.RANDOM_NON_DISCHARGE, {}, "percent: 'None' is not a whole number from 1 to 100"),
        (Rule.RANDOM_NON_DISCHARGE, {"percent": 101}, "percent: '101' is not a whole number from 1 to 100"),
        (Rule.RANDOM_NON_DISCHARGE, {"percent": 5, "strata": "ethnicity"}, "strata: 'ethnicity' is not one of"),
        (Rule.AREA_FOCUS, {"area": 999999}, "area: '999999' is not an area of Thames Valley Police"),
        (Rule.CHAIR_CHOICE, {}, "the chair adds cases one by one"),
    ],
)
def test_a_draw_with_bad_parameters_is_refused_and_records_nothing(rule, parameters, message, meeting):
    with pytest.raises(ValidationError, match=message):
        draw_sample(meeting=meeting, rule=rule, parameters=parameters, **PERIOD)
    assert not CaseSample.objects.exists()


def test_a_period_that_ends_before_it_starts_is_refused(meeting):
    with pytest.raises(ValidationError, match="period: it ends"):
        draw_sample(meeting=meeting, rule=Rule.ALL_DISCHARGES, starts_on=PERIOD["ends_on"], ends_on=PERIOD["starts_on"])


def test_the_chair_adds_a_case_with_a_reason_recorded_beside_it(meeting, chair, panel_chair, oxford):
    report = taser(oxford, CedLevel.AIMED)
    case = add_chair_case(
        meeting=meeting, report_id=report.pk, reason="Raised at a community meeting", user=panel_chair
    )
    assert (case.sample.rule, case.reason, case.added_by) == (
        Rule.CHAIR_CHOICE,
        "Raised at a community meeting",
        panel_chair,
    )
    assert redraw(case.sample) is None  # chosen, not drawn


@pytest.mark.parametrize(
    ("reason", "report", "message"),
    [
        ("", "own", "reason: say why"),
        ("Complaint", "other_force", "is not a current use-of-force report of Thames Valley Police"),
        ("Complaint", "already", "is already sampled for this meeting"),
    ],
)
def test_the_chairs_case_is_refused_without_reason_or_outside_the_force_or_twice(
    reason, report, message, meeting, chair, panel_chair, oxford, lambeth
):
    reports = {"own": taser(oxford, CedLevel.AIMED), "other_force": taser(lambeth, CedLevel.AIMED)}
    reports["already"] = taser(oxford, CedLevel.FIRED)
    draw_sample(meeting=meeting, rule=Rule.ALL_DISCHARGES, **PERIOD)
    with pytest.raises(ValidationError, match=message):
        add_chair_case(meeting=meeting, report_id=reports[report].pk, reason=reason, user=panel_chair)


def test_only_the_chair_adds_cases(meeting, member, panel_member, oxford):
    with pytest.raises(ValidationError, match="Only the chair of Panel A"):
        add_chair_case(meeting=meeting, report_id=taser(oxford, CedLevel.AIMED).pk, reason="Why", user=panel_member)


def test_the_database_refuses_a_chairs_case_without_a_reason(meeting, oxford):
    sample = CaseSampleFactory(panel=meeting.panel, meeting=meeting, rule=Rule.CHAIR_CHOICE)
    with pytest.raises(IntegrityError, match="chair_choice_case_has_reason"), transaction.atomic():
        SampledCase.objects.create(sample=sample, report=taser(oxford, CedLevel.AIMED))
