"""Summary rebuilds on PostgreSQL: a full rebuild over N reports against the GROUP BY alone, and
an incremental rebuild of one force-month.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oversight_bench \\
        .venv/bin/python bench/rebuild_summaries.py --reports 5000000

The database named in DATABASE_URL is dropped and filled by seed_demo (unless --reuse). The
baseline, measured in the same run, is the rebuild's own SELECT … GROUP BY over the reports
table, its rows fetched and discarded: the floor for any correct rebuild. Each figure is the best
of --repeat runs (every run's time is printed too).
"""

import argparse
import os
import sys
import time
from pathlib import Path

from fresh_database import seeded_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


TIMES = {}


def best_of(repeat, function, name=None):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    TIMES.setdefault(name or function.__name__, []).extend(times)
    return min(TIMES[name or function.__name__])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="keep the database and its reports")
    arguments = parser.parse_args()
    load = os.getloadavg()
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only")
    url = os.environ["DATABASE_URL"]
    if not arguments.reuse:
        seeded_database(url, reports=arguments.reports, seed=arguments.seed, root=ROOT)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oversight.settings")
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count
    from django.db.models.functions import TruncMonth

    from incidents import summaries, tasks
    from incidents.models import MonthlySummary, UseOfForceReport

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        reports = UseOfForceReport.objects.current()
        aggregates = summaries.summary_aggregates()
        select, params = (
            reports.annotate(cell_month=TruncMonth("occurred_on"))
            .values("force", "area", "cell_month")
            .annotate(**aggregates)
            .order_by()
            .query.sql_with_params()
        )
        total = reports.count()

        def group_by_alone():
            # Fetched whole: counting the rows of it instead would let PostgreSQL skip the aggregates.
            cursor.execute(select, params)
            cursor.fetchall()

        # Taking turns, so that both meet the same state of the machine and of PostgreSQL's caches.
        for _ in range(arguments.repeat):
            baseline = best_of(1, group_by_alone)
            full = best_of(1, summaries.rebuild_summaries)
    cells = MonthlySummary.objects.count()

    # The force-month nearest 15,000 reports: what importing a month of a large force touches.
    months = (
        reports.annotate(month=TruncMonth("occurred_on")).values("force", "month").annotate(n=Count("pk")).order_by()
    )
    target = min(months, key=lambda row: abs(row["n"] - 15_000))
    month_cells = summaries.cells_of(
        reports.filter(force=target["force"], occurred_on__gte=target["month"],
                       occurred_on__lt=summaries.next_month(target["month"]))
        .values_list("area", "occurred_on").distinct()
    )  # fmt: skip
    incremental = best_of(
        arguments.repeat, lambda: tasks.rebuild_summary_cells(target["force"], month_cells), "incremental"
    )

    edit, rebuild_cell = edit_against_rebuild(reports.filter(force=target["force"], occurred_on__gte=target["month"]))

    print(f"load average at start            {' '.join(f'{x:.2f}' for x in load)}")
    print(f"reports                          {total:,} ({cells:,} area-month cells)")
    print(f"baseline: the GROUP BY alone     {baseline:.1f} s")
    print(f"full rebuild                     {full:.1f} s")
    print(f"ratio full rebuild / GROUP BY    {full / baseline:.2f}x")
    print(
        f"incremental rebuild and alerts   {incremental:.2f} s "
        f"({target['force']}, {target['month']:%Y-%m}: {target['n']:,} reports, {len(month_cells)} cells)"
    )
    print(f"an edit of one report, counted   {edit * 1000:.0f} ms (its save, in its transaction)")
    print(f"before: the rebuild of its cell  {rebuild_cell * 1000:.0f} ms (queued by every edit)")
    for name, times in TIMES.items():
        print(f"every run: {name:21} {', '.join(f'{t:.2f}' for t in times)} s")


def edit_against_rebuild(reports, repeat=5):
    """(best seconds of) one report's ethnicity corrected and saved, counted into its cell in its transaction,
    and the rebuild of that cell, which each such edit queued before; both rolled back."""
    from django.db import transaction

    from incidents import summaries
    from incidents.models import Ethnicity

    report = reports.filter(ced_used=True).order_by("pk").first()
    cell = summaries.cells_of([(report.area_id, report.occurred_on)])

    def edit():
        with transaction.atomic():
            report.subject_ethnicity = (
                Ethnicity.MIXED if report.subject_ethnicity != Ethnicity.MIXED else Ethnicity.WHITE
            )
            report.save()  # what follows it (alerts, public cells) is queued on commit, which never comes
            transaction.set_rollback(True)

    def rebuild_cell():
        with transaction.atomic():
            summaries.rebuild_summaries(force_ids=[report.force_id], cells=cell)
            transaction.set_rollback(True)

    return best_of(repeat, edit, "counted edit"), best_of(repeat, rebuild_cell, "rebuild of its cell")


if __name__ == "__main__":
    main()
