"""Panels and their members: setting a panel up, members' terms, vetting and scheduling meetings."""

import datetime
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from forces.models import Force, ForceScope, Role
from forces.roles import role_of
from forces.services import create_role_user
from scrutiny.models import (
    NATIONAL_RUBRIC,
    Finding,
    Meeting,
    Panel,
    PanelMember,
    Review,
)
from scrutiny.services.notifications import day

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
