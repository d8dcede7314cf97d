from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from incidents.retention import apply_retention, past_retention, retention_horizon


class Command(BaseCommand):
    help = (
        "Remove the record-level data of reports that occurred more than N years ago (RECORD_RETENTION_YEARS, or "
        "--years): the reports, their CED uses, their audit entries and old uploaded files. The monthly summaries "
        "of those months are kept and never rebuilt again. Reports a scrutiny panel sampled are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--years", type=int, help="the retention period, overriding RECORD_RETENTION_YEARS")
        parser.add_argument("--dry-run", action="store_true", help="say what would be removed; remove nothing")

    def handle(self, *args, years=None, dry_run=False, **options):
        years = settings.RECORD_RETENTION_YEARS if years is None else years
        if years < 1:
            raise CommandError(
                "No retention period: set RECORD_RETENTION_YEARS or pass --years N (whole years, 1 or more)."
            )
        horizon = retention_horizon(years)
        if dry_run:
            removed, kept = past_retention(horizon)
            self.stdout.write(
                f"Reports before {horizon:%-d %B %Y}: {removed.count():,} would be removed, "
                f"{kept.count():,} kept because a panel sampled them."
            )
            return
        run = apply_retention(years=years)
        if run is None:
            self.stdout.write(f"Nothing to remove: no report before {horizon:%-d %B %Y} is held.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Reports before {run.removed_before:%-d %B %Y} removed: {run.reports_removed:,} reports, "
                f"{run.ced_uses_removed:,} CED uses, {run.audit_entries_removed:,} audit entries, "
                f"{run.uploads_removed:,} uploads; {run.reports_kept:,} sampled reports kept. Summaries kept."
            )
        )
