"""The panels' pages: members review their cases, the chair runs the meeting, PCC staff run the
panels and chase actions, the force answers findings, and the public reads the published summary.

Each page checks the role first (403 for a role it is not for), then finds its object among
those the user may see (404 for another force's or another panel's: their existence is not shown).
"""

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from forces.models import Force, Role
from forces.roles import (
    FINDING_PAGE_ROLES,
    FORCE_STAFF_ROLES,
    MEMBER_ROLES,
    PCC_ROLES,
    RESPONSE_ROLES,
    force_of,
    may,
    role_of,
    role_required,
)
from oversight.police_calendar import FIRST_DAY, LAST_DAY, financial_year_label, financial_year_of
from oversight.spreadsheets import csv_response
from scrutiny import services
from scrutiny.forms import (
    ActionForm,
    ActionUpdateForm,
    ChairCaseForm,
    ClipForm,
    FindingForm,
    MeetingForm,
    MemberForm,
    MemberUpdateForm,
    NewMemberForm,
    OfficerAccountForm,
    PanelForm,
    ResponseForm,
    ReviewForm,
    SampleForm,
    ViewingForm,
    new_panel_form,
)
from scrutiny.models import (
    Action,
    Attendance,
    CaseSample,
    Declaration,
    Finding,
    FootageClip,
    FootageViewing,
    Meeting,
    Panel,
    PanelMember,
    Review,
    SampledCase,
)
from scrutiny.queries import (
    ANNUAL_COLUMNS,
    QUARTER_COLUMNS,
    actions_visible_to,
    case_footage,
    case_record,
    cases_for_member,
    cases_of_meeting,
    content_warnings,
    findings_visible_to,
    force_annual_report,
    force_annual_rows,
    meeting_quorum,
    membership,
    memberships_of,
    officer_pseudonym,
    outstanding_reviewers,
    panel_annual_report,
    panel_annual_rows,
    panel_quarter_report,
    panel_quarter_rows,
    panel_quarters,
    previous_meeting,
    public_annual_summary,
    public_force_annual_summary,
    public_panel_summary,
    redraw,
    review_progress,
    submitted_reviews,
)

PANELS_ARE_RUN_BY = "Panels are run by PCC staff."


def require(condition, message):
    if not condition:
        raise PermissionDenied(message)


def is_pcc(user):
    return may(user, PCC_ROLES)


def is_member(user):
    # Not a superuser: a member's pages need a membership, which a superuser has not.
    return role_of(user) in MEMBER_ROLES


def own_force(queryset, user, path):
    """The rows of the user's force (a superuser's: all)."""
    return queryset if user.is_superuser else queryset.filter(**{path: force_of(user)})


def refused(request, barrier):
    """A member who may not review today is told why, and by whom it is put right."""
    return render(request, "scrutiny/barrier.html", {"barrier": barrier}, status=403)


def failed(form, error):
    form.add_error(None, error)


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
                    if name.startswith("member_") and name.removeprefix("member_").isdigit() and value
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
        if not member_id.isdigit() or not (case_id == "" or case_id.isdigit()):
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


# --- PCC staff: panels -----------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@role_required(PCC_ROLES, PANELS_ARE_RUN_BY)
def panel_list(request):
    form = new_panel_form(request.POST or None)
    if request.method == "POST":
        force = force_of(request.user)
        require(force is not None, "A force's PCC staff set up its panels (a superuser uses the admin).")
        if form.is_valid():
            try:
                panel = services.create_panel(force=force, **form.cleaned_data)
            except ValidationError as error:
                failed(form, error)
            else:
                messages.success(request, f"Panel “{panel}” set up: now add its members.")
                return redirect("scrutiny-panel", panel.pk)
    panels = own_force(Panel.objects.select_related("force"), request.user, "force").annotate(
        member_count=Count("members", distinct=True), meeting_count=Count("meetings", distinct=True)
    )
    # The financial years in which the force's panels met: each has its annual report of them all.
    days = Meeting.objects.filter(panel__in=panels, held_on__lte=timezone.localdate()).values_list("held_on", flat=True)
    years = sorted({financial_year_of(held_on) for held_on in days}, reverse=True)
    context = {"panels": panels, "form": form, "years": years, "force": force_of(request.user)}
    return render(request, "scrutiny/panels.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@role_required(PCC_ROLES, PANELS_ARE_RUN_BY)
def panel_detail(request, pk):
    panel = get_object_or_404(own_force(Panel.objects.select_related("force"), request.user, "force"), pk=pk)
    action = request.POST.get("do") if request.method == "POST" else None
    initial = {field: getattr(panel, field) for field in PanelForm.base_fields}
    panel_form = PanelForm(request.POST if action == "panel" else None, initial=initial)
    member_form = MemberForm(request.POST if action == "member" else None, panel=panel)
    new_member_form = NewMemberForm(request.POST if action == "new_member" else None, prefix="new")
    meeting_form = MeetingForm(request.POST if action == "meeting" else None)
    forms = {"panel": panel_form, "member": member_form, "new_member": new_member_form, "meeting": meeting_form}
    if action == "retire":
        member = get_object_or_404(panel.members.select_related("user"), pk=request.POST.get("member") or 0)
        try:
            services.retire_member(member)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"{member.user.username} retired from the panel today; their reviews are kept.")
        return redirect("scrutiny-panel", panel.pk)
    if action is not None:
        form = forms.get(action)
        require(form is not None, "Unknown request.")
        if form.is_valid():
            write = {
                "panel": lambda data: services.update_panel(panel, **data),
                "member": lambda data: services.add_member(panel=panel, **data),
                "new_member": lambda data: services.add_new_member(panel=panel, **data),
                "meeting": lambda data: services.schedule_meeting(panel=panel, **data),
            }[action]
            try:
                write(form.cleaned_data)
            except ValidationError as error:
                failed(form, error)
            else:
                messages.success(request, "Saved.")
                return redirect("scrutiny-panel", panel.pk)
    members = list(panel.members.select_related("user").order_by("role", "user__username"))
    for member in members:
        member.cannot_review = member.barrier()
    meetings = panel.meetings.annotate(case_count=Count("samples__cases")).order_by("-held_on")
    quarters = panel_quarters(panel=panel)
    context = {
        "panel": panel, "members": members, "meetings": meetings, "quarters": quarters,
        "years": sorted({financial_year_of(quarter) for quarter in quarters}, reverse=True),
        "panel_form": panel_form, "member_form": member_form, "meeting_form": meeting_form,
        "new_member_form": new_member_form, "today": timezone.localdate(),
        "vetting_years": settings.PANEL_VETTING_VALID_YEARS,
    }  # fmt: skip
    return render(request, "scrutiny/panel.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@role_required(PCC_ROLES, "Panel members are managed by PCC staff.")
def member_edit(request, pk):
    members = own_force(PanelMember.objects.select_related("panel", "user"), request.user, "panel__force")
    member = get_object_or_404(members, pk=pk)
    initial = {name: getattr(member, name) for name in MemberUpdateForm.base_fields}
    form = MemberUpdateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_member(member, **form.cleaned_data)
        except ValidationError as error:
            failed(form, error)
        else:
            messages.success(request, f"{member.user.username}'s membership saved.")
            return redirect("scrutiny-panel", member.panel_id)
    return render(request, "scrutiny/member.html", {"member": member, "form": form})


# --- findings, the force's responses and actions ---------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@role_required(FINDING_PAGE_ROLES, "Findings are for PCC staff, panels and the force.")
def finding_detail(request, pk):
    """A finding with the force's responses and its actions: the force answers it, PCC staff act on it."""
    user = request.user
    findings = findings_visible_to(user).select_related("sampled_case__sample__meeting", "sampled_case__report")
    finding = get_object_or_404(findings, pk=pk)
    may_respond = role_of(user) in RESPONSE_ROLES
    may_act = is_pcc(user)
    action = request.POST.get("do") if request.method == "POST" else None
    response_form = ResponseForm(request.POST if action == "respond" else None) if may_respond else None
    action_form = ActionForm(request.POST if action == "action" else None) if may_act else None
    if action in ("publish", "withdraw"):
        require(may_act, "PCC staff decide what is published.")
        services.set_published(finding=finding, published=action == "publish")
        messages.success(request, "Published." if action == "publish" else "Withdrawn from the public pages.")
        return redirect("scrutiny-finding", finding.pk)
    if action == "respond":
        require(may_respond, "The force's data officer answers findings.")
        if response_form.is_valid():
            try:
                services.respond_to_finding(finding=finding, user=user, **response_form.cleaned_data)
            except ValidationError as error:
                failed(response_form, error)
            else:
                messages.success(request, "Response recorded.")
                return redirect("scrutiny-finding", finding.pk)
    elif action == "action":
        require(may_act, "PCC staff raise actions.")
        if action_form.is_valid():
            try:
                new = services.create_action(finding=finding, user=user, **action_form.cleaned_data)
            except ValidationError as error:
                failed(action_form, error)
            else:
                messages.success(request, "Action raised.")
                return redirect("scrutiny-action", new.pk)
    elif action is not None:
        raise PermissionDenied("Unknown request.")
    context = {
        "finding": finding, "responses": finding.responses.select_related("responded_by"),
        "actions": finding.actions.order_by("due_on"), "response_form": response_form, "action_form": action_form,
        "may_act": may_act, "today": timezone.localdate(),
    }  # fmt: skip
    return render(request, "scrutiny/finding.html", context)


@require_safe
@login_required
@role_required(FORCE_STAFF_ROLES, "The force's responses are for its staff and PCC staff.")
def responses(request):
    """The findings sent to the force, those still unanswered first."""
    user = request.user
    findings = (
        findings_visible_to(user)
        .filter(for_force_feedback=True)
        .select_related("sampled_case__sample__meeting")
        .annotate(response_count=Count("responses"))
        .order_by("response_due_on", "recorded_at", "pk")
    )
    awaiting = [finding for finding in findings if not finding.response_count]
    answered = [finding for finding in findings if finding.response_count]
    context = {"awaiting": awaiting, "answered": answered, "today": timezone.localdate()}
    return render(request, "scrutiny/responses.html", context)


@require_safe
@login_required
@role_required(FORCE_STAFF_ROLES, "The actions tracker is for PCC staff and the force.")
def action_list(request):
    """The actions tracker: every action by status, overdue ones flagged, and findings still without one."""
    user = request.user
    actions = list(actions_visible_to(user).select_related("finding__sampled_case__sample__panel").order_by("due_on"))
    today = timezone.localdate()
    for action in actions:
        action.overdue = action.is_overdue(today)
    by_status = [(label, [a for a in actions if a.status == status]) for status, label in Action.Status.choices]
    awaiting = findings_visible_to(user).filter(for_force_feedback=True, actions__isnull=True).order_by("recorded_at")
    awaiting = awaiting if is_pcc(user) else []
    context = {"by_status": by_status, "overdue": [a for a in actions if a.overdue], "awaiting": awaiting}
    return render(request, "scrutiny/actions.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@role_required(FORCE_STAFF_ROLES, "Actions are for PCC staff and the force.")
def action_detail(request, pk):
    user = request.user
    action = get_object_or_404(actions_visible_to(user).select_related("finding"), pk=pk)
    form = None
    # The force updates the actions it owns as PCC staff do: notes, and moving them on with evidence.
    if may(user, FORCE_STAFF_ROLES) and action.status != Action.Status.CLOSED:
        form = ActionUpdateForm(request.POST or None, action=action)
    if request.method == "POST":
        require(form is not None, "PCC staff and the force move actions on; a closed action stays closed.")
        if form.is_valid():
            try:
                services.update_action(action=action, user=user, **form.cleaned_data)
            except ValidationError as error:
                failed(form, error)
            else:
                messages.success(request, "Action updated.")
                return redirect("scrutiny-action", action.pk)
    context = {
        "action": action, "updates": action.updates.select_related("updated_by"), "form": form,
        "overdue": action.is_overdue(),
    }  # fmt: skip
    return render(request, "scrutiny/action.html", context)


# --- reports -----------------------------------------------------------------------------------------


def report_panel(request, pk):
    """The panel whose reports the user may read: PCC staff of its force, its members; else 403 or 404."""
    user = request.user
    panel = get_object_or_404(Panel.objects.select_related("force"), pk=pk)
    if is_pcc(user):
        if not user.is_superuser and panel.force != force_of(user):
            raise Http404("No such panel.")
    else:
        require(is_member(user), "A panel's reports are for PCC staff and the panel's members.")
        if membership(user=user, panel=panel) is None:
            raise Http404("No such panel.")
    return panel


@require_safe
@login_required
def panel_quarterly(request, pk, quarter):
    """A panel's quarterly report (print-ready), or its CSV with ?format=csv."""
    panel = report_panel(request, pk)
    try:
        start = datetime.date.fromisoformat(f"{quarter}-01")
    except ValueError:
        raise Http404("No such quarter.") from None
    if start.month not in (1, 4, 7, 10):
        raise Http404("A quarter starts in January, April, July or October.")
    if not FIRST_DAY <= start < LAST_DAY.replace(month=10):
        raise Http404(f"No quarter {quarter} is held.")
    report = panel_quarter_report(panel=panel, quarter=start)
    if request.GET.get("format") == "csv":
        name = f"{panel.force_id}-panel-{panel.pk}-{start:%Y-%m}.csv"
        return csv_response(name, QUARTER_COLUMNS, panel_quarter_rows(report))
    return render(request, "scrutiny/quarterly_report.html", {"report": report, "panel": panel})


def check_year(year):
    """404 for a financial year not yet begun or before any panel could have met."""
    if not 2000 <= year <= timezone.localdate().year:
        raise Http404("No such year.")


@require_safe
@login_required
def panel_annual(request, pk, year):
    """A panel's annual report for the financial year from April of `year` (A4 print), or its CSV."""
    panel = report_panel(request, pk)
    check_year(year)
    report = panel_annual_report(panel=panel, year=year)
    if request.GET.get("format") == "csv":
        name = f"{panel.force_id}-panel-{panel.pk}-{financial_year_label(year).replace('/', '-')}.csv"
        return csv_response(name, ANNUAL_COLUMNS, panel_annual_rows(report))
    return render(request, "scrutiny/annual_report.html", {"report": report, "panel": panel})


@require_safe
@login_required
@role_required(PCC_ROLES, "The force's annual scrutiny report is for PCC staff.")
def force_annual(request, force_id, year):
    """All of a force's panels' year together, for its PCC staff (A4 print), or its CSV."""
    user = request.user
    if not user.is_superuser and getattr(force_of(user), "pk", None) != force_id:
        raise Http404("No such force.")
    force = get_object_or_404(Force, pk=force_id)
    check_year(year)
    report = force_annual_report(force=force, year=year)
    if request.GET.get("format") == "csv":
        name = f"{force.pk}-panels-{financial_year_label(year).replace('/', '-')}.csv"
        return csv_response(name, ANNUAL_COLUMNS, force_annual_rows(report))
    return render(request, "scrutiny/force_annual_report.html", {"report": report, "force": force})


@require_safe
def public_force_annual(request, force_id, year):
    """All of a force's panels' year as the public may see it: small counts suppressed, ended quarters only."""
    force = get_object_or_404(Force, pk=force_id)
    check_year(year)
    summary = public_force_annual_summary(force=force, year=year)
    return render(request, "scrutiny/public_force_annual.html", {"force": force, "summary": summary})


@require_safe
def public_annual(request, force_id, pk, year):
    """A panel's year as the public may see it: small counts suppressed, ended quarters only."""
    panel = get_object_or_404(Panel.objects.select_related("force"), pk=pk, force_id=force_id)
    check_year(year)
    summary = public_annual_summary(panel=panel, year=year)
    return render(request, "scrutiny/public_annual.html", {"panel": panel, "summary": summary})


@require_safe
@login_required
def notifications(request):
    """What the user was told of (cases drawn, findings sent, responses and actions due), newest first."""
    listed = request.user.notifications.all()[:200]
    return render(request, "scrutiny/notifications.html", {"notifications": listed})


@require_safe
def public_summary(request, force_id):
    """What the public may see of a force's panels: no sign-in, small counts suppressed."""
    force = get_object_or_404(Force, pk=force_id)
    return render(request, "scrutiny/public.html", {"force": force, "panel_summary": public_panel_summary(force=force)})
