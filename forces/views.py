import csv
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render

from forces.authentication import may_make_tokens
from forces.forms import ApiTokenForm, QuarterlyReportForm
from forces.models import ApiToken, Force, Role
from forces.queries import (
    DASHBOARD_ROLES,
    NOTABLE_DIFFERENCE,
    NOTABLE_PERCENT,
    force_of,
    forces_for_home,
    reconciliation,
    role_of,
)
from forces.services import create_api_token, revoke_api_token
from incidents import queries as incident_queries
from incidents import tasks
from incidents.models import Alert, QuarterlyReport
from incidents.services import quarterly_report_rows
from oversight.api import cell

logger = logging.getLogger(__name__)


def role_context(request):
    """The signed-in user's role and force, for the navigation of every page."""
    return {"user_role": role_of(request.user), "user_force": force_of(request.user)}


def home(request):
    return render(request, "forces/home.html", {"forces": forces_for_home()})


def check_dashboard_role(user):
    """The force pages of aggregates are for PCC staff, force data officers and superusers."""
    if not (user.is_superuser or role_of(user) in DASHBOARD_ROLES):
        raise PermissionDenied("The force dashboards are for PCC staff and force data officers.")


@login_required
def force_dashboard(request, force_id):
    check_dashboard_role(request.user)
    force = get_object_or_404(Force, pk=force_id)
    month = incident_queries.latest_month(force=force)
    headline = None
    if month:
        end = incident_queries.months_back(month, -1)
        headline = incident_queries.ced_headline(force=force, start=incident_queries.months_back(month, 11), end=end)
    context = {
        "force": force,
        "headline": headline,
        "data_version": incident_queries.data_version(force=force),
        "areas": force.areas.order_by("name"),
        "last_month": month,
        "alerts": Alert.objects.filter(force=force).select_related("area").order_by("-month", "kind")[:20],
    }
    return render(request, "forces/dashboard.html", context)


@login_required
def force_reconciliation(request, force_id):
    check_dashboard_role(request.user)
    force = get_object_or_404(Force, pk=force_id)
    product_counts = incident_queries.reports_by_financial_year_and_level(force=force)
    context = {
        "force": force,
        "years": reconciliation(force=force, product_counts=product_counts),
        "data_version": incident_queries.data_version(force=force),
        "unit": incident_queries.UNIT_OF_COUNT,
        "notable_difference": NOTABLE_DIFFERENCE,
        "notable_percent": NOTABLE_PERCENT,
    }
    return render(request, "forces/reconciliation.html", context)


def healthz(request):
    """200 when the database answers; 503 otherwise, for load balancers and compose."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        logger.exception("Health check: the database did not answer")
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


# --- quarterly PCC reports ----------------------------------------------------------------------


@login_required
def quarterly_reports(request, force_id):
    """The force's quarterly report snapshots; PCC staff build one on demand."""
    check_dashboard_role(request.user)
    force = get_object_or_404(Force, pk=force_id)
    may_build = request.user.is_superuser or role_of(request.user) == Role.PCC_STAFF
    form = QuarterlyReportForm(request.POST or None, force=force)
    if request.method == "POST":
        if not may_build:
            raise PermissionDenied("PCC staff build quarterly reports.")
        if form.is_valid():
            quarter, area = form.cleaned_data["quarter"], form.cleaned_data["area"]
            transaction.on_commit(
                lambda: tasks.build_quarterly_report.delay(force.pk, quarter.isoformat(), area and area.pk),
                robust=True,  # a queue that does not answer is logged; the page still answers
            )
            messages.success(request, "The report is being built; it appears below when ready.")
            return redirect("quarterly-reports", force.pk)
    reports = QuarterlyReport.objects.filter(force=force).select_related("area")
    return render(
        request, "forces/quarterly_reports.html",
        {"force": force, "reports": reports, "form": form, "may_build": may_build},
    )  # fmt: skip


@login_required
def quarterly_report(request, force_id, pk):
    check_dashboard_role(request.user)
    report = get_object_or_404(QuarterlyReport.objects.select_related("force", "area"), force_id=force_id, pk=pk)
    if request.GET.get("format") == "csv":
        name = f"{report.force_id}-{report.quarter:%Y-%m}-v{report.data_version}.csv"
        return csv_response(name, ["section", "measure", "column", "value"], quarterly_report_rows(report))
    return render(request, "forces/quarterly_report.html", {"report": report, "figures": report.figures})


def csv_response(filename, header, rows):
    """A CSV download; text that a spreadsheet would run as a formula is quoted as text."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return response


# --- API tokens ----------------------------------------------------------------------------


@login_required
def api_tokens(request):
    """The user's own API tokens: make one (its key is shown once), revoke one."""
    if not may_make_tokens(request.user):
        raise PermissionDenied("API tokens are for PCC staff, force data officers and API clients of a force.")
    own_force = None if request.user.is_superuser else force_of(request.user)
    new_key = None
    form = ApiTokenForm(own_force=own_force)
    if request.method == "POST" and "revoke" in request.POST:
        token = get_object_or_404(ApiToken, pk=request.POST["revoke"], user=request.user)
        revoke_api_token(token)
        messages.success(request, f"Token “{token.name}” revoked: its key no longer works.")
        return redirect("api-tokens")
    if request.method == "POST":
        form = ApiTokenForm(request.POST, own_force=own_force)
        if form.is_valid():
            _, new_key = create_api_token(user=request.user, **form.cleaned_data)
            form = ApiTokenForm(own_force=own_force)
    tokens = ApiToken.objects.filter(user=request.user).select_related("force").order_by("-created_at")
    response = render(request, "forces/api_tokens.html", {"form": form, "tokens": tokens, "new_key": new_key})
    response["Cache-Control"] = "no-store"  # the page may hold a key
    return response
