"""Members, their cases and the meeting: who reviews what, how far the reviews are, what a case shows."""

import datetime
from collections import Counter
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.crypto import salted_hmac

from forces.roles import Person
from incidents.models import (
    LADDER,
    CedLevel,
    OfficerInjury,
    SubjectInjury,
    UseOfForceReport,
)
from scrutiny.models import (
    Attendance,
    Declaration,
    FootageViewing,
    Meeting,
    Panel,
    PanelMember,
    Review,
    SampledCase,
)
from scrutiny.queries.sampling import CHILD_AGES

# --- memberships and cases ---------------------------------------------------------------------


def memberships_of(user: Person) -> QuerySet[PanelMember]:
    """The user's panel memberships, each with its panel and force."""
    if not user.is_authenticated:
        return PanelMember.objects.none()
    return PanelMember.objects.filter(user=user).select_related("panel__force").order_by("panel__name")


def membership(*, user: Person, panel: Panel) -> PanelMember | None:
    """The user's membership of `panel`, or None."""
    return memberships_of(user).filter(panel=panel).first()


def cases_for_member(*, user: Person, on: datetime.date | None = None) -> list[SampledCase]:
    """Sampled cases of the panels on which the user may review today, with `own_review` (or None).

    A member whose term or vetting has lapsed sees none of the panel's cases.
    """
    panels = [member.panel_id for member in memberships_of(user) if not member.barrier(on)]
    cases: list[Any] = list(
        SampledCase.objects.filter(sample__panel__in=panels)
        .select_related("sample__panel", "sample__meeting", "report__area")
        .prefetch_related(Prefetch("reviews", Review.objects.filter(member__user=user.pk), to_attr="own_reviews"))
        .order_by("-sample__meeting__held_on", "sample__panel__name", "report__occurred_on", "pk")
    )
    # A report sampled again (by the chair's choice, or before samples left reviewed reports out)
    # is listed once, at its newest case.
    listed: list[SampledCase] = []
    seen: set[tuple[int, int]] = set()
    for case in cases:
        if (case.sample.panel_id, case.report_id) in seen:
            continue
        seen.add((case.sample.panel_id, case.report_id))
        case.own_review = case.own_reviews[0] if case.own_reviews else None
        listed.append(case)
    return listed


def member_case_of_report(*, user: Person, report_id: int) -> SampledCase | None:
    """The newest case of a report sampled for a panel the user sits on, or None."""
    cases = SampledCase.objects.filter(report_id=report_id, sample__panel__members__user=user.pk)
    return cases.order_by("-pk").first()


def cases_of_meeting(*, meeting: Meeting) -> QuerySet[SampledCase]:
    """The meeting's cases in the order they were sampled, with their submitted reviews counted."""
    return (
        SampledCase.objects.filter(sample__meeting=meeting)
        .select_related("sample", "report__area", "finding")
        .annotate(submitted=Count("reviews", filter=Q(reviews__status=Review.Status.SUBMITTED)))
        .order_by("sample__created_at", "sample_id", "report__occurred_on", "pk")
    )


def meeting_quorum(*, meeting: Meeting) -> dict[str, Any]:
    """{"present", "apologies", "quorum", "taken", "quorate"}: attendance as the chair recorded it."""
    counts = dict(meeting.attendance.values_list("status").annotate(n=Count("pk")).order_by())
    present, quorum = counts.get(Attendance.Status.PRESENT, 0), meeting.panel.quorum
    return {
        "present": present, "apologies": counts.get(Attendance.Status.APOLOGIES, 0), "quorum": quorum,
        "taken": bool(counts), "quorate": present >= quorum,
    }  # fmt: skip


def expected_reviewers(*, case: SampledCase, on: datetime.date | None = None) -> list[PanelMember]:
    """The panel's members who may review the case on `on` (today) and declared no interest in it."""
    conflicted = set(case.declarations.values_list("member_id", flat=True))
    members = case.sample.panel.members.select_related("user", "panel").order_by("user__username")
    return [member for member in members if member.pk not in conflicted and not member.barrier(on)]


def outstanding_reviewers(*, case: SampledCase, on: datetime.date | None = None) -> list[PanelMember]:
    """The expected reviewers who have not submitted their review of the case."""
    submitted = set(case.reviews.filter(status=Review.Status.SUBMITTED).values_list("member_id", flat=True))
    return [member for member in expected_reviewers(case=case, on=on) if member.pk not in submitted]


def review_progress(*, meeting: Meeting, on: datetime.date | None = None) -> list[dict[str, Any]]:
    """Per member of the panel: [{"member", "submitted", "drafts", "to_do", "declared"}] over the meeting's cases."""
    cases = SampledCase.objects.filter(sample__meeting=meeting)
    reviews = Review.objects.filter(sampled_case__in=cases)
    declared = Counter(Declaration.objects.filter(sampled_case__in=cases).values_list("member_id", flat=True))
    status = Counter(reviews.values_list("member_id", "status"))
    total = cases.count()
    rows = []
    for member in meeting.panel.members.select_related("user").order_by("user__username"):
        submitted, drafts = status[(member.pk, Review.Status.SUBMITTED)], status[(member.pk, Review.Status.DRAFT)]
        rows.append({
            "member": member, "submitted": submitted, "drafts": drafts, "declared": declared[member.pk],
            "to_do": total - submitted - declared[member.pk], "barrier": member.barrier(on),
        })  # fmt: skip
    return rows


def previous_meeting(*, meeting: Meeting) -> Meeting | None:
    """The panel's meeting before this one, or None."""
    earlier = meeting.panel.meetings.filter(held_on__lt=meeting.held_on)
    return earlier.order_by("-held_on", "-pk").first()


def submitted_reviews(*, case: SampledCase) -> QuerySet[Review]:
    """The case's submitted reviews, for the chair once the case is opened at the meeting."""
    return case.reviews.filter(status=Review.Status.SUBMITTED).select_related("member__user").order_by("submitted_at")


def case_footage(*, case: SampledCase, now: datetime.datetime | None = None) -> dict[str, Any]:
    """{"clips", "accounts"} of the case: each clip with `open` (its link may be followed) and `all_viewings`."""
    clips: list[Any] = list(
        case.clips.prefetch_related(
            Prefetch("viewings", FootageViewing.objects.select_related("member__user"), to_attr="all_viewings")
        )
    )
    for clip in clips:
        clip.open = clip.link_open(now)
    return {"clips": clips, "accounts": list(case.officer_accounts.all())}


def officer_pseudonym(*, force_id: str, officer_reference: str) -> str:
    """A stable stand-in for the officer: the same within a force, unlinkable across forces or to the reference.

    An HMAC keyed with SECRET_KEY: rotating the key gives every officer a new pseudonym.
    """
    reference = officer_reference.strip()
    if not reference:
        return "Officer not recorded"
    digest = salted_hmac("scrutiny.officer", f"{force_id}\x1f{reference}", algorithm="sha256").hexdigest()
    return f"Officer {digest[:8].upper()}"


def content_warnings(report: UseOfForceReport) -> list[str]:
    """What makes a case distressing to review, in words for the warning shown before the record."""
    warnings = []
    if report.outcome_fatality or report.subject_injury == SubjectInjury.DEATH:
        warnings.append("a death")
    if report.subject_injury == SubjectInjury.SEVERE:
        warnings.append("severe injury to the person")
    if report.officer_injury == OfficerInjury.SEVERE:
        warnings.append("severe injury to an officer")
    if report.outcome_hospitalised:
        warnings.append("a hospital admission")
    if report.subject_age in CHILD_AGES:
        warnings.append("a child")
    if report.outcome_detained_mha:
        warnings.append("detention under the Mental Health Act")
    return warnings


LADDER_FLAG = dict(LADDER)
OFFICER_CONTEXT = (
    ("officer_single_crewed", "single-crewed"),
    ("officer_ced_trained", "CED-trained"),
    ("officer_carrying_ced", "carrying CED"),
    ("officer_assaulted", "assaulted"),
    ("officer_threatened_with_weapon", "threatened with a weapon"),
)


def case_record(report: UseOfForceReport) -> dict[str, Any]:
    """The report's multi-select answers and devices in words, for the panel's view of the record."""

    def ticked(prefix: str) -> list[str]:
        return [label for name, label in UseOfForceReport.options(prefix) if getattr(report, name)]

    context = [
        f"{label}: {'not stated' if getattr(report, name) is None else 'yes' if getattr(report, name) else 'no'}"
        for name, label in OFFICER_CONTEXT
    ]
    if report.officer_main_duty:
        context.append(f"main duty: {report.officer_main_duty}")
    return {
        "locations": report.location_groups(),
        "impact": ticked("impact_"),
        "reasons": ticked("reason_"),
        "outcomes": ticked("outcome_"),
        "levels": [level.label for level in CedLevel if level and getattr(report, LADDER_FLAG[level])],
        "context": context,
        "devices": list(report.ced_uses.all()),
    }
