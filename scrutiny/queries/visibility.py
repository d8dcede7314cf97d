"""Which of the panels' records each role sees: a force's, a panel's, or those sent to the force."""

from django.db.models import Q, QuerySet

from forces.models import Role
from forces.roles import Person, force_of, role_of
from scrutiny.models import (
    Action,
    CaseSample,
    Finding,
    ForceResponse,
    Review,
)


def samples_visible_to(user: Person) -> QuerySet[CaseSample]:
    """Case samples: a force's for its PCC staff, their own panels' for panel members."""
    samples = CaseSample.objects.select_related("panel", "meeting__panel").prefetch_related(
        "cases__clips__viewings", "cases__officer_accounts", "cases__declarations__member__user",
        "meeting__declarations__member__user",
    )  # fmt: skip
    if user.is_superuser:
        return samples
    role = role_of(user)
    if role == Role.PCC_STAFF:
        return samples.filter(panel__force=force_of(user))
    if role == Role.PANEL_MEMBER:
        return samples.filter(panel__members__user=user.pk).distinct()
    return samples.none()


def reviews_visible_to(user: Person) -> QuerySet[Review]:
    """A member's own reviews, drafts included; others' only once submitted and the chair opened the case."""
    reviews = Review.objects.select_related("member__user", "sampled_case__sample__panel")
    if user.is_superuser:
        return reviews
    role = role_of(user)
    if role == Role.PCC_STAFF:
        return reviews.filter(sampled_case__sample__panel__force=force_of(user), status=Review.Status.SUBMITTED)
    if role == Role.PANEL_MEMBER:
        opened = Q(
            sampled_case__sample__panel__members__user=user,
            sampled_case__opened_at_meeting_at__isnull=False,
            status=Review.Status.SUBMITTED,
        )
        return reviews.filter(Q(member__user=user) | opened).distinct()
    return reviews.none()


def findings_visible_to(user: Person) -> QuerySet[Finding]:
    """Findings: a force's for its PCC staff; those sent for feedback for the force; a panel's for its members."""
    findings = Finding.objects.select_related("sampled_case__sample__panel")
    if user.is_superuser:
        return findings
    role = role_of(user)
    force = force_of(user)
    if role == Role.PCC_STAFF:
        return findings.filter(sampled_case__sample__panel__force=force)
    if role in (Role.FORCE_DATA_OFFICER, Role.API_CLIENT):
        return findings.filter(sampled_case__sample__panel__force=force, for_force_feedback=True)
    if role == Role.PANEL_MEMBER:
        return findings.filter(sampled_case__sample__panel__members__user=user.pk).distinct()
    return findings.none()


def responses_visible_to(user: Person) -> QuerySet[ForceResponse]:
    return ForceResponse.objects.filter(finding__in=findings_visible_to(user)).select_related("responded_by")


def actions_visible_to(user: Person) -> QuerySet[Action]:
    return Action.objects.filter(finding__in=findings_visible_to(user))
