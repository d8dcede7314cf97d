"""What each role may read of the panels' work (shared by the pages and the API)."""

import datetime
import math
import random
from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Min, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac

from forces.models import Area, Force, Role
from forces.roles import Person, force_of, role_of
from incidents.disclosure import hidden_names
from incidents.models import (
    DISCHARGE_LEVELS,
    LADDER,
    NON_DISCHARGE_LEVELS,
    AgeBand,
    CedLevel,
    HealthCondition,
    OfficerInjury,
    SubjectInjury,
    UseOfForceReport,
)
from incidents.queries import data_version
from oversight.numbers import fraction
from oversight.police_calendar import (
    financial_year_label,
    quarter_bounds,
    quarter_label,
    quarter_start,
    quarters_of_financial_year,
)
from scrutiny.models import (
    ANSWERS,
    Action,
    Attendance,
    CaseSample,
    Declaration,
    Finding,
    FootageViewing,
    ForceResponse,
    Meeting,
    Panel,
    PanelMember,
    Review,
    SampledCase,
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


# --- sampling ----------------------------------------------------------------------------------

CHILD_AGES = (AgeBand.UNDER_11, AgeBand.FROM_11_TO_17)
MENTAL_HEALTH = (
    Q(subject_health__in=(HealthCondition.MENTAL, HealthCondition.PHYSICAL_AND_MENTAL))
    | Q(impact_mental_health=True)
    | Q(outcome_detained_mha=True)
    | Q(location_mental_health_setting=True)
)
# The columns a stratified draw may group by.
STRATA = {"area": "area_id", "level": "highest_ced_level"}
RANDOM_RULES = {CaseSample.Rule.RANDOM_NON_DISCHARGE, CaseSample.Rule.AREA_FOCUS}


def force_data_version(*, force: Force) -> int:
    """The version a draw reads the reports as of: the latest import, or the latest version a report carries."""
    latest = UseOfForceReport.objects.filter(force=force).aggregate(version=Max("data_version"))["version"]
    return max(data_version(force=force), latest or 0)


def reports_as_of(*, force: Force, version: int | None) -> QuerySet[UseOfForceReport]:
    """The force's Taser reports as they stood at data version `version`, as far as the records tell:
    written at or before it and not withdrawn by then. A report corrected since is left out."""
    reports = UseOfForceReport.objects.filter(force=force, ced_used=True)
    if version is None:  # a sample recorded without its version: the reports as they are now
        return reports.current()
    reports = reports.filter(data_version__lte=version)
    return reports.filter(Q(withdrawn_in_version__isnull=True) | Q(withdrawn_in_version__gt=version))


def sample_pool(
    *,
    force: Force,
    rule: str,
    parameters: dict[str, Any],
    starts_on: datetime.date,
    ends_on: datetime.date,
    version: int | None,
) -> QuerySet[UseOfForceReport]:
    """The reports a rule admits in the period, before any is left out or chosen at random."""
    reports = reports_as_of(force=force, version=version).filter(occurred_on__gte=starts_on, occurred_on__lte=ends_on)
    if rule == CaseSample.Rule.ALL_DISCHARGES:
        return reports.filter(highest_ced_level__in=DISCHARGE_LEVELS)
    if rule == CaseSample.Rule.CHILDREN_OR_MENTAL_HEALTH:
        return reports.filter(Q(subject_age__in=CHILD_AGES) | MENTAL_HEALTH)
    if rule == CaseSample.Rule.AREA_FOCUS:
        return reports.filter(area_id=parameters["area"])
    if rule == CaseSample.Rule.RANDOM_NON_DISCHARGE:
        return reports.filter(highest_ced_level__in=NON_DISCHARGE_LEVELS)
    raise ValueError(f"rule: {rule!r} selects no reports by itself")


def sample_selection(
    *,
    force: Force,
    rule: str,
    parameters: dict[str, Any],
    seed: int | None,
    starts_on: datetime.date,
    ends_on: datetime.date,
    version: int | None,
    exclude: Collection[int] = frozenset(),
) -> list[int]:
    """The ids of the reports a rule selects, ascending: the same arguments always give the same ids.

    Reports in `exclude` are taken out of the pool before any random choice, so a share is a
    share of the reports that may still be drawn. Random choices use Python's
    random.Random(seed).sample over candidate ids in ascending order, stratum by stratum in
    ascending order of the stratum's value (none first).
    """
    pool = sample_pool(
        force=force, rule=rule, parameters=parameters, starts_on=starts_on, ends_on=ends_on, version=version
    ).exclude(pk__in=exclude)
    rng = random.Random(seed)  # noqa: S311 - reproducible sampling, not secrecy
    if rule == CaseSample.Rule.AREA_FOCUS:
        chosen = list(pool.order_by("id").values_list("id", flat=True))
        limit = parameters.get("limit")
        if limit and len(chosen) > limit:
            chosen = rng.sample(chosen, limit)
    elif rule == CaseSample.Rule.RANDOM_NON_DISCHARGE:
        strata: dict[Any, list[int]] = {}
        for stratum, report_id in pool.order_by("id").values_list(STRATA[parameters.get("strata", "area")], "id"):
            strata.setdefault(stratum, []).append(report_id)
        chosen = []
        for stratum in sorted(strata, key=lambda value: (value is not None, value or 0)):
            ids = strata[stratum]
            chosen += rng.sample(ids, math.ceil(len(ids) * parameters["percent"] / 100))
    else:
        chosen = list(pool.values_list("id", flat=True))
    return sorted(chosen)


def left_out_of_draw(
    *, panel: Panel, meeting_id: int | None, report_ids: Iterable[int], include_sampled: bool = False
) -> dict[str, list[int]]:
    """{reason: [report ids]} of `report_ids` a draw for the meeting leaves out (reasons: models.LEFT_OUT).

    A report is sampled once a meeting; and, unless `include_sampled`, once by the panel: one it
    has reviewed (a finding, or a submitted review) or that another of its samples holds is left out.
    """
    report_ids = set(report_ids)
    cases = SampledCase.objects.filter(sample__panel=panel, report_id__in=report_ids)
    # No meeting (None): the cases of samples without one.
    this_meeting = set(cases.filter(sample__meeting_id=meeting_id).values_list("report_id", flat=True))  # type: ignore[misc]
    left_out = {"this_meeting": this_meeting}
    if not include_sampled:
        others = cases.exclude(report_id__in=this_meeting)
        reviewed = Q(finding__isnull=False) | Q(reviews__status=Review.Status.SUBMITTED)
        left_out["reviewed"] = set(others.filter(reviewed).values_list("report_id", flat=True))
        left_out["in_another_sample"] = set(others.values_list("report_id", flat=True)) - left_out["reviewed"]
    return {reason: sorted(ids) for reason, ids in left_out.items() if ids}


@dataclass(frozen=True)
class Redraw:
    """A sample drawn again from its record, beside the cases it holds."""

    sample: CaseSample
    drawn: list[int]  # report ids the rule selects again, less those the sample recorded as left out
    recorded: list[int]  # report ids of the sample's cases
    changed_since: set[int]  # report ids written (added or corrected) after the sample's data version

    @property
    def same(self) -> bool:
        return self.drawn == self.recorded

    @property
    def missing(self) -> list[int]:
        return sorted(set(self.recorded) - set(self.drawn))

    @property
    def extra(self) -> list[int]:
        return sorted(set(self.drawn) - set(self.recorded))


def sampled_for_meeting(*, meeting_id: int, before_sample_id: int | None = None) -> set[int]:
    """Report ids the meeting's samples hold (those before a given sample only): a report is sampled
    once a meeting, by the first sample that selects it."""
    cases = SampledCase.objects.filter(sample__meeting_id=meeting_id)
    if before_sample_id is not None:
        cases = cases.filter(sample_id__lt=before_sample_id)
    return set(cases.values_list("report_id", flat=True))


def earlier_cases_of_report(*, panel: Panel, report_id: int) -> list[SampledCase]:
    """The panel's cases of the report, newest first, each with `history`: what became of it, in words."""
    cases: list[Any] = list(
        SampledCase.objects.filter(sample__panel=panel, report_id=report_id)
        .select_related("sample__meeting", "finding")
        .annotate(submitted=Count("reviews", filter=Q(reviews__status=Review.Status.SUBMITTED)))
        .order_by("-sample__meeting__held_on", "-pk")
    )
    for case in cases:
        meeting = case.sample.meeting
        where = f"case {case.pk}" + (f", meeting of {meeting.held_on:%-d %B %Y}" if meeting else "")
        finding = getattr(case, "finding", None)
        if finding:
            case.history = f"already has the panel's finding ({finding.panel_grade}; {where})"
        elif case.submitted:
            case.history = f"was already reviewed ({case.submitted} submitted review(s); {where})"
        else:
            case.history = f"is already in another sample ({where})"
    return cases


def redraw(sample: CaseSample) -> Redraw | None:
    """Draw the sample again from its rule, parameters, seed, period and data version; None for a chair's choice."""
    if sample.rule == CaseSample.Rule.CHAIR_CHOICE:
        return None
    force = sample.panel.force
    left_out = {report_id for ids in sample.left_out.values() for report_id in ids}
    drawn = sample_selection(
        force=force, rule=sample.rule, parameters=sample.parameters, seed=sample.seed,
        starts_on=sample.period_starts_on, ends_on=sample.period_ends_on, version=sample.data_version,
        exclude=left_out,
    )  # fmt: skip
    if sample.eligible is None and sample.meeting_id:
        # Drawn before samples recorded what they left out: then only an earlier sample of the
        # meeting kept a report out, after the draw.
        earlier = sampled_for_meeting(meeting_id=sample.meeting_id, before_sample_id=sample.pk)
        drawn = [report_id for report_id in drawn if report_id not in earlier]
    recorded = sorted(sample.cases.values_list("report_id", flat=True))
    changed = set()
    if sample.data_version is not None:
        differing = UseOfForceReport.objects.filter(pk__in=set(drawn) ^ set(recorded))
        changed = set(differing.filter(data_version__gt=sample.data_version).values_list("id", flat=True))
    return Redraw(sample, drawn, recorded, changed_since=changed)


# --- who is told what --------------------------------------------------------------------------


def force_staff(*, force: Force, role: str) -> list[Any]:
    """The force's active users of a role (PCC staff, force data officers), who are told of the panels' work."""
    users = get_user_model().objects.filter(groups__name=role, force_scope__force=force, is_active=True)
    return list(users.order_by("username"))


def responses_awaited() -> QuerySet[Finding]:
    """Findings sent to the force with a due day and no response yet, each with its force, oldest due first."""
    return (
        Finding.objects.filter(for_force_feedback=True, response_due_on__isnull=False, responses__isnull=True)
        .select_related("sampled_case__sample__panel__force")
        .order_by("response_due_on", "pk")
    )


# --- actions -----------------------------------------------------------------------------------


def overdue_actions(*, force: Force, on: datetime.date | None = None) -> QuerySet[Action]:
    """Actions of the force's panels still not closed after their due date, the longest overdue first."""
    on = on or timezone.localdate()
    return (
        Action.objects.filter(finding__sampled_case__sample__panel__force=force, due_on__lt=on)
        .exclude(status=Action.Status.CLOSED)
        .select_related("finding__sampled_case__sample__panel")
        .order_by("due_on", "pk")
    )


# --- quarterly reports -------------------------------------------------------------------------


def panel_quarters(*, panel: Panel, on: datetime.date | None = None, ended: bool = False) -> list[datetime.date]:
    """The quarters in which the panel has met by `on` (today), newest first; with `ended`, only
    those that ended by then."""
    on = on or timezone.localdate()
    days = panel.meetings.filter(held_on__lte=on).values_list("held_on", flat=True)
    quarters = {quarter_bounds(day)[0] for day in days}
    if ended:
        quarters = {quarter for quarter in quarters if quarter_bounds(quarter)[1] <= on}
    return sorted(quarters, reverse=True)


def scale_of(panels: list[Panel]) -> list[str]:
    """The grades of the panels' scales, in scale order, each once (a force's panels may grade on different scales)."""
    grades: list[str] = []
    for panel in panels:
        grades += [grade for grade in panel.grades if grade not in grades]
    return grades


def questions_of(panels: list[Panel]) -> list[str]:
    """The questions the panels' members answer, each once, in the panels' order."""
    questions: list[str] = []
    for panel in panels:
        questions += [question for question in panel.questions if question not in questions]
    return questions


def panel_quarter_report(*, panel: Panel, quarter: datetime.date, on: datetime.date | None = None) -> dict[str, Any]:
    """A panel's quarter: see quarter_report."""
    return quarter_report(panels=[panel], quarter=quarter, on=on) | {"panel": panel}


def quarter_report(*, panels: list[Panel], quarter: datetime.date, on: datetime.date | None = None) -> dict[str, Any]:
    """A quarter of the panels' work (one panel's, or all of a force's): the cases of their meetings
    held in the quarter (by `on`, today), their reviews and findings, the actions opened and closed
    in it, and the force's responses. Every figure is counted from the rows behind it, as they are
    now; the actions overdue at the quarter's end are None until it has ended."""
    on = on or timezone.localdate()
    start, end = quarter_bounds(quarter)
    meetings = Meeting.objects.filter(panel__in=panels, held_on__gte=start, held_on__lt=end)
    held = meetings.filter(held_on__lte=on)
    cases = SampledCase.objects.filter(sample__panel__in=panels, sample__meeting__in=held)
    reviews = Review.objects.filter(sampled_case__in=cases, status=Review.Status.SUBMITTED)
    findings = Finding.objects.filter(sampled_case__in=cases)
    actions = Action.objects.filter(finding__sampled_case__sample__panel__in=panels)
    still_open_at_end = actions.filter(created_at__date__lt=end).exclude(closed_at__date__lt=end)
    scale = scale_of(panels)

    def by_grade(rows: QuerySet[Any], column: str) -> list[dict[str, Any]]:
        counts = dict(rows.values_list(column).annotate(count=Count("pk")).order_by())
        grades = [*scale, *sorted(set(counts) - set(scale))]
        total = sum(counts.values())
        return [{"grade": g, "count": counts.get(g, 0), "share": fraction(counts.get(g, 0), total)} for g in grades]

    themes = Counter(theme for row in findings.values_list("themes", flat=True) for theme in row)
    review_count = reviews.count()
    feedback = (
        findings.filter(for_force_feedback=True)
        .select_related("sampled_case__report")
        .prefetch_related("responses", "actions")
        .order_by("recorded_at", "pk")
    )
    forces = {panel.force_id for panel in panels}
    taser_uses = UseOfForceReport.objects.current().filter(force__in=forces, ced_used=True)
    taser_uses = taser_uses.filter(occurred_on__gte=start, occurred_on__lt=end)
    # Distinct: a report two of the force's panels sampled is one Taser use sampled.
    sampled_uses = taser_uses.filter(sampled_cases__sample__panel__in=panels).distinct().count()
    return {
        "period": {
            "start": start,
            "end": end - datetime.timedelta(days=1),
            "label": quarter_label(start),
            "ended": end <= on,
        },  # fmt: skip
        "taser_uses": taser_uses.count(),
        "taser_uses_sampled": sampled_uses,
        "taser_uses_sampled_share": fraction(sampled_uses, taser_uses.count()),
        "meetings": held.count(),
        "meetings_to_come": meetings.filter(held_on__gt=on).count(),
        "cases_sampled": cases.count(),
        "cases_reviewed": cases.filter(reviews__status=Review.Status.SUBMITTED).distinct().count(),
        "cases_for_video_follow_up": cases.filter(needs_video_follow_up=True).count(),
        "cases_video_followed_up": cases.filter(needs_video_follow_up=True, video_followed_up_at__isnull=False).count(),
        "reviews": review_count,
        "review_grades": by_grade(reviews, "grade"),
        "checklist": checklist_tallies(questions=questions_of(panels), reviews=reviews, review_count=review_count),
        "findings": findings.count(),
        "panel_grades": by_grade(findings, "panel_grade"),
        "themes": [{"theme": value, "label": label, "count": themes[value]} for value, label in Finding.Theme.choices],
        "actions_opened": actions.filter(created_at__date__gte=start, created_at__date__lt=end).count(),
        "actions_closed": actions.filter(closed_at__date__gte=start, closed_at__date__lt=end).count(),
        "actions_overdue_at_end": still_open_at_end.filter(due_on__lt=end).count() if end <= on else None,
        "feedback": list(feedback),
    }


def checklist_tallies(*, questions: list[str], reviews: QuerySet[Review], review_count: int) -> list[dict[str, Any]]:
    """For each question (the panels', then any since dropped), how many of the reviews gave each answer."""
    tallies: dict[str, Counter[Any]] = {}
    for answers in reviews.values_list("rubric_answers", flat=True):
        for question, given in answers.items():
            tallies.setdefault(question, Counter())[given] += 1
    questions = [*questions, *sorted(set(tallies) - set(questions))]
    rows = []
    for question in questions:
        counts = tallies.get(question, Counter())
        answers = [{"answer": value, "label": label, "count": counts[value]} for value, label in ANSWERS]
        for row in answers:
            row["share"] = fraction(row["count"], review_count)
        rows.append({"question": question, "answers": answers, "unanswered": review_count - sum(
            row["count"] for row in answers)})  # fmt: skip
    return rows


QUARTER_COLUMNS = ["section", "measure", "count", "share", "text"]


def panel_quarter_rows(report: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """The quarterly report as CSV rows of QUARTER_COLUMNS: counts and shares, or a finding's text."""
    counts = [
        ("cases", "meetings held", report["meetings"], None),
        ("cases", "cases sampled", report["cases_sampled"], None),
        ("cases", "cases reviewed", report["cases_reviewed"], None),
        ("cases", "cases without body-worn video", report["cases_for_video_follow_up"], None),
        ("cases", "of them followed up", report["cases_video_followed_up"], None),
        ("sampling", "Taser uses in the quarter", report["taser_uses"], None),
        ("sampling", "of them sampled by the panel", report["taser_uses_sampled"], report["taser_uses_sampled_share"]),
        ("reviews", "submitted reviews", report["reviews"], None),
        *(("members' grades", row["grade"], row["count"], row["share"]) for row in report["review_grades"]),
        *(
            ("checklist", f"{row['question']} {answer['label']}", answer["count"], answer["share"])
            for row in report["checklist"]
            for answer in row["answers"]
        ),
        ("findings", "panel findings", report["findings"], None),
        *(("panel's grades", row["grade"], row["count"], row["share"]) for row in report["panel_grades"]),
        *(("themes", row["label"], row["count"], None) for row in report["themes"]),
        ("actions", "opened", report["actions_opened"], None),
        ("actions", "closed", report["actions_closed"], None),
        # Empty, not 0, while the quarter runs: nothing is overdue at an end not yet reached.
        ("actions", "overdue at the quarter's end", report["actions_overdue_at_end"], None),
    ]
    yield from ((*row, None) for row in counts)
    for finding in report["feedback"]:
        responses = list(finding.responses.all())
        answers = " | ".join(response.response for response in responses) or "awaiting the force"
        measure = f"finding {finding.pk} ({finding.panel_grade}): {finding.summary}"
        yield ("force responses", measure, len(responses), None, answers)


# --- what the public may see -------------------------------------------------------------------

PUBLIC_QUARTERS = 4


def public_rows(row: dict[str, Any], labels: dict[str, str], *, threshold: int) -> list[tuple[str, Any]]:
    """[(label, count or None)] of a row of counts as the public may see it: the one place the
    panels' public figures are suppressed. Counts named grade_* add up to "findings"."""
    # Grades add up to the findings: with one grade hidden, the others would give it away.
    grades = [name for name in row if name.startswith("grade_")]
    hidden = hidden_names(row, (("findings", grades),), threshold=threshold)
    return [(labels[name], None if name in hidden else value) for name, value in row.items()]


def public_panel_summary(
    *, force: Force, quarters: int = PUBLIC_QUARTERS, threshold: int | None = None
) -> dict[str, Any]:
    """A force's panels as the public may see them: for each, the last `quarters` ended quarters in
    which it met, every count from 1 to the suppression threshold hidden (None), and its published
    findings with the force's responses.

    Returns {"force", "threshold", "panels": [{"panel", "quarters": [{"label", "rows": [(label,
    count or None)]}], "findings"}]}; templates/scrutiny/includes/public_findings.html shows it.
    """
    threshold = settings.SUPPRESSION_THRESHOLD if threshold is None else threshold
    panels = []
    for panel in Panel.objects.filter(force=force).order_by("name"):
        shown = []
        # A quarter still running (or one with only meetings to come) is not shown: its figures would change.
        for quarter in panel_quarters(panel=panel, ended=True)[:quarters]:
            report = panel_quarter_report(panel=panel, quarter=quarter)
            labels = {"cases_reviewed": "Cases reviewed", "findings": "Findings"}
            row = {"cases_reviewed": report["cases_reviewed"], "findings": report["findings"]}
            for index, grade in enumerate(report["panel_grades"]):
                labels[f"grade_{index}"] = f"Graded {grade['grade']}"
                row[f"grade_{index}"] = grade["count"]
            for theme in report["themes"]:
                labels[f"theme_{theme['theme']}"] = f"Theme: {theme['label']}"
                row[f"theme_{theme['theme']}"] = theme["count"]
            labels |= {"actions_opened": "Actions opened", "actions_closed": "Actions closed"}
            row |= {"actions_opened": report["actions_opened"], "actions_closed": report["actions_closed"]}
            shown.append({"label": report["period"]["label"], "rows": public_rows(row, labels, threshold=threshold)})
        findings = (
            Finding.objects.filter(sampled_case__sample__panel=panel, published=True)
            .select_related("sampled_case__sample__meeting")
            .prefetch_related("responses")
            .order_by("-recorded_at", "-pk")
        )
        panels.append({"panel": panel, "quarters": shown, "findings": list(findings)})
    return {"force": force, "threshold": threshold, "panels": panels}


# --- the annual report -------------------------------------------------------------------------


def timeliness(findings: QuerySet[Finding], *, on: datetime.date) -> tuple[dict[str, int], dict[str, int]]:
    """How the force answered the findings and their actions: on time, late, or still awaited."""
    responses = {"on_time": 0, "late": 0, "awaited_overdue": 0, "awaited_not_due": 0}
    first = dict(
        ForceResponse.objects.filter(finding__in=findings).values_list("finding").annotate(first=Min("responded_at"))
    )
    for finding in findings.filter(for_force_feedback=True, response_due_on__isnull=False):
        answered, due = first.get(finding.pk), finding.response_due_on
        if due is None:  # left out by the filter; said again for the type checker
            continue
        if answered:
            responses["on_time" if timezone.localdate(answered) <= due else "late"] += 1
        else:
            responses["awaited_overdue" if due < on else "awaited_not_due"] += 1
    actions = {"closed_on_time": 0, "closed_late": 0, "open_overdue": 0, "open_not_due": 0}
    for action in Action.objects.filter(finding__in=findings):
        if action.closed_at:
            actions["closed_on_time" if timezone.localdate(action.closed_at) <= action.due_on else "closed_late"] += 1
        else:
            actions["open_overdue" if action.due_on < on else "open_not_due"] += 1
    return responses, actions


def panel_annual_report(*, panel: Panel, year: int, on: datetime.date | None = None) -> dict[str, Any]:
    """A panel's financial year: see annual_report."""
    return annual_report(panels=[panel], year=year, on=on) | {"panel": panel}


def force_annual_report(*, force: Force, year: int, on: datetime.date | None = None) -> dict[str, Any]:
    """All of a force's panels together over a financial year (see annual_report), and each panel's
    own year beside them in `by_panel`."""
    panels = list(Panel.objects.filter(force=force).order_by("name"))
    report = annual_report(panels=panels, year=year, on=on)
    by_panel = [panel_annual_report(panel=panel, year=year, on=on) for panel in panels]
    return report | {"force": force, "panels": panels, "by_panel": by_panel}


def annual_report(*, panels: list[Panel], year: int, on: datetime.date | None = None) -> dict[str, Any]:
    """The panels' financial year (April of `year` to March): their quarters' reports, figures only
    for quarters that have ended by `on` (today), added up; themes by quarter; how timely the
    force's responses and the actions were; and every case with its grade."""
    on = on or timezone.localdate()
    ended = [quarter for quarter in quarters_of_financial_year(year) if quarter_bounds(quarter)[1] <= on]
    quarters = [quarter_report(panels=panels, quarter=quarter, on=on) for quarter in ended]

    def total(name: str) -> int:
        return sum(report[name] for report in quarters)

    def summed(name: str, key: str, value: str = "count") -> Counter[Any]:
        counts: Counter[Any] = Counter()
        for report in quarters:
            for row in report[name]:
                counts[row[key]] += row[value]
        return counts

    grades = summed("panel_grades", "grade")
    findings_total = total("findings")
    checklist: dict[str, Counter[Any]] = {}
    for report in quarters:
        for row in report["checklist"]:
            for answer in row["answers"]:
                checklist.setdefault(row["question"], Counter())[answer["answer"]] += answer["count"]
    held = Meeting.objects.none()
    if ended:
        held = Meeting.objects.filter(panel__in=panels, held_on__gte=ended[0], held_on__lt=quarter_bounds(ended[-1])[1])
    cases = SampledCase.objects.filter(sample__panel__in=panels, sample__meeting__in=held)
    findings = Finding.objects.filter(sampled_case__in=cases)
    responses, actions = timeliness(findings, on=on)
    taser_uses, sampled = total("taser_uses"), total("taser_uses_sampled")
    scale = scale_of(panels)
    return {
        "year": year,
        "label": financial_year_label(year),
        "quarters": quarters,
        "quarters_to_come": 4 - len(ended),
        "meetings": total("meetings"),
        "cases_sampled": total("cases_sampled"),
        "cases_reviewed": total("cases_reviewed"),
        "reviews": total("reviews"),
        "findings": findings_total,
        "taser_uses": taser_uses,
        "taser_uses_sampled": sampled,
        "taser_uses_sampled_share": fraction(sampled, taser_uses),
        "panel_grades": [
            {"grade": grade, "count": grades[grade], "share": fraction(grades[grade], findings_total)}
            for grade in [*scale, *sorted(set(grades) - set(scale))]
        ],
        "checklist": [
            {
                "question": question,
                "answers": [{"answer": value, "label": label, "count": counts[value]} for value, label in ANSWERS],
            }
            for question, counts in checklist.items()
        ],  # fmt: skip
        "themes": [
            {
                "theme": value,
                "label": label,
                "by_quarter": [
                    next(row["count"] for row in report["themes"] if row["theme"] == value) for report in quarters
                ],
            }
            for value, label in Finding.Theme.choices
        ],  # fmt: skip
        "responses": responses,
        "actions": actions,
        "cases": list(
            cases.select_related("sample__panel", "sample__meeting", "finding", "report")
            .annotate(submitted=Count("reviews", filter=Q(reviews__status=Review.Status.SUBMITTED)))
            .order_by("sample__meeting__held_on", "pk")
        ),
    }


ANNUAL_COLUMNS = ["section", "measure", "count", "share"]


def panel_annual_rows(report: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """The annual report as CSV rows of ANNUAL_COLUMNS."""
    yield ("year", "quarters ended", len(report["quarters"]), None)
    for name in ("meetings", "cases_sampled", "cases_reviewed", "reviews", "findings", "taser_uses"):
        yield ("year", name.replace("_", " "), report[name], None)
    yield ("year", "taser uses sampled", report["taser_uses_sampled"], report["taser_uses_sampled_share"])
    for row in report["panel_grades"]:
        yield ("panel's grades", row["grade"], row["count"], row["share"])
    for row in report["checklist"]:
        for answer in row["answers"]:
            yield ("checklist", f"{row['question']} {answer['label']}", answer["count"], None)
    for row in report["themes"]:
        for quarter, count in zip(report["quarters"], row["by_quarter"], strict=True):
            yield ("themes", f"{row['label']}, {quarter['period']['label']}", count, None)
    for name, count in report["responses"].items():
        yield ("force responses", name.replace("_", " "), count, None)
    for name, count in report["actions"].items():
        yield ("actions", name.replace("_", " "), count, None)


def force_annual_rows(report: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """The force's annual report as CSV rows of ANNUAL_COLUMNS: all its panels together, then each panel's year."""
    yield from panel_annual_rows(report)
    for panel_report in report["by_panel"]:
        for name in ("meetings", "cases_sampled", "cases_reviewed", "findings", "taser_uses_sampled"):
            yield (f"panel: {panel_report['panel'].name}", name.replace("_", " "), panel_report[name], None)


def public_annual_summary(*, panel: Panel, year: int, threshold: int | None = None,
                          on: datetime.date | None = None) -> dict[str, Any]:  # fmt: skip
    """A panel's annual report as the public may see it: see public_year."""
    return public_year(panel_annual_report(panel=panel, year=year, on=on), threshold=threshold)


def public_force_annual_summary(*, force: Force, year: int, threshold: int | None = None,
                                on: datetime.date | None = None) -> dict[str, Any]:  # fmt: skip
    """All of a force's panels' year as the public may see it: see public_year."""
    return public_year(force_annual_report(force=force, year=year, on=on), threshold=threshold)


def public_year(report: dict[str, Any], *, threshold: int | None = None) -> dict[str, Any]:
    """An annual report as the public may see it: the year's counts through `public_rows`."""
    threshold = settings.SUPPRESSION_THRESHOLD if threshold is None else threshold
    labels = {"cases_reviewed": "Cases reviewed", "findings": "Findings"}
    row = {"cases_reviewed": report["cases_reviewed"], "findings": report["findings"]}
    for index, grade in enumerate(report["panel_grades"]):
        labels[f"grade_{index}"], row[f"grade_{index}"] = f"Graded {grade['grade']}", grade["count"]
    for theme in report["themes"]:
        labels[f"theme_{theme['theme']}"] = f"Theme: {theme['label']}"
        row[f"theme_{theme['theme']}"] = sum(theme["by_quarter"])
    for name, count in report["responses"].items():
        labels[f"responses_{name}"], row[f"responses_{name}"] = f"Force responses: {name.replace('_', ' ')}", count
    for name, count in report["actions"].items():
        labels[f"actions_{name}"], row[f"actions_{name}"] = f"Actions: {name.replace('_', ' ')}", count
    return {"report": report, "threshold": threshold, "rows": public_rows(row, labels, threshold=threshold)}


# --- the force dashboard's scrutiny figures ---------------------------------------------------


def findings_by_quarter(
    *, force: Force, start: datetime.date, end: datetime.date, area: Area | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """([{"quarter", "grade", "findings"}], grades in scale order) of the force's findings recorded start ≤ day < end.

    With an area, only findings on reports of that area.
    """
    findings = Finding.objects.filter(
        sampled_case__sample__panel__force=force, recorded_at__date__gte=start, recorded_at__date__lt=end
    )
    if area is not None:
        findings = findings.filter(sampled_case__report__area=area)
    counts: dict[tuple[datetime.date, str], int] = {}
    for grade, recorded_at in findings.values_list("panel_grade", "recorded_at"):
        key = (quarter_start(timezone.localdate(recorded_at)), grade)
        counts[key] = counts.get(key, 0) + 1
    grades = []
    for panel in Panel.objects.filter(force=force):
        grades += [grade for grade in panel.grades if grade not in grades]
    grades += sorted({grade for _, grade in counts} - set(grades))
    rows = [{"quarter": quarter, "grade": grade, "findings": n} for (quarter, grade), n in sorted(counts.items())]
    return rows, grades


def action_counts(*, force: Force) -> dict[str, int]:
    """The force's actions by status, and how many open or in-progress ones are past their due date."""
    actions = Action.objects.filter(finding__sampled_case__sample__panel__force=force)
    counts = dict(actions.values_list("status").annotate(n=Count("pk")).order_by())
    return {
        "open": counts.get(Action.Status.OPEN, 0),
        "in_progress": counts.get(Action.Status.IN_PROGRESS, 0),
        "closed": counts.get(Action.Status.CLOSED, 0),
        "overdue": overdue_actions(force=force).count(),
    }


def sample_history(*, user: Person, report: UseOfForceReport) -> QuerySet[SampledCase]:
    """The report's cases in the samples the user may follow, oldest first, with the panel's finding if any."""
    cases = SampledCase.objects.filter(report=report, sample__in=samples_visible_to(user))
    return cases.select_related("sample__panel", "sample__meeting", "finding").order_by("sample__created_at")
