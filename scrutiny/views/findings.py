"""Findings, the force's responses and the actions tracker."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from forces.roles import (
    FINDING_PAGE_ROLES,
    FORCE_STAFF_ROLES,
    RESPONSE_ROLES,
    may,
    role_of,
    role_required,
)
from scrutiny import services
from scrutiny.forms import (
    ActionForm,
    ActionUpdateForm,
    ResponseForm,
)
from scrutiny.models import (
    Action,
)
from scrutiny.queries import (
    actions_visible_to,
    findings_visible_to,
)
from scrutiny.views.checks import failed, is_pcc, require

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
