"""The panels PCC staff run: panels, their settings and their members."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from forces.roles import (
    PCC_ROLES,
    force_of,
    role_required,
)
from oversight.police_calendar import financial_year_of
from scrutiny import services
from scrutiny.forms import (
    MeetingForm,
    MemberForm,
    MemberUpdateForm,
    NewMemberForm,
    PanelForm,
    new_panel_form,
)
from scrutiny.models import (
    Meeting,
    Panel,
    PanelMember,
)
from scrutiny.queries import (
    panel_quarters,
)
from scrutiny.views.checks import PANELS_ARE_RUN_BY, failed, own_force, require

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
