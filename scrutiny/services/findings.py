"""The panel's findings, the force's responses and the actions that follow."""

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from forces.models import Role
from scrutiny.models import (
    Action,
    ActionUpdate,
    Finding,
    ForceResponse,
    Notification,
    SampledCase,
)
from scrutiny.queries import (
    force_staff,
    meeting_quorum,
)
from scrutiny.services.notifications import day, notify
from scrutiny.services.sampling import active_chair


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
