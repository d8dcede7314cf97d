"""Governed meetings: attendance and quorum, declared interests, minutes approved at the next meeting,
each member's progress, and a chair warned before opening a case with reviews outstanding."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from scrutiny.models import Attendance, Declaration, Review, SampledCase
from scrutiny.queries import review_progress
from scrutiny.services import (
    approve_minutes,
    declare_interest,
    open_case_at_meeting,
    record_attendance,
    record_finding,
    reopen_case,
    save_minutes,
    save_review,
)
from tests.factories import FindingFactory, MeetingFactory, PanelMemberFactory, ReviewFactory, SampledCaseFactory
from tests.scrutiny.conftest import answers

TODAY = timezone.localdate()


def test_the_chair_is_told_whose_reviews_are_outstanding_and_opens_only_when_confirming(
    client, case, member, chair, panel_chair, panel_member
):
    ReviewFactory(sampled_case=case, member=chair, status="submitted")
    with pytest.raises(ValidationError, match=f"Reviews outstanding from {panel_member.username}: opening"):
        open_case_at_meeting(case=case, user=panel_chair)
    client.force_login(panel_chair)
    url = f"/scrutiny/cases/{case.pk}/meeting/"
    assert f"Reviews outstanding from {panel_member.username}" in client.get(url).content.decode()
    client.post(url, {"do": "open"})
    case.refresh_from_db()
    assert case.opened_at_meeting_at is None
    client.post(url, {"do": "open", "despite_outstanding": "on"})
    case.refresh_from_db()
    assert case.opened_at_meeting_at is not None


def test_members_who_declared_an_interest_or_may_not_review_are_not_waited_for(case, member, chair, panel_chair):
    ReviewFactory(sampled_case=case, member=chair, status="submitted")
    lapsed = PanelMemberFactory(panel=case.sample.panel, vetted_on=None)
    declare_interest(case=case, member=member, interest="I know the person detained.")
    assert lapsed.barrier()
    assert open_case_at_meeting(case=case, user=panel_chair).opened_at_meeting_at is not None


def test_the_chair_reopens_a_case_so_an_outstanding_review_can_be_submitted(case, member, chair, panel_chair):
    open_case_at_meeting(case=case, user=panel_chair, despite_outstanding=True)
    with pytest.raises(ValidationError, match="The chair opened this case"):
        save_review(case=case, member=member, answers=answers(), grade="Green", submit=True)
    reopen_case(case=case, user=panel_chair)
    assert save_review(case=case, member=member, answers=answers(), grade="Green", submit=True).status == "submitted"
    open_case_at_meeting(case=case, user=panel_chair, despite_outstanding=True)
    FindingFactory(sampled_case=SampledCase.objects.get(pk=case.pk))
    with pytest.raises(ValidationError, match="finding on this case is recorded"):
        reopen_case(case=case, user=panel_chair)


def test_a_member_who_declares_an_interest_no_longer_reviews_the_case_and_the_chair_sees_why(
    client, case, member, chair, panel_member, panel_chair
):
    client.force_login(panel_member)
    url = f"/scrutiny/cases/{case.pk}/"
    client.post(url, {"do": "declare", "interest": "My neighbour is the officer."})
    assert Declaration.objects.get(sampled_case=case, member=member).interest == "My neighbour is the officer."
    page = client.get(url)
    assert "You declared an interest in this case" in page.content.decode() and page.context["locked"]
    with pytest.raises(ValidationError, match="You declared an interest in this case"):
        save_review(case=case, member=member, answers=answers(), grade="Green")
    client.force_login(panel_chair)
    content = client.get(f"{url}meeting/").content.decode()
    assert f"{panel_member.username} declared an interest" in content


def test_an_interest_declared_after_submitting_goes_to_the_chair_instead(case, member):
    save_review(case=case, member=member, answers=answers(), grade="Green", submit=True)
    with pytest.raises(ValidationError, match="tell the chair of the conflict"):
        declare_interest(case=case, member=member, interest="Late")


def test_an_inquorate_meeting_records_no_finding_and_a_quorate_one_does(case, member, chair, panel_chair):
    open_case_at_meeting(case=case, user=panel_chair, despite_outstanding=True)
    quorum = record_attendance(
        meeting=case.sample.meeting, user=panel_chair,
        statuses={chair.pk: Attendance.Status.PRESENT, member.pk: Attendance.Status.APOLOGIES},
    )  # fmt: skip
    assert (quorum["present"], quorum["apologies"], quorum["quorum"], quorum["quorate"]) == (1, 1, 2, False)
    with pytest.raises(ValidationError, match="not quorate: 1 present, 2 needed"):
        record_finding(case=case, user=panel_chair, panel_grade="Green", summary="Fine")
    record_attendance(meeting=case.sample.meeting, user=panel_chair, statuses={member.pk: Attendance.Status.PRESENT})
    assert record_finding(case=case, user=panel_chair, panel_grade="Green", summary="Fine").panel_grade == "Green"


def test_the_chair_records_attendance_on_the_meeting_page(client, case, member, chair, panel_chair):
    client.force_login(panel_chair)
    url = f"/scrutiny/meetings/{case.sample.meeting_id}/"
    client.post(url, {"do": "attendance", f"member_{member.pk}": "present", f"member_{chair.pk}": "present"})
    assert dict(Attendance.objects.values_list("member_id", "status")) == {member.pk: "present", chair.pk: "present"}
    assert "2 present, 0 apologies; quorum 2: quorate" in client.get(url).content.decode()


def test_attendance_is_taken_on_the_meeting_day_and_only_for_the_panels_members(case, member, chair, panel_chair):
    with pytest.raises(ValidationError, match="member: 999999 is not on Panel A"):
        record_attendance(meeting=case.sample.meeting, user=panel_chair, statuses={999999: "present"})
    later = MeetingFactory(panel=case.sample.panel, held_on=TODAY + datetime.timedelta(days=7))
    with pytest.raises(ValidationError, match="Attendance is taken at the meeting, on"):
        record_attendance(meeting=later, user=panel_chair, statuses={member.pk: "present"})


def test_minutes_are_approved_at_the_panels_next_meeting_and_then_no_longer_change(client, panel, chair, panel_chair):
    earlier = MeetingFactory(panel=panel, held_on=TODAY - datetime.timedelta(days=90))
    today = MeetingFactory(panel=panel, held_on=TODAY)
    with pytest.raises(ValidationError, match="no earlier minutes to approve"):
        approve_minutes(meeting=earlier, user=panel_chair)
    with pytest.raises(ValidationError, match="has no minutes yet"):
        approve_minutes(meeting=today, user=panel_chair)
    save_minutes(meeting=earlier, user=panel_chair, agenda="1. Cases", minutes="Four cases reviewed.")
    client.force_login(panel_chair)
    client.post(f"/scrutiny/meetings/{today.pk}/", {"do": "approve"})
    earlier.refresh_from_db()
    assert earlier.minutes_approved_at == today
    with pytest.raises(ValidationError, match="The minutes were approved at the meeting of"):
        save_minutes(meeting=earlier, user=panel_chair, agenda="", minutes="Changed")
    with pytest.raises(ValidationError, match="are already approved"):
        approve_minutes(meeting=today, user=panel_chair)


def test_each_members_review_progress_equals_their_reviews_of_the_meetings_cases(case, member, chair):
    others = [SampledCaseFactory(sample=case.sample) for _ in range(3)]
    ReviewFactory(sampled_case=case, member=member, status="submitted")
    ReviewFactory(sampled_case=others[0], member=member)  # a draft
    declare_interest(case=others[1], member=member, interest="Knows the officer")
    ReviewFactory(sampled_case=others[2], member=chair, status="submitted")
    progress = {row["member"].pk: row for row in review_progress(meeting=case.sample.meeting)}
    cases = SampledCase.objects.filter(sample__meeting=case.sample.meeting)
    for panel_member in (member, chair):
        row = progress[panel_member.pk]
        reviews = Review.objects.filter(member=panel_member, sampled_case__in=cases)
        declared = Declaration.objects.filter(member=panel_member, sampled_case__in=cases).count()
        assert row["submitted"] == reviews.filter(status="submitted").count()
        assert row["drafts"] == reviews.filter(status="draft").count()
        assert (row["declared"], row["to_do"]) == (declared, cases.count() - row["submitted"] - declared)
    assert (progress[member.pk]["submitted"], progress[member.pk]["drafts"], progress[member.pk]["to_do"]) == (1, 1, 2)
