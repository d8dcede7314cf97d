"""Fair samples: a report is sampled once by a panel unless the rule says otherwise, and every sample
says how many reports were eligible and how many were left out, and why."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from incidents.models import CedLevel
from scrutiny.models import CaseSample, Review, SampledCase
from scrutiny.queries import cases_for_member, panel_quarter_report, redraw
from scrutiny.services import add_chair_case, draw_sample, withdraw_sample
from tests.factories import (
    CaseSampleFactory,
    FindingFactory,
    MeetingFactory,
    ReportFactory,
    ReviewFactory,
    SampledCaseFactory,
)

Rule = CaseSample.Rule
JUNE = datetime.date(2025, 6, 15)
PERIOD = {"starts_on": datetime.date(2025, 4, 1), "ends_on": datetime.date(2025, 6, 30)}


def taser(area, *levels, occurred_on=JUNE):
    return ReportFactory(area=area, ced_levels=list(levels), occurred_on=occurred_on)


def reports_of(sample):
    return set(sample.cases.values_list("report_id", flat=True))


@pytest.fixture
def december(panel):
    return MeetingFactory(panel=panel, held_on=datetime.date(2025, 12, 4))


@pytest.fixture
def march(panel):
    return MeetingFactory(panel=panel, held_on=datetime.date(2026, 3, 4))


def test_a_report_the_panel_reviewed_is_left_out_of_a_later_draw_and_the_sample_says_why(
    december, march, oxford, member
):
    fired = [taser(oxford, CedLevel.FIRED) for _ in range(5)]
    first = draw_sample(meeting=december, rule=Rule.ALL_DISCHARGES, **PERIOD)
    [with_finding, with_review, with_draft, *_] = first.cases.order_by("report_id")
    FindingFactory(sampled_case=with_finding)
    ReviewFactory(sampled_case=with_review, member=member, status=Review.Status.SUBMITTED)
    ReviewFactory(sampled_case=with_draft, member=member, status=Review.Status.DRAFT)
    again = draw_sample(meeting=march, rule=Rule.ALL_DISCHARGES, **PERIOD)
    assert again.eligible == 5
    assert again.left_out == {
        "reviewed": sorted([with_finding.report_id, with_review.report_id]),
        "in_another_sample": sorted(r.pk for r in fired[2:]),
    }
    assert reports_of(again) == set()
    assert again.left_out_counts() == [
        ("already reviewed by the panel", 2),
        ("in another of the panel's samples, not yet reviewed", 3),
    ]


def test_a_rule_that_includes_reports_sampled_before_draws_them_again_and_records_it(december, march, oxford):
    fired = {taser(oxford, CedLevel.FIRED).pk for _ in range(3)}
    FindingFactory(sampled_case=draw_sample(meeting=december, rule=Rule.ALL_DISCHARGES, **PERIOD).cases.first())
    again = draw_sample(meeting=march, rule=Rule.ALL_DISCHARGES, parameters={"include_sampled": True}, **PERIOD)
    assert reports_of(again) == fired
    assert (again.eligible, again.left_out, again.parameters) == (3, {}, {"include_sampled": True})


def test_the_same_meeting_never_samples_a_report_twice_even_when_the_rule_includes_sampled_reports(december, oxford):
    fired = taser(oxford, CedLevel.FIRED)
    draw_sample(meeting=december, rule=Rule.ALL_DISCHARGES, **PERIOD)
    again = draw_sample(meeting=december, rule=Rule.ALL_DISCHARGES, parameters={"include_sampled": True}, **PERIOD)
    assert reports_of(again) == set()
    assert again.left_out == {"this_meeting": [fired.pk]}


def test_another_panels_samples_do_not_keep_a_report_out(december, oxford, thames_valley):
    fired = taser(oxford, CedLevel.FIRED)
    other = CaseSampleFactory(panel__force=thames_valley)
    SampledCaseFactory(sample=other, report=fired)
    assert reports_of(draw_sample(meeting=december, rule=Rule.ALL_DISCHARGES, **PERIOD)) == {fired.pk}


def test_a_random_share_is_taken_of_the_reports_still_eligible_and_is_drawn_again_from_its_record(
    december, march, oxford
):
    pointed = [taser(oxford, CedLevel.RED_DOTTED) for _ in range(10)]
    earlier = CaseSampleFactory(panel=december.panel, meeting=december)
    for report in pointed[:6]:
        SampledCaseFactory(sample=earlier, report=report)
    sample = draw_sample(meeting=march, rule=Rule.RANDOM_NON_DISCHARGE, parameters={"percent": 50}, seed=5, **PERIOD)
    # Half of the four reports still eligible, not half of the ten less the six already sampled.
    assert len(reports_of(sample)) == 2
    assert reports_of(sample) <= {r.pk for r in pointed[6:]}
    assert (sample.eligible, len(sample.left_out["in_another_sample"])) == (10, 6)
    # Drawn again after the earlier sample is gone, the record still leaves the same six out.
    SampledCase.objects.filter(sample=earlier).delete()
    assert redraw(CaseSample.objects.get(pk=sample.pk)).same


def test_an_empty_sample_can_be_withdrawn_and_one_with_cases_cannot(december, oxford):
    empty = draw_sample(meeting=december, rule=Rule.ALL_DISCHARGES, **PERIOD)
    withdraw_sample(sample=empty)
    assert not CaseSample.objects.filter(pk=empty.pk).exists()
    taser(oxford, CedLevel.FIRED)
    full = draw_sample(meeting=december, rule=Rule.ALL_DISCHARGES, **PERIOD)
    with pytest.raises(ValidationError, match=f"Sample {full.pk} holds cases"):
        withdraw_sample(sample=full)
    assert CaseSample.objects.filter(pk=full.pk).exists()


def test_pcc_staff_withdraw_an_empty_sample_from_the_meeting_page(client, december, pcc_staff):
    empty = draw_sample(meeting=december, rule=Rule.ALL_DISCHARGES, **PERIOD)
    client.force_login(pcc_staff)
    page = client.get(f"/scrutiny/meetings/{december.pk}/")
    assert "Withdraw this empty sample" in page.content.decode()
    page = client.post(f"/scrutiny/meetings/{december.pk}/", {"do": "withdraw", "sample": empty.pk}, follow=True)
    assert "is withdrawn" in page.content.decode()
    assert not december.samples.exists()


def test_the_meeting_page_says_how_many_reports_were_eligible_and_left_out(client, december, march, oxford, pcc_staff):
    for _ in range(3):
        taser(oxford, CedLevel.FIRED)
    draw_sample(meeting=december, rule=Rule.ALL_DISCHARGES, **PERIOD)
    taser(oxford, CedLevel.FIRED)
    draw_sample(meeting=march, rule=Rule.ALL_DISCHARGES, **PERIOD)
    client.force_login(pcc_staff)
    content = client.get(f"/scrutiny/meetings/{march.pk}/").content.decode()
    assert "1 case of 4 reports the rule selected, 3 left out (3 in another of the panel&#x27;s samples" in content


def test_the_chair_is_warned_before_adding_a_report_that_already_had_a_finding(december, march, chair, panel_chair):
    case = SampledCaseFactory(sample=CaseSampleFactory(panel=december.panel, meeting=december))
    FindingFactory(sampled_case=case, panel_grade="Amber")
    with pytest.raises(ValidationError, match=r"already has the panel's finding \(Amber; case \d+, meeting of 4 Dec"):
        add_chair_case(meeting=march, report_id=case.report_id, reason="Complaint", user=panel_chair)
    assert not SampledCase.objects.filter(sample__meeting=march).exists()
    again = add_chair_case(meeting=march, report_id=case.report_id, reason="Complaint", user=panel_chair, again=True)
    assert again.sample.meeting == march


def test_the_chair_sees_the_warning_and_can_add_the_report_again_on_the_page(
    client, december, march, chair, panel_chair
):
    case = SampledCaseFactory(sample=CaseSampleFactory(panel=december.panel, meeting=december))
    FindingFactory(sampled_case=case)
    client.force_login(panel_chair)
    form = {"do": "add_case", "report": case.report_id, "reason": "Complaint"}
    page = client.post(f"/scrutiny/meetings/{march.pk}/", form)
    assert page.status_code == 200 and "The panel has seen this report before" in page.content.decode()
    page = client.post(f"/scrutiny/meetings/{march.pk}/", form | {"again": "on"})
    assert page.status_code == 302
    assert SampledCase.objects.filter(sample__meeting=march, report_id=case.report_id).exists()


def test_a_members_list_shows_a_report_once_at_its_newest_case(december, march, member, panel_member):
    report = ReportFactory()
    SampledCaseFactory(sample=CaseSampleFactory(panel=december.panel, meeting=december), report=report)
    newest = SampledCaseFactory(sample=CaseSampleFactory(panel=march.panel, meeting=march), report=report)
    listed = cases_for_member(user=panel_member, on=datetime.date(2026, 1, 1))
    assert [case.pk for case in listed] == [newest.pk]


def test_the_quarterly_report_gives_the_share_of_the_quarters_taser_uses_sampled(panel, december, oxford, lambeth):
    uses = [taser(oxford, CedLevel.DRAWN, occurred_on=datetime.date(2025, 8, 1)) for _ in range(8)]
    taser(oxford, CedLevel.DRAWN, occurred_on=datetime.date(2025, 10, 1))  # the next quarter
    taser(lambeth, CedLevel.DRAWN, occurred_on=datetime.date(2025, 8, 1))  # another force
    ReportFactory(area=oxford, occurred_on=datetime.date(2025, 8, 1))  # no Taser
    sample = CaseSampleFactory(panel=panel, meeting=december)
    for report in uses[:3]:
        SampledCaseFactory(sample=sample, report=report)
    report = panel_quarter_report(panel=panel, quarter=datetime.date(2025, 7, 1))
    quarter_uses = [r for r in uses if datetime.date(2025, 7, 1) <= r.occurred_on < datetime.date(2025, 10, 1)]
    assert (report["taser_uses"], report["taser_uses_sampled"]) == (len(quarter_uses), 3)
    assert report["taser_uses_sampled_share"] == round(3 / 8, 4)
