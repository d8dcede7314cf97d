"""The start page, members' cases and reviews, the case's footage, and the meeting the chair runs."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from forces.models import Role
from forces.roles import (
    MEMBER_ROLES,
    PCC_ROLES,
    force_of,
    role_of,
    role_required,
)
from oversight.numbers import is_whole_number
from scrutiny import services
from scrutiny.forms import (
    ChairCaseForm,
    ClipForm,
    FindingForm,
    OfficerAccountForm,
    ReviewForm,
    SampleForm,
    ViewingForm,
)
from scrutiny.models import (
    Attendance,
    CaseSample,
    Declaration,
    Finding,
    FootageClip,
    FootageViewing,
    Meeting,
    Review,
    SampledCase,
)
from scrutiny.queries import (
    case_footage,
    case_record,
    cases_for_member,
    cases_of_meeting,
    content_warnings,
    meeting_quorum,
    membership,
    memberships_of,
    officer_pseudonym,
    outstanding_reviewers,
    panel_quarters,
    previous_meeting,
    redraw,
    review_progress,
    submitted_reviews,
)
from scrutiny.views.checks import failed, is_member, is_pcc, own_force, refused, require


@require_safe
@login_required
def index(request):
    user, role = request.user, role_of(request.user)
    if is_pcc(user):
        return redirect("scrutiny-panels")
    if role == Role.PANEL_MEMBER:
        return redirect("scrutiny-my-cases")
    if role == Role.FORCE_DATA_OFFICER:
        return redirect("scrutiny-responses")
    raise PermissionDenied("The scrutiny pages are for PCC staff, panel members and force data officers.")


@require_safe
@login_required
def start(request):
    """Where sign-in leads: each role to its own work (the chair to the next meeting, a member to
    their cases, the force to the responses due, PCC staff to their force's figures)."""
    user, role = request.user, role_of(request.user)
    if role == Role.PANEL_MEMBER:
        chaired = [member.panel_id for member in memberships_of(user) if member.is_chair and not member.barrier()]
        upcoming = Meeting.objects.filter(panel__in=chaired, held_on__gte=timezone.localdate())
        meeting = upcoming.order_by("held_on", "pk").first()
        return redirect("scrutiny-meeting", meeting.pk) if meeting else redirect("scrutiny-my-cases")
    if role == Role.FORCE_DATA_OFFICER:
        return redirect("scrutiny-responses")
    if role == Role.PCC_STAFF and force_of(user):
        return redirect("force-dashboard", force_of(user).pk)
    return redirect("home")


# --- members ---------------------------------------------------------------------------------------


@require_safe
@login_required
@role_required(MEMBER_ROLES, "“My cases” is for scrutiny panel members.")
def my_cases(request):
    memberships = list(memberships_of(request.user))
    for member in memberships:
        member.cannot_review = member.barrier()
        member.quarters = panel_quarters(panel=member.panel)
        member.meetings = member.panel.meetings.order_by("-held_on") if member.is_chair else []
    cases = cases_for_member(user=request.user)
    declared = set(Declaration.objects.filter(member__user=request.user).values_list("sampled_case_id", flat=True))
    to_do = [
        case for case in cases
        if not case.opened_at_meeting_at and case.pk not in declared
        and not (case.own_review and case.own_review.status == Review.Status.SUBMITTED)
    ]  # fmt: skip
    # The next case: the earliest meeting's first case still to review.
    upcoming = sorted(to_do, key=lambda case: case.sample.meeting.held_on if case.sample.meeting else datetime.date.max)
    context = {"memberships": memberships, "cases": cases, "next_case": upcoming[0] if upcoming else None}
    return render(request, "scrutiny/my_cases.html", context)


def member_case(request, pk):
    """The sampled case and the user's membership of its panel: 404 off their panels, the barrier page if lapsed."""
    require(is_member(request.user), "Case reviews are for scrutiny panel members.")
    cases = SampledCase.objects.select_related("sample__panel__force", "sample__meeting", "report__area")
    case = get_object_or_404(cases, pk=pk, sample__panel__members__user=request.user)
    return case, membership(user=request.user, panel=case.sample.panel)


def case_context(case):
    report = case.report
    return case_footage(case=case) | {
        "case": case,
        "panel": case.sample.panel,
        "report": report,
        "record": case_record(report),
        "officer": officer_pseudonym(force_id=report.force_id, officer_reference=report.officer_reference),
        "warnings": content_warnings(report),
    }


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def case_review(request, pk):
    case, member = member_case(request, pk)
    if barrier := member.barrier():
        return refused(request, barrier)
    panel = case.sample.panel
    review = Review.objects.filter(sampled_case=case, member=member).first()
    watching = request.POST.get("do") == "watched"
    form = ReviewForm(
        request.POST if request.method == "POST" and not watching else None, panel=panel,
        initial=ReviewForm.initial_from(review, panel),
    )  # fmt: skip
    viewing_form = ViewingForm(request.POST if watching else None)
    if request.POST.get("do") == "declare":
        try:
            services.declare_interest(case=case, member=member, interest=request.POST.get("interest", ""))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Interest declared: you will not review this case, and the chair is told.")
        return redirect("scrutiny-case", case.pk)
    if watching and viewing_form.is_valid():
        data = viewing_form.cleaned_data
        clip = get_object_or_404(FootageClip, pk=data["clip"], sampled_case=case)
        try:
            services.record_viewing(clip=clip, member=member, watched=data["watched"], note=data["note"])
        except ValidationError as error:
            failed(viewing_form, error)
        else:
            messages.success(request, f"Recorded: {clip} {FootageViewing.Watched(data['watched']).label.lower()}.")
            return redirect("scrutiny-case", case.pk)
    elif request.method == "POST" and form.is_valid():
        submit = request.POST.get("save") == "submit"
        try:
            services.save_review(
                case=case, member=member, answers=form.answers(), grade=form.cleaned_data.get("grade") or "",
                learning_points=form.cleaned_data["learning_points"], submit=submit, comments=form.comments(),
            )  # fmt: skip
        except ValidationError as error:
            failed(form, error)
        else:
            messages.success(request, "Review submitted." if submit else "Draft saved: only you can see it.")
            return redirect("scrutiny-case", case.pk)
    services.record_case_view(case=case, user=request.user)
    colleagues = []
    if case.opened_at_meeting_at:
        colleagues = [r for r in submitted_reviews(case=case) if r.member_id != member.pk]
    declaration = case.declarations.filter(member=member).first()
    locked = (review and review.status == Review.Status.SUBMITTED) or case.opened_at_meeting_at or declaration
    context = case_context(case) | {
        "form": form, "review": review, "colleagues": colleagues, "locked": locked, "viewing_form": viewing_form,
        "declaration": declaration,
        "own_viewings": FootageViewing.objects.filter(clip__sampled_case=case, member=member).select_related("clip"),
    }  # fmt: skip
    return render(request, "scrutiny/case_review.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@role_required(PCC_ROLES, "PCC staff record the footage and accounts the force supplies.")
def case_footage_page(request, pk):
    """PCC staff record the case's body-worn video clip references and the officer's account."""
    user = request.user
    cases = own_force(SampledCase.objects.select_related("sample__panel", "sample__meeting"), user, "report__force")
    case = get_object_or_404(cases, pk=pk)
    action = request.POST.get("do") if request.method == "POST" else None
    clip_form = ClipForm(request.POST if action == "clip" else None)
    account_form = OfficerAccountForm(request.POST if action == "account" else None)
    if action is not None:
        form, write = {
            "clip": (clip_form, services.add_clip),
            "account": (account_form, services.record_officer_account),
        }.get(action, (None, None))
        require(form is not None, "Unknown request.")
        if form.is_valid():
            try:
                write(case=case, user=user, **form.cleaned_data)
            except ValidationError as error:
                failed(form, error)
            else:
                messages.success(request, "Clip reference recorded." if action == "clip" else "Account recorded.")
                return redirect("scrutiny-case-footage", case.pk)
    context = case_footage(case=case) | {
        "case": case, "clip_form": clip_form, "account_form": account_form, "viewings_by_clip": True,
    }  # fmt: skip
    return render(request, "scrutiny/case_footage.html", context)


# --- the meeting -----------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def case_meeting(request, pk):
    """The chair's view of a case at the meeting: open it, read every review side by side, record the consensus."""
    case, member = member_case(request, pk)
    require(member.is_chair, "Only the panel's chair runs the meeting.")
    if barrier := member.barrier():
        return refused(request, barrier)
    panel = case.sample.panel
    finding = Finding.objects.filter(sampled_case=case).first()
    form = FindingForm(request.POST if request.POST.get("do") == "finding" else None, panel=panel)
    if request.method == "POST":
        try:
            if request.POST.get("do") == "open":
                despite = request.POST.get("despite_outstanding") == "on"
                services.open_case_at_meeting(case=case, user=request.user, despite_outstanding=despite)
                messages.success(request, "Case opened: the panel now sees every submitted review.")
                return redirect("scrutiny-case-meeting", case.pk)
            if request.POST.get("do") == "reopen":
                services.reopen_case(case=case, user=request.user)
                messages.success(request, "Case reopened: members may submit their reviews again.")
                return redirect("scrutiny-case-meeting", case.pk)
            if form.is_valid():
                services.record_finding(case=case, user=request.user, **form.cleaned_data)
                messages.success(request, "The panel's finding is recorded.")
                return redirect("scrutiny-case-meeting", case.pk)
        except ValidationError as error:
            if request.POST.get("do") in ("open", "reopen"):
                messages.error(request, " ".join(error.messages))
                return redirect("scrutiny-case-meeting", case.pk)
            failed(form, error)
    services.record_case_view(case=case, user=request.user)
    reviews = submitted_reviews(case=case)
    context = case_context(case) | {
        "form": form, "finding": finding, "reviews": reviews if case.opened_at_meeting_at else None,
        "submitted": reviews.count(), "members": panel.members.count(), "grades": panel.grades,
        "viewings_by_clip": True, "outstanding": outstanding_reviewers(case=case),
        "declarations": case.declarations.select_related("member__user"),
    }  # fmt: skip
    return render(request, "scrutiny/case_meeting.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def meeting_detail(request, pk):
    """A meeting: PCC staff draw its samples; the chair adds cases and opens each at the meeting."""
    user = request.user
    meeting = get_object_or_404(Meeting.objects.select_related("panel__force"), pk=pk)
    panel, chair = meeting.panel, None
    if is_pcc(user):
        if not user.is_superuser and panel.force != force_of(user):
            raise Http404("No such meeting.")
    else:
        require(is_member(user), "Meetings are for PCC staff and panel chairs.")
        chair = membership(user=user, panel=panel)
        if chair is None:
            raise Http404("No such meeting.")
        require(chair.is_chair, "Only the panel's chair runs the meeting.")
        if barrier := chair.barrier():
            return refused(request, barrier)
    action = request.POST.get("do") if request.method == "POST" else None
    sample_form = SampleForm(request.POST if action == "draw" else None, force=panel.force) if not chair else None
    case_form = ChairCaseForm(request.POST if action == "add_case" else None) if chair else None
    if action == "draw":
        require(sample_form is not None, "PCC staff draw the samples.")
        if sample_form.is_valid():
            data = sample_form.cleaned_data
            try:
                sample = services.draw_sample(
                    meeting=meeting, rule=data["rule"], starts_on=data["starts_on"], ends_on=data["ends_on"],
                    parameters=sample_form.parameters(), seed=data["seed"], user=user,
                )  # fmt: skip
            except ValidationError as error:
                failed(sample_form, error)
            else:
                messages.success(request, f"{sample.get_rule_display()}: {sample.cases.count()} case(s) sampled.")
                return redirect("scrutiny-meeting", meeting.pk)
    elif action == "add_case":
        require(case_form is not None, "The chair adds cases.")
        if case_form.is_valid():
            try:
                data = case_form.cleaned_data
                services.add_chair_case(meeting=meeting, user=user, report_id=data["report"], reason=data["reason"],
                                        again=data["again"])  # fmt: skip
            except ValidationError as error:
                failed(case_form, error)
                case_form.sampled_before = getattr(error, "code", None) == "sampled_before"
            else:
                messages.success(request, "Case added with your reason.")
                return redirect("scrutiny-meeting", meeting.pk)
    elif action in ("attendance", "minutes", "approve"):
        require(chair is not None, "The panel's chair keeps the meeting's record.")
        try:
            if action == "attendance":
                statuses = {
                    int(name.removeprefix("member_")): value
                    for name, value in request.POST.items()
                    if name.startswith("member_") and is_whole_number(name.removeprefix("member_")) and value
                }
                services.record_attendance(meeting=meeting, user=user, statuses=statuses)
            elif action == "minutes":
                services.save_minutes(meeting=meeting, user=user, agenda=request.POST.get("agenda", ""),
                                      minutes=request.POST.get("minutes", ""))  # fmt: skip
            else:
                services.approve_minutes(meeting=meeting, user=user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, {"attendance": "Attendance recorded.", "minutes": "Agenda and minutes saved.",
                                       "approve": "The previous meeting's minutes are approved."}[action])  # fmt: skip
        return redirect("scrutiny-meeting", meeting.pk)
    elif action == "declare":
        require(chair is not None, "The panel's chair records interests declared at the meeting.")
        member_id, case_id = request.POST.get("member", ""), request.POST.get("case", "")
        if not is_whole_number(member_id) or not (case_id == "" or is_whole_number(case_id)):
            raise Http404("No such member or case.")
        declaring = get_object_or_404(panel.members.select_related("user"), pk=member_id)
        case = get_object_or_404(SampledCase, pk=case_id, sample__meeting=meeting) if case_id else None
        try:
            services.declare_at_meeting(meeting=meeting, user=user, member=declaring, case=case,
                                        interest=request.POST.get("interest", ""))  # fmt: skip
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"{declaring.user.username}'s interest is recorded with the meeting.")
        return redirect("scrutiny-meeting", meeting.pk)
    elif action == "follow_up":
        require(sample_form is not None, "PCC staff follow up missing body-worn video with the force.")
        case = get_object_or_404(SampledCase, pk=request.POST.get("case") or 0, sample__meeting=meeting)
        try:
            services.record_video_follow_up(case=case, user=user, note=request.POST.get("note", ""))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Follow-up of case {case.pk}'s missing video recorded.")
        return redirect("scrutiny-meeting", meeting.pk)
    elif action == "withdraw":
        require(sample_form is not None, "PCC staff withdraw samples.")
        sample = get_object_or_404(meeting.samples, pk=request.POST.get("sample") or 0)
        try:
            services.withdraw_sample(sample=sample)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"The empty sample {sample.get_rule_display().lower()} is withdrawn.")
        return redirect("scrutiny-meeting", meeting.pk)
    elif action is not None:
        raise PermissionDenied("Unknown request.")
    samples = meeting.samples.annotate(size=Count("cases")).order_by("created_at", "pk")
    attendance = dict(meeting.attendance.values_list("member_id", "status"))
    progress = review_progress(meeting=meeting)
    for row in progress:
        row["attendance"] = attendance.get(row["member"].pk, "")
    context = {
        "meeting": meeting, "panel": panel, "chair": chair, "samples": samples, "progress": progress,
        "quorum": meeting_quorum(meeting=meeting), "previous": previous_meeting(meeting=meeting),
        "attendance_choices": Attendance.Status.choices,
        "declarations": meeting.declarations.select_related("member__user"),
        "cases": cases_of_meeting(meeting=meeting), "sample_form": sample_form, "case_form": case_form,
    }  # fmt: skip
    return render(request, "scrutiny/meeting.html", context)


@require_safe
@login_required
def sample_detail(request, pk):
    """A sample's record (rule, parameters, seed, period, data version) and a re-draw to compare."""
    user = request.user
    sample = get_object_or_404(CaseSample.objects.select_related("panel__force", "meeting", "created_by"), pk=pk)
    if is_pcc(user):
        if not user.is_superuser and sample.panel.force != force_of(user):
            raise Http404("No such sample.")
    else:
        require(is_member(user), "Samples are for PCC staff and panel members.")
        if membership(user=user, panel=sample.panel) is None:
            raise Http404("No such sample.")
    comparison = redraw(sample) if "redraw" in request.GET else None
    cases = sample.cases.select_related("report__area").order_by("report_id")
    return render(request, "scrutiny/sample.html", {"sample": sample, "cases": cases, "comparison": comparison})
