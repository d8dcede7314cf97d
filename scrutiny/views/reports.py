"""The panels' quarterly and annual reports, notifications, and what the public may see."""

import datetime

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from forces.models import Force
from forces.roles import (
    PCC_ROLES,
    force_of,
    role_required,
)
from oversight.police_calendar import FIRST_DAY, LAST_DAY, financial_year_label
from oversight.spreadsheets import csv_response
from scrutiny.models import (
    Panel,
)
from scrutiny.queries import (
    ANNUAL_COLUMNS,
    QUARTER_COLUMNS,
    force_annual_report,
    force_annual_rows,
    membership,
    panel_annual_report,
    panel_annual_rows,
    panel_quarter_report,
    panel_quarter_rows,
    public_annual_summary,
    public_force_annual_summary,
    public_panel_summary,
)
from scrutiny.views.checks import is_member, is_pcc, require

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
