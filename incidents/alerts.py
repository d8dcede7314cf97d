"""Alerts on a force's monthly summaries: unusually high use, silent months, figures not stated."""

import datetime
import math
from typing import Any

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from forces.models import Area, Role
from forces.versions import bump_figures_version
from incidents.models import Alert, MonthlySummary
from incidents.summaries import next_month
from oversight.police_calendar import months_back

ALERT_P = 0.001  # one false alarm in a thousand steady area-months
HIGH_USE_MIN_REPORTS = 5
HISTORY_MONTHS = 12
MIN_HISTORY_MONTHS = 6  # months with records needed before an area's use is judged unusual
USUALLY_REPORTS = 10  # months with records, of the trailing 12, for a silent month to be flagged
NOT_STATED_SHARE = 0.2
NOT_STATED_MIN_REPORTS = 20


def poisson_upper_tail(observed: int, expected: float) -> float:
    """P(X ≥ observed) for X ~ Poisson(expected)."""
    if observed <= 0:
        return 1.0
    term = below = math.exp(-expected)
    for k in range(1, observed):
        term *= expected / k
        below += term
    return max(0.0, 1.0 - below)


def raise_alerts(*, force_id: str, cells: list | None = None) -> list[Alert]:
    """Re-evaluate the alerts of a force's rebuilt months; e-mail its PCC staff the new ones.

    Unusually high use: a month's Taser reports against the monthly mean of the area's
    trailing 12 months (months with records), flagged when P(X ≥ observed) under a Poisson
    distribution with that mean is below ALERT_P. See docs/summaries.md.
    """
    # The summaries' measure columns are made from SUMMARY_MEASURES, so the type checker does not see them.
    data: dict[tuple[int | None, datetime.date], Any] = {
        (s.area_id, s.month): s for s in MonthlySummary.objects.filter(force_id=force_id)
    }
    if cells is None:  # every month from the first with data to the last, silent ones too
        first, last = min((m for _, m in data), default=None), max((m for _, m in data), default=None)
        months = []
        while first and last and first <= last:
            months.append(first)
            first = next_month(first)
    else:
        months = sorted({datetime.date.fromisoformat(month) for _, month in cells})
    if not months:
        return []
    latest = max((month for _, month in data), default=None)
    version = max((s.data_version for s in data.values()), default=0)
    areas = {area: name for area, name in Area.objects.filter(force_id=force_id).values_list("pk", "name")}
    now = timezone.now()
    alerts = []
    for month in months:
        trailing = [months_back(month, n) for n in range(1, HISTORY_MONTHS + 1)]
        for area in sorted({area for area, _ in data if area is not None}):
            history = [data[(area, m)] for m in trailing if (area, m) in data]
            cell = data.get((area, month))
            new = dict(force_id=force_id, area_id=area, month=month, data_version=version, raised_at=now)
            place = f"{areas.get(area, 'Area')}, {month:%B %Y}"
            if cell is None:
                expected = sum(s.reports for s in history) / len(history) if history else 0
                # Silent by chance is unlikely: P(no report | Poisson mean) = e^-mean below the threshold.
                if latest and month <= latest and len(history) >= USUALLY_REPORTS and math.exp(-expected) < ALERT_P:
                    message = (
                        f"{place}: no reports, where the area had a mean of {expected:.1f} a month in the "
                        f"{len(history)} of the last 12 months with records"
                    )
                    alerts.append(
                        Alert(kind=Alert.Kind.NO_RECORDS, observed=0, expected=expected, message=message, **new)
                    )
                continue
            if len(history) >= MIN_HISTORY_MONTHS and cell.taser_reports >= HIGH_USE_MIN_REPORTS:
                expected = sum(s.taser_reports for s in history) / len(history)
                p = poisson_upper_tail(cell.taser_reports, expected)
                if p < ALERT_P:
                    message = (
                        f"{place}: {cell.taser_reports} Taser reports against a monthly mean of {expected:.1f} "
                        f"over the previous {len(history)} months with records (Poisson p = {p:.1g})"
                    )
                    alerts.append(
                        Alert(kind=Alert.Kind.HIGH_USE, observed=cell.taser_reports, expected=expected, p_value=p,
                              message=message, **new)
                    )  # fmt: skip
            if cell.taser_reports >= NOT_STATED_MIN_REPORTS:
                for measure, what in (("level_not_stated", "highest level"), ("ethnicity_not_reported", "ethnicity")):
                    share = getattr(cell, measure) / cell.taser_reports
                    if share > NOT_STATED_SHARE:
                        message = f"{place}: {what} not stated in {share:.0%} of {cell.taser_reports} Taser reports"
                        alerts.append(
                            Alert(kind=Alert.Kind.NOT_STATED, observed=getattr(cell, measure), message=message, **new)
                        )
    with transaction.atomic():
        existing = Alert.objects.filter(force_id=force_id, month__in=months)
        known = set(existing.values_list("area_id", "month", "kind", "message"))
        existing.delete()
        Alert.objects.bulk_create(alerts)
        bump_figures_version([force_id])
    fresh = [a for a in alerts if (a.area_id, a.month, a.kind, a.message) not in known]
    if fresh:
        _mail_alerts(force_id, fresh)
    return alerts


def _mail_alerts(force_id: str, alerts: list[Alert]) -> None:
    recipients = list(
        get_user_model()
        .objects.filter(groups__name=Role.PCC_STAFF, force_scope__force_id=force_id, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if recipients:
        lines = "\n".join(f"- {alert.message}" for alert in alerts)
        send_mail(f"Taser oversight: {len(alerts)} new alert(s)", lines, None, recipients, fail_silently=True)
