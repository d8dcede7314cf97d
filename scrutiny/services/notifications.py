"""Telling members, staff and the force what is due: notifications, by e-mail too, and reminders."""

import datetime
from collections.abc import Iterable
from functools import partial

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from forces.models import Role
from scrutiny.models import (
    Notification,
    Panel,
)
from scrutiny.queries import (
    force_staff,
    overdue_actions,
    responses_awaited,
)


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
