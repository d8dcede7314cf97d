import datetime
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from dashboards.demo import DEMO_PASSWORD, seed_demo


def month(value):
    try:
        return datetime.datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise CommandError(f"--end-month: '{value}' is not a month; expected YYYY-MM, e.g. 2026-03.") from None


class Command(BaseCommand):
    help = (
        "Replace the demo data with a deterministic, realistic data set (several forces and areas, capability, "
        "a scrutiny panel, a demo login for each role). The same --seed and arguments give the same data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reports", type=int, default=20_000, help="use-of-force reports to generate")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--months", type=int, default=36, help="months of data, ending with --end-month")
        parser.add_argument("--end-month", help="last month of data, YYYY-MM (default: last full month)")

    def handle(self, *args, reports, seed, months, end_month, **options):
        if reports < 1:
            raise CommandError(f"--reports: {reports} is not a positive number of reports.")
        if not 1 <= months <= 240:
            raise CommandError(f"--months: {months} is outside 1 to 240.")
        started = time.perf_counter()
        with tqdm(total=reports, unit=" reports", disable=options["verbosity"] == 0) as bar:
            counts = seed_demo(
                reports=reports, seed=seed, months=months, end_month=end_month and month(end_month), progress=bar.update
            )
        seconds = time.perf_counter() - started
        per_force = ", ".join(f"{force} {count:,}" for force, count in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Demo data: {reports:,} reports in {seconds:.1f} s ({per_force})."))
        self.stdout.write(
            f"Demo logins (password '{DEMO_PASSWORD}'): pcc_staff, panel_member, panel_chair, force_data_officer, "
            "api_client (Thames Valley) and admin (superuser)."
        )
