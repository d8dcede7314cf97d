"""A year of samples: every rule, four meetings, periods that overlap on purpose. No report is sampled twice in
the year unless a rule says so (a draw that includes reports sampled before, or the chair adding one again), and
every sample's counts add up: the reports its rule selected are those it drew, those it left out, and (for a
random share) those not chosen."""

import datetime
from collections import Counter

import pytest
from django.core.exceptions import ValidationError

from incidents.models import CedLevel
from scrutiny.models import CaseSample, SampledCase
from scrutiny.services import add_chair_case, draw_sample
from tests.factories import MeetingFactory, ReportFactory, ReviewFactory

Rule = CaseSample.Rule
YEAR = {"starts_on": datetime.date(2025, 4, 1), "ends_on": datetime.date(2026, 3, 31)}
HELD = [datetime.date(2025, 6, 20), datetime.date(2025, 9, 20), datetime.date(2025, 12, 20), datetime.date(2026, 3, 20)]
DRAWS = [
    (Rule.ALL_DISCHARGES, {}),
    (Rule.CHILDREN_OR_MENTAL_HEALTH, {}),
    (Rule.RANDOM_NON_DISCHARGE, {"percent": 50}),
    (Rule.AREA_FOCUS, {}),
]


@pytest.fixture
def year_of_uses(oxford):
    """Taser uses in every month of 2025/26: discharges, non-discharges, children, mental health."""
    reports = []
    for month in range(12):
        day = datetime.date(2025 + (month + 3) // 12, (month + 3) % 12 + 1, 10)
        reports.append(ReportFactory(area=oxford, occurred_on=day, ced_levels=[CedLevel.FIRED], subject_age="18_34"))
        reports.append(ReportFactory(area=oxford, occurred_on=day, ced_levels=[CedLevel.AIMED], subject_age="11_17"))
        reports.append(ReportFactory(area=oxford, occurred_on=day, ced_levels=[CedLevel.DRAWN], subject_age="35_49",
                                     impact_mental_health=month % 2 == 0))  # fmt: skip
    return reports


def draw_the_year(panel, oxford, member, include_sampled_at=None):
    samples = []
    for index, (held_on, (rule, parameters)) in enumerate(zip(HELD, DRAWS, strict=True)):
        meeting = MeetingFactory(panel=panel, held_on=held_on)
        parameters = parameters | ({"area": oxford.pk} if rule == Rule.AREA_FOCUS else {})
        if index == include_sampled_at:
            parameters |= {"include_sampled": True}
        sample = draw_sample(meeting=meeting, rule=rule, parameters=parameters, seed=index, **YEAR)
        # Half of each meeting's cases are reviewed: later draws leave those out as reviewed, the rest as held.
        for case in list(sample.cases.order_by("pk"))[::2]:
            ReviewFactory(sampled_case=case, member=member, status="submitted")
        samples.append(sample)
    return samples


def test_no_report_is_sampled_twice_in_a_year_by_any_rule(panel, oxford, member, year_of_uses):
    samples = draw_the_year(panel, oxford, member)
    sampled = Counter(SampledCase.objects.filter(sample__panel=panel).values_list("report_id", flat=True))
    assert sampled and max(sampled.values()) == 1
    for sample in samples:
        assert sample.cases.exists(), sample.rule
        drawn, left_out = sample.cases.count(), sample.left_out_total
        if sample.rule == Rule.RANDOM_NON_DISCHARGE:
            assert drawn < sample.eligible - left_out
        else:
            assert drawn + left_out == sample.eligible, sample.rule
        # What was left out is exactly what earlier samples of the panel hold, reviewed or not.
        earlier = set(SampledCase.objects.filter(sample__panel=panel, sample__pk__lt=sample.pk)
                      .values_list("report_id", flat=True))  # fmt: skip
        left = {report_id for ids in sample.left_out.values() for report_id in ids}
        selected = left | set(sample.cases.values_list("report_id", flat=True))
        assert left == earlier & selected
    assert set(samples[-1].left_out) == {"reviewed", "in_another_sample"}


def test_a_report_is_sampled_again_only_where_a_rule_says_so(panel, oxford, member, chair, panel_chair, year_of_uses):
    samples = draw_the_year(panel, oxford, member, include_sampled_at=3)
    again = samples[3]
    assert again.parameters["include_sampled"] is True and not again.left_out
    sampled = Counter(SampledCase.objects.filter(sample__panel=panel).values_list("report_id", flat=True))
    twice = {report_id for report_id, count in sampled.items() if count > 1}
    assert twice and twice <= set(again.cases.values_list("report_id", flat=True))
    # The chair adds a report already reviewed only by saying so.
    reviewed = samples[0].cases.filter(reviews__status="submitted").first().report
    meeting = samples[1].meeting
    with pytest.raises(ValidationError, match="tick “add it again”"):
        add_chair_case(meeting=meeting, report_id=reviewed.pk, reason="The family complained", user=panel_chair)
    case = add_chair_case(meeting=meeting, report_id=reviewed.pk, reason="The family complained", user=panel_chair,
                          again=True)  # fmt: skip
    assert case.sample.rule == Rule.CHAIR_CHOICE
