import logging

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render

from forces.models import Force
from forces.queries import (
    DASHBOARD_ROLES,
    NOTABLE_DIFFERENCE,
    NOTABLE_PERCENT,
    force_of,
    forces_for_home,
    reconciliation,
    role_of,
)
from incidents import queries as incident_queries

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
