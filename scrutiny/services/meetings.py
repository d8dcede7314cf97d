"""Members' reviews and the meeting: opening cases, attendance, minutes and declarations of interest."""

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from scrutiny.models import (
    ANSWERS,
    LJP_CHECKLIST,
    Attendance,
    CaseView,
    Declaration,
    Finding,
    Meeting,
    Panel,
    PanelMember,
    Review,
    SampledCase,
)
from scrutiny.queries import (
    meeting_quorum,
    outstanding_reviewers,
    previous_meeting,
)
from scrutiny.services.notifications import day
from scrutiny.services.sampling import active_chair

# --- reviews -----------------------------------------------------------------------------------


def record_case_view(*, case: SampledCase, user: User) -> CaseView:
    return CaseView.objects.create(sampled_case=case, user=user)


@transaction.atomic
def save_review(
    *,
    case: SampledCase,
    member: PanelMember,
    answers: dict[str, Any],
    grade: str = "",
    learning_points: str = "",
    submit: bool = False,
    comments: dict[str, str] | None = None,
) -> Review:
    """Save a member's draft review of a case, or submit it; a submitted review no longer changes."""
    panel = case.sample.panel
    if member.panel_id != panel.pk:
        raise ValidationError(f"Only members of {panel} review its cases.")
    if barrier := member.barrier():
        raise ValidationError(barrier)
    case = SampledCase.objects.select_for_update().get(pk=case.pk)  # as it is now, not as the page read it
    if Declaration.objects.filter(sampled_case=case, member=member).exists():
        raise ValidationError("You declared an interest in this case: you do not review it.")
    if case.opened_at_meeting_at:
        # Reviews are given blind: once the chair opens the case, members see each other's.
        raise ValidationError(f"The chair opened this case at the meeting on {day(case.opened_at_meeting_at)}.")
    review, _ = Review.objects.select_for_update().get_or_create(sampled_case=case, member=member)
    if review.status == Review.Status.SUBMITTED:
        raise ValidationError(f"You submitted this review on {day(review.submitted_at)}; it can no longer change.")
    allowed = dict(ANSWERS)
    answers = {question: answers.get(question, "") for question in panel.questions}
    for question, answer in answers.items():
        if answer and answer not in allowed:
            raise ValidationError(f"{question} '{answer}' is not one of {', '.join(allowed)}.")
        if answer == "na" and panel.grading_scale == Panel.Scale.LJP and question in LJP_CHECKLIST:
            raise ValidationError(f"{question} must be answered: the grade follows from it.")
    comments = {q: text.strip() for q, text in (comments or {}).items() if q in answers and text.strip()}
    if panel.grading_scale == Panel.Scale.LJP:
        grade = panel.grade_from_checklist(answers)
    if grade and grade not in panel.grades:
        raise ValidationError(f"grade: '{grade}' is not on the panel's scale ({', '.join(panel.grades)}).")
    if submit:
        unanswered = [question for question, answer in answers.items() if not answer]
        if unanswered:
            raise ValidationError(f"Answer every question before submitting; unanswered: {'; '.join(unanswered)}")
        if not grade:
            raise ValidationError("grade: choose a grade before submitting.")
    review.rubric_answers, review.grade, review.learning_points = answers, grade, learning_points.strip()
    review.rubric_comments = comments
    if submit:
        review.status, review.submitted_at = Review.Status.SUBMITTED, timezone.now()
    review.save()
    return review


# --- the meeting -------------------------------------------------------------------------------


def meeting_begun(meeting: Meeting | None, what: str) -> None:
    if meeting is None:
        raise ValidationError("This case was sampled for no meeting.")
    if timezone.localdate() < meeting.held_on:
        raise ValidationError(f"{what} at the meeting, on {day(meeting.held_on)}.")


@transaction.atomic
def open_case_at_meeting(*, case: SampledCase, user: User, despite_outstanding: bool = False) -> SampledCase:
    """The chair opens a case at the meeting: from then on members see each other's submitted reviews.

    While members who may review it (and declared no interest) have not submitted, the chair is
    told who, and opens it only when confirming (`despite_outstanding`): their reviews then close.
    """
    active_chair(case.sample.panel, user)
    meeting_begun(case.sample.meeting, "Cases open")
    case = SampledCase.objects.select_for_update().get(pk=case.pk)
    outstanding = outstanding_reviewers(case=case)
    if outstanding and not despite_outstanding and case.opened_at_meeting_at is None:
        names = ", ".join(member.user.username for member in outstanding)
        raise ValidationError(
            f"Reviews outstanding from {names}: opening the case closes their reviews.", code="reviews_outstanding"
        )
    if case.opened_at_meeting_at is None:
        case.opened_at_meeting_at = timezone.now()
        case.save(update_fields=["opened_at_meeting_at"])
    return case


@transaction.atomic
def reopen_case(*, case: SampledCase, user: User) -> SampledCase:
    """The chair closes an opened case again, so outstanding reviews can still be given; not once it has a finding."""
    active_chair(case.sample.panel, user)
    case = SampledCase.objects.select_for_update().get(pk=case.pk)
    if Finding.objects.filter(sampled_case=case).exists():
        raise ValidationError("The panel's finding on this case is recorded: it can no longer be reopened.")
    case.opened_at_meeting_at = None
    case.save(update_fields=["opened_at_meeting_at"])
    return case


@transaction.atomic
def record_attendance(*, meeting: Meeting, user: User, statuses: dict[int, str]) -> dict[str, Any]:
    """The chair records who is present, who sent apologies, who is absent: {member id: status}."""
    active_chair(meeting.panel, user)
    meeting_begun(meeting, "Attendance is taken")
    members = {member.pk: member for member in meeting.panel.members.all()}
    for member_id, status in statuses.items():
        if member_id not in members:
            raise ValidationError(f"member: {member_id} is not on {meeting.panel}.")
        if status not in Attendance.Status.values:
            raise ValidationError(
                f"{members[member_id].user.username}: '{status}' is not one of present, apologies, absent."
            )
        Attendance.objects.update_or_create(meeting=meeting, member_id=member_id, defaults={"status": status})
    return meeting_quorum(meeting=meeting)


def save_minutes(*, meeting: Meeting, user: User, agenda: str, minutes: str) -> Meeting:
    active_chair(meeting.panel, user)
    if meeting.minutes_approved_at_id:
        raise ValidationError(
            f"The minutes were approved at the meeting of {day(meeting.minutes_approved_at.held_on)}."  # type: ignore[union-attr]
        )
    meeting.agenda, meeting.minutes = agenda.strip(), minutes.strip()
    meeting.save(update_fields=["agenda", "minutes"])
    return meeting


@transaction.atomic
def approve_minutes(*, meeting: Meeting, user: User) -> Meeting | None:
    """The chair records, at this meeting, that the panel approved the minutes of its previous meeting."""
    active_chair(meeting.panel, user)
    meeting_begun(meeting, "Minutes are approved")
    earlier = previous_meeting(meeting=meeting)
    if earlier is None:
        raise ValidationError("This is the panel's first meeting: there are no earlier minutes to approve.")
    earlier = Meeting.objects.select_for_update().get(pk=earlier.pk)
    if not earlier.minutes:
        raise ValidationError(f"The meeting of {day(earlier.held_on)} has no minutes yet.")
    if earlier.minutes_approved_at_id:
        raise ValidationError(f"The minutes of {day(earlier.held_on)} are already approved.")
    earlier.minutes_approved_at = meeting
    earlier.save(update_fields=["minutes_approved_at"])
    return earlier


def declare_interest(
    *, case: SampledCase, member: PanelMember, interest: str, recorded_by: User | None = None
) -> Declaration:
    """A member declares a conflict of interest with a case: from then on they do not review it.

    The declaration is recorded with the case's meeting, whose record lists it.
    """
    if member.panel_id != case.sample.panel_id:
        raise ValidationError(f"Only members of {case.sample.panel} declare interests in its cases.")
    if not interest.strip():
        raise ValidationError("interest: say what the conflict is.")
    if Review.objects.filter(sampled_case=case, member=member, status=Review.Status.SUBMITTED).exists():
        raise ValidationError(
            f"{member.user.username} has submitted a review of case {case.pk}: tell the chair of the conflict."
        )
    if Declaration.objects.filter(sampled_case=case, member=member).exists():
        raise ValidationError(f"{member.user.username} has already declared an interest in case {case.pk}.")
    return Declaration.objects.create(
        sampled_case=case, meeting=case.sample.meeting, member=member, interest=interest.strip(),
        recorded_by=recorded_by or member.user,
    )  # fmt: skip


@transaction.atomic
def declare_at_meeting(
    *, meeting: Meeting, user: User, member: PanelMember, interest: str, case: SampledCase | None = None
) -> Declaration:
    """The chair records a member's interest declared at the meeting: with one of its cases (the member
    then does not review it), or with the meeting's business in general."""
    active_chair(meeting.panel, user)
    meeting_begun(meeting, "Interests are declared")
    if member.panel_id != meeting.panel_id:
        raise ValidationError(f"member: {member.user.username} is not on {meeting.panel}.")
    if case is not None:
        if case.sample.meeting_id != meeting.pk:
            raise ValidationError(f"case: {case.pk} is not a case of the meeting of {day(meeting.held_on)}.")
        return declare_interest(case=case, member=member, interest=interest, recorded_by=user)
    if not interest.strip():
        raise ValidationError("interest: say what the conflict is.")
    return Declaration.objects.create(meeting=meeting, member=member, interest=interest.strip(), recorded_by=user)
