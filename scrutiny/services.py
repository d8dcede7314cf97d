"""Writes of the panels' work. Each checks what the rules allow, then changes its rows at once.

Who may call what (role, force, panel) is checked by the views; the rules of the workflow
(terms, vetting, the order of a meeting, an action's life) are checked here, so no page can
skip them. A refusal is a ValidationError with a sentence the user can act on.
"""

import datetime
import secrets
from collections.abc import Iterable
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from forces.models import Area, Force, ForceScope, Role
from forces.roles import role_of
from forces.services import create_role_user
from incidents.models import UseOfForceReport, YesNoNotStated
from scrutiny.models import (
    ANSWERS,
    LJP_CHECKLIST,
    NATIONAL_RUBRIC,
    Action,
    ActionUpdate,
    Attendance,
    CaseSample,
    CaseView,
    Declaration,
    Finding,
    FootageClip,
    FootageViewing,
    ForceResponse,
    Meeting,
    Notification,
    OfficerAccount,
    Panel,
    PanelMember,
    Review,
    SampledCase,
)
from scrutiny.queries import (
    RANDOM_RULES,
    STRATA,
    earlier_cases_of_report,
    force_data_version,
    force_staff,
    left_out_of_draw,
    meeting_quorum,
    membership,
    outstanding_reviewers,
    overdue_actions,
    previous_meeting,
    responses_awaited,
    sample_pool,
    sample_selection,
    sampled_for_meeting,
)

Rule = CaseSample.Rule


def day(value: datetime.date | None) -> str:
    return f"{value:%-d %B %Y}"


# --- notifications -----------------------------------------------------------------------------


def notify(users: Iterable[User], *, kind: str, subject: str, body: str, link: str, key: str) -> list[Notification]:
    """Tell each user once per key: a Notification on their page, and an e-mail if they have an address."""
    told: list[Notification] = []
    for user in users:
        notification, created = Notification.objects.get_or_create(
            user=user, key=key, defaults={"kind": kind, "subject": subject, "body": body, "link": link}
        )
        if not created:
            continue
        told.append(notification)
        if user.email:
            # Only once the notification is saved: a write rolled back sends nothing.
            transaction.on_commit(
                partial(
                    send_mail,
                    f"Taser oversight: {subject}",
                    f"{body}\n\n{link}",
                    None,
                    [user.email],
                    fail_silently=True,
                )
            )
    return told


def panel_reviewers(panel: Panel) -> list[User]:
    return [member.user for member in panel.members.select_related("user", "panel") if not member.barrier()]


def send_reminders(*, today: datetime.date | None = None) -> int:
    """Remind the force of responses due within SCRUTINY_REMIND_DAYS_BEFORE days and of those overdue
    (PCC staff too), and both offices of overdue actions; each reminder once. Returns how many were sent."""
    today = today or timezone.localdate()
    soon = today + datetime.timedelta(days=settings.SCRUTINY_REMIND_DAYS_BEFORE)
    sent = 0
    for finding in responses_awaited().filter(response_due_on__lte=soon):
        force = finding.sampled_case.sample.panel.force
        link = reverse("scrutiny-finding", args=[finding.pk])
        officers = force_staff(force=force, role=Role.FORCE_DATA_OFFICER)
        due = finding.response_due_on
        if due is not None and due < today:  # awaited findings all have a due day
            users = officers + force_staff(force=force, role=Role.PCC_STAFF)
            sent += len(notify(
                users, kind=Notification.Kind.RESPONSE_OVERDUE, link=link, key=f"finding:{finding.pk}:overdue",
                subject=f"Response to finding {finding.pk} overdue",
                body=f"The force's response to finding {finding.pk} was due on {day(finding.response_due_on)}.",
            ))  # fmt: skip
        else:
            sent += len(notify(
                officers, kind=Notification.Kind.RESPONSE_DUE, link=link, key=f"finding:{finding.pk}:due",
                subject=f"Response to finding {finding.pk} due on {day(finding.response_due_on)}",
                body=f"The panel awaits the force's response to finding {finding.pk}.",
            ))  # fmt: skip
    forces = {panel.force for panel in Panel.objects.select_related("force")}
    for force in forces:
        users = force_staff(force=force, role=Role.PCC_STAFF) + force_staff(force=force, role=Role.FORCE_DATA_OFFICER)
        for action in overdue_actions(force=force, on=today):
            sent += len(notify(
                users, kind=Notification.Kind.ACTION_OVERDUE, link=reverse("scrutiny-action", args=[action.pk]),
                key=f"action:{action.pk}:overdue:{action.due_on}", subject=f"Action {action.pk} overdue",
                body=f"“{action.description}” ({action.owner}) was due on {day(action.due_on)}.",
            ))  # fmt: skip
    return sent


# --- panels and members ------------------------------------------------------------------------


def clean_scale(grading_scale: str, custom_grades: Iterable[str]) -> list[str]:
    if grading_scale not in Panel.Scale.values:
        raise ValidationError(f"grading scale: '{grading_scale}' is not one of {', '.join(Panel.Scale.values)}.")
    if grading_scale != Panel.Scale.CUSTOM:
        return []
    grades = [grade.strip() for grade in custom_grades if grade.strip()]
    if len(grades) < 2 or len(set(grades)) != len(grades):
        raise ValidationError("custom grades: give at least two different grades, best first, one a line.")
    return grades


def clean_rubric(rubric: Iterable[str]) -> list[str]:
    questions = [question.strip() for question in rubric if question.strip()]
    if len(set(questions)) != len(questions):
        raise ValidationError("rubric: each question may appear once.")
    return questions


def clean_quorum(quorum: int) -> int:
    if not isinstance(quorum, int) or quorum < 1:
        raise ValidationError(f"quorum: '{quorum}' is not a whole number of members, 1 or more.")
    return quorum


@transaction.atomic
def create_panel(
    *,
    force: Force,
    name: str,
    terms_of_reference: str = "",
    grading_scale: str = Panel.Scale.RAG,
    custom_grades: Iterable[str] = (),
    rubric: Iterable[str] | None = None,
    quorum: int | None = None,
) -> Panel:
    """A new panel; without a rubric of its own it starts from the national body-worn video checklist."""
    rubric = NATIONAL_RUBRIC if rubric is None else rubric
    if Panel.objects.filter(force=force, name=name).exists():
        raise ValidationError(f"name: {force} already has a panel called “{name}”.")
    return Panel.objects.create(
        force=force,
        name=name,
        terms_of_reference=terms_of_reference,
        grading_scale=grading_scale,
        custom_grades=clean_scale(grading_scale, custom_grades),
        rubric=clean_rubric(rubric),
        quorum=Panel._meta.get_field("quorum").default if quorum is None else clean_quorum(quorum),
    )


@transaction.atomic
def update_panel(
    panel: Panel,
    *,
    name: str,
    terms_of_reference: str,
    grading_scale: str,
    custom_grades: Iterable[str],
    rubric: Iterable[str],
    quorum: int | None = None,
) -> Panel:
    """Change the panel's settings; without `quorum`, the quorum stays as it is."""
    panel = Panel.objects.select_for_update().get(pk=panel.pk)
    if quorum is not None:
        # Applies to findings still to be recorded: those recorded stand, as the meeting was quorate then.
        panel.quorum = clean_quorum(quorum)
    grades = clean_scale(grading_scale, custom_grades)
    graded = Review.objects.filter(member__panel=panel).exclude(grade="").exists()
    graded = graded or Finding.objects.filter(sampled_case__sample__panel=panel).exists()
    if graded and (grading_scale != panel.grading_scale or grades != panel.custom_grades):
        # Grades already given would no longer be on the scale, and the reports would mix scales.
        raise ValidationError("grading scale: cases have been graded on this scale; set up a new panel to change it.")
    if Panel.objects.filter(force=panel.force, name=name).exclude(pk=panel.pk).exists():
        raise ValidationError(f"name: {panel.force} already has a panel called “{name}”.")
    panel.name, panel.terms_of_reference = name, terms_of_reference
    panel.grading_scale, panel.custom_grades, panel.rubric = grading_scale, grades, clean_rubric(rubric)
    panel.save()
    return panel


def check_term(term_starts_on: datetime.date, term_ends_on: datetime.date | None) -> None:
    if term_ends_on and term_ends_on < term_starts_on:
        raise ValidationError(f"term ends on: {day(term_ends_on)} is before the term starts ({day(term_starts_on)}).")


@transaction.atomic
def add_member(
    *,
    panel: Panel,
    user: User,
    role: str = PanelMember.Role.MEMBER,
    term_starts_on: datetime.date,
    term_ends_on: datetime.date | None = None,
    vetted_on: datetime.date | None = None,
    trained_on: datetime.date | None = None,
) -> PanelMember:
    scope = ForceScope.objects.filter(user=user).first()
    if role_of(user) != Role.PANEL_MEMBER or scope is None or scope.force_id != panel.force_id:
        raise ValidationError(f"user: {user.username} is not a scrutiny panel member of {panel.force}.")
    if PanelMember.objects.filter(panel=panel, user=user).exists():
        raise ValidationError(f"user: {user.username} is already on {panel}.")
    check_term(term_starts_on, term_ends_on)
    return PanelMember.objects.create(
        panel=panel, user=user, role=role, term_starts_on=term_starts_on, term_ends_on=term_ends_on,
        vetted_on=vetted_on, trained_on=trained_on,
    )  # fmt: skip


@transaction.atomic
def add_new_member(
    *,
    panel: Panel,
    username: str,
    email: str,
    role: str = PanelMember.Role.MEMBER,
    term_starts_on: datetime.date,
    term_ends_on: datetime.date | None = None,
    vetted_on: datetime.date | None = None,
    trained_on: datetime.date | None = None,
) -> PanelMember:
    """Create a panel-member login of the panel's force and put it on the panel at once.

    The login has no usable password: the member sets one through "forgotten your password" with
    the e-mail address given here.
    """
    username, email = username.strip(), email.strip()
    if not username or not email:
        raise ValidationError("new member: give a username and the member's e-mail address.")
    if get_user_model().objects.filter(username=username).exists():
        raise ValidationError(f"username: {username} is taken; choose another, or pick the existing login.")
    check_term(term_starts_on, term_ends_on)
    user = create_role_user(username, Role.PANEL_MEMBER, panel.force, password=None)  # None: unusable
    user.email = email
    user.save(update_fields=["email"])
    return add_member(panel=panel, user=user, role=role, term_starts_on=term_starts_on, term_ends_on=term_ends_on,
                      vetted_on=vetted_on, trained_on=trained_on)  # fmt: skip


@transaction.atomic
def retire_member(member: PanelMember, *, on: datetime.date | None = None) -> PanelMember:
    """End a membership's term today (or on `on`): the member keeps their reviews and stops reviewing."""
    member = PanelMember.objects.select_for_update().get(pk=member.pk)
    on = on or timezone.localdate()
    if member.term_ends_on and member.term_ends_on <= on:
        raise ValidationError(f"{member.user.username}'s term already ended on {day(member.term_ends_on)}.")
    check_term(member.term_starts_on, on)
    member.term_ends_on = on
    member.save(update_fields=["term_ends_on"])
    return member


@transaction.atomic
def update_member(
    member: PanelMember,
    *,
    role: str,
    term_ends_on: datetime.date | None,
    vetted_on: datetime.date | None,
    trained_on: datetime.date | None,
) -> PanelMember:
    member = PanelMember.objects.select_for_update().get(pk=member.pk)
    check_term(member.term_starts_on, term_ends_on)
    member.role, member.term_ends_on, member.vetted_on, member.trained_on = role, term_ends_on, vetted_on, trained_on
    member.save()
    return member


def schedule_meeting(*, panel: Panel, held_on: datetime.date, notes: str = "", agenda: str = "") -> Meeting:
    return Meeting.objects.create(panel=panel, held_on=held_on, notes=notes, agenda=agenda.strip())


# --- sampling ----------------------------------------------------------------------------------


def clean_parameters(rule: str, parameters: dict[str, Any], force: Force) -> dict[str, Any]:
    """The parameters a rule takes, checked; the rest are dropped so the record says only what was used."""
    include_sampled = parameters.get("include_sampled")
    if include_sampled not in (None, False, True):
        raise ValidationError(f"include sampled: '{include_sampled}' is not yes or no.")
    # Said only when it applies, so a record without it reads as the panel's usual rule.
    return rule_parameters(rule, parameters, force) | ({"include_sampled": True} if include_sampled else {})


def rule_parameters(rule: str, parameters: dict[str, Any], force: Force) -> dict[str, Any]:
    if rule == Rule.RANDOM_NON_DISCHARGE:
        percent, strata = parameters.get("percent"), parameters.get("strata") or "area"
        if not isinstance(percent, int) or not 1 <= percent <= 100:
            raise ValidationError(f"percent: '{percent}' is not a whole number from 1 to 100.")
        if strata not in STRATA:
            raise ValidationError(f"strata: '{strata}' is not one of {', '.join(STRATA)}.")
        return {"percent": percent, "strata": strata}
    if rule == Rule.AREA_FOCUS:
        area = Area.objects.filter(force=force, pk=parameters.get("area")).first()  # type: ignore[misc]
        if area is None:
            raise ValidationError(f"area: '{parameters.get('area')}' is not an area of {force}.")
        limit = parameters.get("limit")
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise ValidationError(f"limit: '{limit}' is not a whole number of 1 or more.")
        return {"area": area.pk, "area_name": area.name} | ({"limit": limit} if limit else {})
    return {}


@transaction.atomic
def draw_sample(
    *,
    meeting: Meeting,
    rule: str,
    starts_on: datetime.date,
    ends_on: datetime.date,
    parameters: dict[str, Any] | None = None,
    seed: int | None = None,
    user: User | None = None,
) -> CaseSample:
    """Draw a meeting's sample by a rule and record how, so that anyone can draw it again.

    Before the draw, reports are left out (and recorded, with the reason) that an earlier sample
    of the meeting holds, and unless the parameters say `include_sampled`, those the panel has
    reviewed or holds in another sample. A report without body-worn video is kept and flagged
    for follow-up.
    """
    if rule == Rule.CHAIR_CHOICE:
        raise ValidationError("rule: the chair adds cases one by one, each with a reason.")
    if rule not in Rule.values:
        raise ValidationError(f"rule: '{rule}' is not one of {', '.join(Rule.values)}.")
    if ends_on < starts_on:
        raise ValidationError(f"period: it ends ({day(ends_on)}) before it starts ({day(starts_on)}).")
    force = meeting.panel.force
    parameters = clean_parameters(rule, parameters or {}, force)
    if rule in RANDOM_RULES and seed is None:
        seed = secrets.randbelow(2**31)
    version = force_data_version(force=force)
    period: dict[str, Any] = {"starts_on": starts_on, "ends_on": ends_on, "version": version}
    pool = list(sample_pool(force=force, rule=rule, parameters=parameters, **period).values_list("id", flat=True))
    left_out = left_out_of_draw(
        panel=meeting.panel, meeting_id=meeting.pk, report_ids=pool,
        include_sampled=parameters.get("include_sampled", False),
    )  # fmt: skip
    sample = CaseSample.objects.create(
        panel=meeting.panel, meeting=meeting, rule=rule, parameters=parameters,
        seed=seed if rule in RANDOM_RULES else None, period_starts_on=starts_on, period_ends_on=ends_on,
        data_version=version, created_by=user, eligible=len(pool), left_out=left_out,
    )  # fmt: skip
    chosen = sample_selection(
        force=force, rule=rule, parameters=parameters, seed=sample.seed,
        exclude={report_id for ids in left_out.values() for report_id in ids}, **period,
    )  # fmt: skip
    videos = dict(UseOfForceReport.objects.filter(pk__in=chosen).values_list("id", "body_worn_video"))
    SampledCase.objects.bulk_create(
        SampledCase(sample=sample, report_id=report_id, needs_video_follow_up=videos[report_id] != YesNoNotStated.YES)
        for report_id in chosen
    )
    if chosen:
        notify(
            panel_reviewers(meeting.panel), kind=Notification.Kind.CASES_DRAWN, link=reverse("scrutiny-my-cases"),
            key=f"sample:{sample.pk}", subject=f"{len(chosen)} case(s) drawn for the meeting of {day(meeting.held_on)}",
            body=f"{sample.get_rule_display()}: {len(chosen)} case(s) for {meeting.panel} to review.",
        )  # fmt: skip
    return sample


@transaction.atomic
def withdraw_sample(*, sample: CaseSample) -> None:
    """Remove a sample that drew no case: it holds nothing the panel could have worked on."""
    sample = CaseSample.objects.select_for_update().get(pk=sample.pk)
    if sample.cases.exists():
        raise ValidationError(f"Sample {sample.pk} holds cases; only a sample that drew none can be withdrawn.")
    sample.delete()


def active_chair(panel: Panel, user: User) -> PanelMember:
    member = membership(user=user, panel=panel)
    if member is None or not member.is_chair:
        raise ValidationError(f"Only the chair of {panel} may do this.")
    if barrier := member.barrier():
        raise ValidationError(barrier)
    return member


@transaction.atomic
def add_chair_case(*, meeting: Meeting, report_id: int, reason: str, user: User, again: bool = False) -> SampledCase:
    """The chair adds a case to the meeting, with the reason recorded beside it.

    A report the panel has reviewed, or holds in another sample, is added only when the chair
    confirms (`again`): the refusal says which case and meeting it was in.
    """
    active_chair(meeting.panel, user)
    reason = reason.strip()
    if not reason:
        raise ValidationError("reason: say why the panel should review this case.")
    force = meeting.panel.force
    report = UseOfForceReport.objects.current().filter(force=force, pk=report_id).first()
    if report is None:
        raise ValidationError(f"report: {report_id} is not a current use-of-force report of {force}.")
    if report.pk in sampled_for_meeting(meeting_id=meeting.pk):
        raise ValidationError(f"report: {report.pk} is already sampled for this meeting.")
    earlier = earlier_cases_of_report(panel=meeting.panel, report_id=report.pk)
    if earlier and not again:
        history = earlier[0].history  # type: ignore[attr-defined]  # each earlier case says what became of it
        raise ValidationError(
            f"report: {report.pk} {history}; tick “add it again” if the panel should look at it again.",
            code="sampled_before",
        )
    sample = CaseSample.objects.filter(meeting=meeting, rule=Rule.CHAIR_CHOICE).first()
    if sample is None:
        sample = CaseSample.objects.create(
            panel=meeting.panel, meeting=meeting, rule=Rule.CHAIR_CHOICE, period_starts_on=report.occurred_on,
            period_ends_on=report.occurred_on, data_version=force_data_version(force=force), created_by=user,
        )  # fmt: skip
    # The period of a chair's choice is the span of the cases chosen.
    sample.period_starts_on = min(sample.period_starts_on, report.occurred_on)
    sample.period_ends_on = max(sample.period_ends_on, report.occurred_on)
    sample.save(update_fields=["period_starts_on", "period_ends_on"])
    return SampledCase.objects.create(
        sample=sample, report=report, reason=reason, added_by=user, added_at=timezone.now(),
        needs_video_follow_up=report.body_worn_video != YesNoNotStated.YES,
    )  # fmt: skip


@transaction.atomic
def record_video_follow_up(*, case: SampledCase, user: User, note: str) -> SampledCase:
    """Record what came of asking the force about a case's missing body-worn video."""
    case = SampledCase.objects.select_for_update().get(pk=case.pk)
    if not case.needs_video_follow_up:
        raise ValidationError(f"Case {case.pk} has body-worn video recorded: there is nothing to follow up.")
    if case.video_followed_up_at:
        raise ValidationError(f"Case {case.pk} was followed up on {day(case.video_followed_up_at)}.")
    if not note.strip():
        raise ValidationError("follow-up: say what the force said about the missing video.")
    case.video_follow_up, case.video_followed_up_at, case.video_followed_up_by = note.strip(), timezone.now(), user
    case.save(update_fields=["video_follow_up", "video_followed_up_at", "video_followed_up_by"])
    return case


# --- footage and accounts ----------------------------------------------------------------------


def add_clip(
    *,
    case: SampledCase,
    user: User,
    system: str,
    clip_id: str,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    link: str = "",
    link_expires_at: datetime.datetime | None = None,
) -> FootageClip:
    """Record a reference to one of the case's body-worn video clips; the video stays in the force's system."""
    system, clip_id, link = system.strip(), clip_id.strip(), link.strip()
    if not system or not clip_id:
        raise ValidationError("clip: give the evidence system and the clip's id in it.")
    if ends_at < starts_at:
        raise ValidationError(f"clip {clip_id}: it ends ({ends_at:%-d %B %Y %H:%M}) before it starts.")
    if link_expires_at and not link:
        raise ValidationError(f"clip {clip_id}: a link's expiry is given without the link.")
    if FootageClip.objects.filter(sampled_case=case, system=system, clip_id=clip_id).exists():
        raise ValidationError(f"clip: {system} clip {clip_id} is already recorded for case {case.pk}.")
    return FootageClip.objects.create(
        sampled_case=case, system=system, clip_id=clip_id, starts_at=starts_at, ends_at=ends_at, link=link,
        link_expires_at=link_expires_at, added_by=user,
    )  # fmt: skip


def record_officer_account(
    *, case: SampledCase, user: User, account: str, supplied_on: datetime.date
) -> OfficerAccount:
    if not account.strip():
        raise ValidationError("account: give the officer's account as the force supplied it.")
    if supplied_on > timezone.localdate():
        raise ValidationError(f"supplied on: {day(supplied_on)} is still to come.")
    return OfficerAccount.objects.create(
        sampled_case=case, account=account.strip(), supplied_on=supplied_on, recorded_by=user
    )


def record_viewing(*, clip: FootageClip, member: PanelMember, watched: str, note: str = "") -> FootageViewing:
    """A member records what they watched of a clip (in full, in part, or that they could not)."""
    panel = clip.sampled_case.sample.panel
    if member.panel_id != panel.pk:
        raise ValidationError(f"Only members of {panel} record watching its cases' footage.")
    if barrier := member.barrier():
        raise ValidationError(barrier)
    if watched not in FootageViewing.Watched.values:
        raise ValidationError(f"watched: '{watched}' is not one of {', '.join(FootageViewing.Watched.values)}.")
    if watched != FootageViewing.Watched.IN_FULL and not note.strip():
        raise ValidationError("note: say what you watched, or why you could not.")
    return FootageViewing.objects.create(clip=clip, member=member, watched=watched, note=note.strip())


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


@transaction.atomic
def record_finding(
    *,
    case: SampledCase,
    user: User,
    panel_grade: str,
    summary: str,
    themes: Iterable[str] = (),
    for_force_feedback: bool = False,
) -> Finding:
    """The panel's consensus on a case, recorded by the chair once the case is opened at the meeting."""
    panel = case.sample.panel
    active_chair(panel, user)
    case = SampledCase.objects.select_for_update().get(pk=case.pk)
    if case.opened_at_meeting_at is None:
        raise ValidationError("Open the case at the meeting before recording the panel's finding.")
    quorum = meeting_quorum(meeting=case.sample.meeting) if case.sample.meeting else None
    if quorum and quorum["taken"] and not quorum["quorate"]:
        raise ValidationError(f"The meeting is not quorate: {quorum['present']} present, {quorum['quorum']} needed.")
    if Finding.objects.filter(sampled_case=case).exists():
        raise ValidationError("The panel's finding on this case is already recorded.")
    if panel_grade not in panel.grades:
        raise ValidationError(f"grade: '{panel_grade}' is not on the panel's scale ({', '.join(panel.grades)}).")
    if not summary.strip():
        raise ValidationError("finding: write the panel's finding.")
    unknown = set(themes) - set(Finding.Theme.values)
    if unknown:
        raise ValidationError(f"themes: {', '.join(sorted(unknown))} not among {', '.join(Finding.Theme.values)}.")
    due = timezone.localdate() + datetime.timedelta(days=settings.SCRUTINY_RESPONSE_DAYS)
    finding = Finding.objects.create(
        sampled_case=case, panel_grade=panel_grade, summary=summary.strip(),
        themes=[theme for theme in Finding.Theme.values if theme in themes], for_force_feedback=for_force_feedback,
        recorded_by=user, response_due_on=due if for_force_feedback else None,
    )  # fmt: skip
    if for_force_feedback:
        notify(
            force_staff(force=panel.force, role=Role.FORCE_DATA_OFFICER), kind=Notification.Kind.FINDING_SENT,
            link=reverse("scrutiny-finding", args=[finding.pk]), key=f"finding:{finding.pk}:sent",
            subject=f"{panel} sent finding {finding.pk} for the force's response",
            body=f"{panel_grade}: {finding.summary}\nThe force's response is due on {day(due)}.",
        )  # fmt: skip
    return finding


def set_published(*, finding: Finding, published: bool) -> Finding:
    """Publish a finding (with the force's responses) on the public pages, or withdraw it."""
    finding.published = published
    finding.published_at = timezone.now() if published else None
    finding.save(update_fields=["published", "published_at"])
    return finding


# --- the force's responses and actions -----------------------------------------------------------


def respond_to_finding(*, finding: Finding, user: User, response: str, position: str) -> ForceResponse:
    """The force's answer to a finding: whether it accepts it (in full, in part, or not) and why."""
    if not finding.for_force_feedback:
        raise ValidationError("The panel did not send this finding to the force for feedback.")
    if position not in ForceResponse.Position.values:
        raise ValidationError(f"position: '{position}' is not one of {', '.join(ForceResponse.Position.values)}.")
    if not response.strip():
        raise ValidationError("response: write the force's response.")
    return ForceResponse.objects.create(
        finding=finding, responded_by=user, response=response.strip(), position=position
    )


# An action moves forward only; a closed action stays closed (raise a new one if the matter returns).
NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    Action.Status.OPEN: (Action.Status.IN_PROGRESS, Action.Status.CLOSED),
    Action.Status.IN_PROGRESS: (Action.Status.CLOSED,),
    Action.Status.CLOSED: (),
}


@transaction.atomic
def create_action(
    *,
    finding: Finding,
    user: User,
    description: str,
    owner: str,
    due_on: datetime.date,
    today: datetime.date | None = None,
) -> Action:
    if not description.strip() or not owner.strip():
        raise ValidationError("Say what is to be done and who owns it.")
    today = today or timezone.localdate()
    if due_on < today:
        raise ValidationError(f"due on: {day(due_on)} has passed; give a date from today.")
    action = Action.objects.create(finding=finding, description=description.strip(), owner=owner.strip(), due_on=due_on)
    ActionUpdate.objects.create(action=action, status_to=action.status, note="Opened.", updated_by=user)
    return action


@transaction.atomic
def update_action(*, action: Action, user: User, status: str, note: str = "", evidence: str = "") -> ActionUpdate:
    """Move an action on (open → in progress → closed; closing needs evidence), or add a dated note."""
    action = Action.objects.select_for_update().get(pk=action.pk)
    before = action.status
    if before == Action.Status.CLOSED:
        raise ValidationError(f"Action {action.pk} was closed on {day(action.closed_at)}; raise a new action instead.")
    if status == before and not note.strip():
        raise ValidationError("note: say what has happened, or choose the action's next status.")
    if status != before and status not in NEXT_STATUSES[before]:
        allowed = ", ".join(Action.Status(s).label.lower() for s in NEXT_STATUSES[before])
        raise ValidationError(f"status: an action {Action.Status(before).label.lower()} moves only to {allowed}.")
    if status == Action.Status.CLOSED:
        if not evidence.strip():
            raise ValidationError("evidence: say what shows the action is done before closing it.")
        action.evidence, action.closed_at = evidence.strip(), timezone.now()
    action.status = status
    action.save()
    text = note.strip() or (f"Evidence: {action.evidence}" if status == Action.Status.CLOSED else "")
    return ActionUpdate.objects.create(action=action, status_from=before, status_to=status, note=text, updated_by=user)
