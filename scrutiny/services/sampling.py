"""Drawing cases for a meeting, the chair's own choices, and the footage and accounts the force supplies."""

import datetime
import secrets
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from forces.models import Area, Force
from incidents.models import UseOfForceReport, YesNoNotStated
from scrutiny.models import (
    CaseSample,
    FootageClip,
    FootageViewing,
    Meeting,
    Notification,
    OfficerAccount,
    Panel,
    PanelMember,
    SampledCase,
)
from scrutiny.queries import (
    RANDOM_RULES,
    STRATA,
    earlier_cases_of_report,
    force_data_version,
    left_out_of_draw,
    membership,
    sample_pool,
    sample_selection,
    sampled_for_meeting,
)
from scrutiny.services.notifications import day, notify, panel_reviewers

Rule = CaseSample.Rule


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
