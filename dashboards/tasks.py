"""Celery tasks of the pages that combine the apps: thin, they take ids and call a service."""

import datetime

from celery import shared_task
from django.db import DatabaseError

from dashboards import services
from incidents.models import MonthlySummary
from oversight.police_calendar import months_back, quarter_start


# Each keeps the name it had before the quarterly reports moved to this app: beat's schedule
# (settings.CELERY_BEAT_SCHEDULE) and messages already queued know it by that name.
@shared_task(
    name="incidents.tasks.build_quarterly_report", autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5
)
def build_quarterly_report(force_id, quarter, area_id=None):
    """Build one quarterly report snapshot; `quarter` is its first day, YYYY-MM-DD."""
    return services.build_quarterly_report(  # the service of the same name
        force_id=force_id, quarter=datetime.date.fromisoformat(quarter), area_id=area_id
    ).pk


@shared_task(name="incidents.tasks.build_last_quarter_reports")
def build_last_quarter_reports():
    """At the start of a quarter: the report of the quarter just ended, for every force with summaries."""
    quarter = quarter_start(months_back(datetime.date.today().replace(day=1), 3))
    forces = MonthlySummary.objects.values_list("force", flat=True).distinct().order_by("force")
    return [build_quarterly_report(force_id, quarter.isoformat()) for force_id in forces]
