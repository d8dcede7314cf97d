"""The panels' scheduled work: thin tasks calling the services."""

from celery import shared_task
from django.db import DatabaseError

from scrutiny import services


@shared_task(autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5)
def send_reminders():
    """The daily job: remind the force of responses due and overdue, and both offices of overdue actions."""
    return services.send_reminders()
