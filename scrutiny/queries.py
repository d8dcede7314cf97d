"""What each role may read of the panels' work (shared by the pages and the API)."""

from django.db.models import Count, Q
from django.utils import timezone

from forces.models import Role
from forces.queries import force_of, role_of
from incidents.queries import period_start
from scrutiny.models import Action, CaseSample, Finding, ForceResponse, Panel, Review, SampledCase

# Roles that follow samples and reviews, and those that follow findings and what came of them.
SAMPLE_ROLES = {Role.PCC_STAFF, Role.PANEL_MEMBER}
FINDING_ROLES = {Role.PCC_STAFF, Role.PANEL_MEMBER, Role.FORCE_DATA_OFFICER, Role.API_CLIENT}


def may_follow_samples(user):
    return user.is_superuser or role_of(user) in SAMPLE_ROLES


def may_follow_findings(user):
    return user.is_superuser or role_of(user) in FINDING_ROLES


def samples_visible_to(user):
    """Case samples: a force's for its PCC staff, their own panels' for panel members."""
    samples = CaseSample.objects.select_related("panel", "meeting").prefetch_related("cases")
    if user.is_superuser:
        return samples
    role = role_of(user)
    if role == Role.PCC_STAFF:
        return samples.filter(panel__force=force_of(user))
    if role == Role.PANEL_MEMBER:
        return samples.filter(panel__members__user=user).distinct()
    return samples.none()


def reviews_visible_to(user):
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


def findings_visible_to(user):
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
        return findings.filter(sampled_case__sample__panel__members__user=user).distinct()
    return findings.none()


def responses_visible_to(user):
    return ForceResponse.objects.filter(finding__in=findings_visible_to(user)).select_related("responded_by")


def actions_visible_to(user):
    return Action.objects.filter(finding__in=findings_visible_to(user))


# --- the force dashboard's scrutiny figures ---------------------------------------------------


def findings_by_quarter(*, force, start, end, area=None):
    """([{"quarter", "grade", "findings"}], grades in scale order) of the force's findings recorded start ≤ day < end.

    With an area, only findings on reports of that area.
    """
    findings = Finding.objects.filter(
        sampled_case__sample__panel__force=force, recorded_at__date__gte=start, recorded_at__date__lt=end
    )
    if area is not None:
        findings = findings.filter(sampled_case__report__area=area)
    counts = {}
    for grade, recorded_at in findings.values_list("panel_grade", "recorded_at"):
        key = (period_start(timezone.localdate(recorded_at), "quarter"), grade)
        counts[key] = counts.get(key, 0) + 1
    grades = []
    for panel in Panel.objects.filter(force=force):
        grades += [grade for grade in panel.grades if grade not in grades]
    grades += sorted({grade for _, grade in counts} - set(grades))
    rows = [{"quarter": quarter, "grade": grade, "findings": n} for (quarter, grade), n in sorted(counts.items())]
    return rows, grades


def action_counts(*, force, today=None):
    """The force's actions by status, and how many open or in-progress ones are past their due date."""
    today = today or timezone.localdate()
    actions = Action.objects.filter(finding__sampled_case__sample__panel__force=force)
    counts = dict(actions.values_list("status").annotate(n=Count("pk")))
    return {
        "open": counts.get(Action.Status.OPEN, 0),
        "in_progress": counts.get(Action.Status.IN_PROGRESS, 0),
        "closed": counts.get(Action.Status.CLOSED, 0),
        "overdue": actions.exclude(status=Action.Status.CLOSED).filter(due_on__lt=today).count(),
    }


def sample_history(*, user, report):
    """The report's cases in the samples the user may follow, oldest first, with the panel's finding if any."""
    cases = SampledCase.objects.filter(report=report, sample__in=samples_visible_to(user))
    return cases.select_related("sample__panel", "sample__meeting", "finding").order_by("sample__created_at")
