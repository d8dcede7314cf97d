from django.core.management.base import BaseCommand

from forces.services import load_forces


class Command(BaseCommand):
    help = "Load the 43 territorial forces of England and Wales and BTP (data.police.uk ids). Safe to run again."

    def handle(self, *args, **options):
        created, updated = load_forces()
        self.stdout.write(self.style.SUCCESS(f"Forces: {created} created, {updated} already present and refreshed."))
