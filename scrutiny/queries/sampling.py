"""Drawing the sample of cases for a meeting, and who is told of what is due."""

import datetime
import math
import random
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from forces.models import Force
from incidents.models import (
    DISCHARGE_LEVELS,
    NON_DISCHARGE_LEVELS,
    AgeBand,
    HealthCondition,
    UseOfForceReport,
)
from incidents.queries import data_version
from scrutiny.models import (
    Action,
    CaseSample,
    Finding,
    Panel,
    Review,
    SampledCase,
)

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
