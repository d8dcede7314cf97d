"""A small file into a large force on PostgreSQL: 15,000 Met-format rows over 12 months into the Met of
the 5,000,000 demo reports (2,250,460 of them the Met's), against what the same work cost before.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oversight_bench_delta \\
        .venv/bin/python bench/import_small.py --reports 5000000
    # again on the same data: add --reuse

The database named in DATABASE_URL is dropped and filled by seed_demo (unless --reuse; it is
migrated either way). Each run imports the file in a transaction that is then rolled back, so
every run starts from the same data, and measures in the same transaction:
- the import in all (`import_reports`), and within it the counting of its change into the
  summary cells (CountedChange: before and after);
- baselines: a bare COPY of the same CSV into an unindexed table of text columns; the rebuild of
  the cells it touched, as every import did before (`rebuild_summaries(cells=…)`); reading every
  report the force holds, as every import did before to match its rows (`_held_by_copy`).
The counted cells are checked against that rebuild's, cell by cell.
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fresh_database import seeded_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FORCE = "metropolitan"


class Timed:
    """Adds up the time spent in some methods, wrapped in place for the bench."""

    def __init__(self):
        self.seconds = 0.0

    def wrap(self, owner, name):
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        setattr(owner, name, timed)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rows", type=int, default=15_000)
    parser.add_argument("--first-day", default="2025-04-01", help="the file's dates are the 365 days from this one")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="keep the database and its reports")
    arguments = parser.parse_args()
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only")
    url = os.environ["DATABASE_URL"]
    if not arguments.reuse:
        seeded_database(url, reports=arguments.reports, seed=arguments.seed, root=ROOT)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, check=True)
    path = Path(tempfile.gettempdir()) / f"met-small-{arguments.rows}.csv"
    subprocess.run(
        [sys.executable, "bench/met_csv.py", "--rows", str(arguments.rows), "--out", str(path),
         "--first-day", arguments.first_day],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oversight.settings")
    import django

    django.setup()
    from django.db import connection, transaction

    from forces.models import Force
    from incidents.imports import matching
    from incidents.imports.pipeline import import_reports
    from incidents.models import MonthlySummary, UseOfForceReport
    from incidents.summaries import CountedChange, rebuild_summaries

    counting = Timed()
    counting.wrap(CountedChange, "__init__")
    counting.wrap(CountedChange, "count")
    force = Force.objects.get(pk=FORCE)
    held = UseOfForceReport.objects.filter(force=FORCE).count()
    with path.open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    def cells(batch):
        return {
            (s["area_id"], s["month"]): s
            for s in MonthlySummary.objects.filter(force=FORCE).values()
            if [s["area_id"], s["month"].isoformat()] in batch.summary_cells
        }

    print(
        f"{arguments.rows:,} rows over 365 days from {arguments.first_day} into {FORCE}, which holds {held:,} reports"
    )
    for run in range(1, arguments.repeat + 1):
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
            columns = ", ".join(f"c{i} text" for i in range(len(header)))
            cursor.execute(f"CREATE TEMP TABLE bench_staging ({columns})")
            started = time.perf_counter()
            with path.open(encoding="utf-8") as rows:
                cursor.copy_expert("COPY bench_staging FROM STDIN WITH (FORMAT csv, HEADER true)", rows)
            copy = time.perf_counter() - started
            cursor.execute("DROP TABLE bench_staging")
        with transaction.atomic():
            counting.seconds = 0.0
            started = time.perf_counter()
            batch = import_reports(path, force)
            imported = time.perf_counter() - started
            counted_cells = cells(batch)
            started = time.perf_counter()
            rebuild_summaries(force_ids=[FORCE], cells=batch.summary_cells)
            rebuild = time.perf_counter() - started
            rebuilt_cells = cells(batch)
            started = time.perf_counter()
            matching._held_by_copy(FORCE, "met")
            read_all = time.perf_counter() - started
            transaction.set_rollback(True)
        measures = [name for name in rebuilt_cells[next(iter(rebuilt_cells))] if name not in ("id", "built_at")]
        differ = [
            cell
            for cell in counted_cells.keys() | rebuilt_cells.keys()
            if any(counted_cells.get(cell, {}).get(n) != rebuilt_cells.get(cell, {}).get(n) for n in measures)
        ]
        print(
            f"run {run}: bare COPY {copy:.2f} s | import in all {imported:.2f} s ({imported / copy:.1f}x the COPY; "
            f"{batch.rows_added:,} added) | counted summaries {counting.seconds:.2f} s "
            f"({len(batch.summary_cells)} cells, counted: {batch.summaries_counted}) | "
            f"before: rebuild of those cells {rebuild:.2f} s, reading every held report {read_all:.2f} s | "
            f"counted / rebuild {counting.seconds / rebuild:.2f}x | cells differing from the rebuild: {len(differ)}"
        )


if __name__ == "__main__":
    main()
