import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from forces.models import Force
from incidents.alerts import raise_alerts
from incidents.disclosure import prepare_public_cells
from incidents.summaries import rebuild_summaries


class Command(BaseCommand):
    help = (
        "Rebuild the monthly per-area summaries from the current reports, then the alerts: every force, or one. "
        "Safe to run at any time, also twice at once: each force is rebuilt in one transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", dest="force_id", metavar="ID", help="a force id, e.g. thames-valley")

    def handle(self, *args, force_id, **options):
        if force_id and not Force.objects.filter(pk=force_id).exists():
            raise CommandError(f"--force: '{force_id}' is not a known force id (see load_forces).")
        started = time.perf_counter()
        cells = rebuild_summaries(force_ids=[force_id] if force_id else None)
        forces = [force_id] if force_id else list(Force.objects.values_list("pk", flat=True))
        for force in tqdm(forces, unit=" forces", desc="alerts", disable=options["verbosity"] == 0):
            raise_alerts(force_id=force)
        # The public figures' suppression, done now rather than by the first public reader, and kept in the
        # database for every process.
        prepare_public_cells(forces)
        seconds = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"Summaries: {cells:,} area-month cells rebuilt in {seconds:.1f} s."))
