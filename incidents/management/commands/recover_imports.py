from django.core.management.base import BaseCommand

from incidents.tasks import recover_imports


class Command(BaseCommand):
    help = (
        "End or queue again every import waiting or running past its lease (its worker or command gone, the "
        "database or the queue lost for a while), and queue the rebuild of every force whose summaries lag behind "
        "its data. Beat runs it every few minutes; safe to run by hand at any time."
    )

    def handle(self, *args, **options):
        outcome = recover_imports()
        self.stdout.write(
            self.style.SUCCESS(
                f"Imports queued again: {', '.join(map(str, outcome['queued'])) or 'none'}. "
                f"Imports ended as failed: {', '.join(map(str, outcome['failed'])) or 'none'}. "
                f"Summary rebuilds queued: {', '.join(outcome['rebuilds']) or 'none'}."
            )
        )
