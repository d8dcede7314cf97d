"""The force dashboard over N reports in PostgreSQL: server time with every figure built, against
computing the same figures with GROUP BY over the reports table, and the page's size.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oversight_bench \\
        .venv/bin/python bench/dashboard.py --reports 5000000

The database named in DATABASE_URL is dropped and filled by seed_demo (unless --reuse). The page
is asked for through Django's test client (middleware, view, queries, figures and template: the
server's whole time, without the network) as PCC staff of the force, for its default 12 months, three ways:
built (the force's figures version moved on before each request, as after a change), from the cache (the
same page again), and 304 Not Modified (with the ETag of the last answer); then the force's public page
as an anonymous reader, made once, then twice answered by the public pages' fast path (dashboards/
middleware.py): the kept page, and 304. --redis keeps pages in Redis, as production does, instead of the
local memory of the embedded setup.
The baseline, in the same run, is the GROUP BY that would give the same figures without the
summaries: every summary measure of the force's reports in those 12 months by area and month,
and the incident measures by incident, rows fetched.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from fresh_database import seeded_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timings(repeat, function, cpu=None):
    """Wall times of `function`; with a list as `cpu`, this process's CPU times of it go there too (on a busy
    machine the wall time counts the waits for a core, which the CPU time does not)."""
    times = []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        function()
        times.append(time.perf_counter() - started)
        if cpu is not None:
            cpu.append(time.process_time() - started_cpu)
    return times


def p95(times):
    return statistics.quantiles(times, n=20, method="inclusive")[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--force", default="thames-valley")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--baseline-repeat", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep the database and its reports")
    parser.add_argument("--redis", metavar="URL", help="keep pages in this Redis (e.g. redis://127.0.0.1:6379/13)")
    arguments = parser.parse_args()
    load_at_start = os.getloadavg()
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only")
    os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")  # plain http through the test client
    if arguments.redis:  # production's cache: Redis whenever the broker is Redis (oversight/settings.py)
        os.environ["CELERY_BROKER_URL"] = arguments.redis
    url = os.environ["DATABASE_URL"]
    if not arguments.reuse:
        seeded_database(url, reports=arguments.reports, seed=arguments.seed, root=ROOT)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oversight.settings")
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Q
    from django.db.models.functions import TruncMonth
    from django.test import Client

    from forces.models import Force, Role
    from forces.services import create_role_user
    from forces.versions import bump_figures_version
    from incidents import queries, summaries
    from incidents.models import CURRENT, UseOfForceReport
    from oversight.police_calendar import months_back

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    force = Force.objects.get(pk=arguments.force)
    # Made or moved to this force: another benchmark may have left the user on another.
    user = create_role_user("bench_pcc_staff", Role.PCC_STAFF, force, "bench-only-password-1")
    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    path = f"/forces/{force.pk}/"

    first = client.get(path)  # warms the connection and the template cache, and sets the CSRF cookie
    assert first.status_code == 200, first.status_code
    last = queries.summary_months(force=force)[1]
    start, end = months_back(last, 11), months_back(last, -1)
    in_the_year = CURRENT & Q(force=force, occurred_on__gte=start, occurred_on__lt=end)
    reports = UseOfForceReport.objects.filter(in_the_year)
    in_period = reports.count()

    page, page_cpu = [], []
    for _ in range(arguments.requests):
        bump_figures_version([force.pk])  # as after a change: the page is made again
        page += timings(1, lambda: client.get(path), page_cpu)
    response = client.get(path)
    html, etag = response.content, response["ETag"]
    hit_cpu, not_modified_cpu = [], []
    hit = timings(arguments.requests, lambda: client.get(path), hit_cpu)
    not_modified = timings(arguments.requests, lambda: client.get(path, HTTP_IF_NONE_MATCH=etag), not_modified_cpu)
    assert client.get(path, HTTP_IF_NONE_MATCH=etag).status_code == 304

    # The force's public page for an anonymous reader: made once, then answered by the public pages' fast path.
    reader, public_path = Client(SERVER_NAME="localhost"), f"/public/{force.pk}/"
    public_built = timings(1, lambda: reader.get(public_path))[0]
    public = reader.get(public_path)
    assert public.status_code == 200 and not hasattr(public.wsgi_request, "session"), "not the fast path"
    public_hit_cpu, public_not_modified_cpu = [], []
    public_hit = timings(arguments.requests, lambda: reader.get(public_path), public_hit_cpu)
    public_not_modified = timings(
        arguments.requests, lambda: reader.get(public_path, HTTP_IF_NONE_MATCH=public["ETag"]), public_not_modified_cpu
    )

    aggregates = summaries.summary_aggregates()
    select, params = (
        reports.annotate(cell_month=TruncMonth("occurred_on"))
        .values("area", "cell_month")
        .annotate(**aggregates)
        .order_by()
        .query.sql_with_params()
    )

    def group_by():
        with connection.cursor() as cursor:
            cursor.execute(select, params)
            cursor.fetchall()
        summaries.incident_counts(in_the_year)

    baseline = timings(arguments.baseline_repeat, group_by)

    print(f"reports in the database            {UseOfForceReport.objects.count():,}")
    print(f"{force.pk}, {start:%Y-%m} to {last:%Y-%m}      {in_period:,} reports")
    print(f"cache                               {'Redis' if arguments.redis else 'local memory'}")
    print(f"load average at start               {' '.join(f'{load:.2f}' for load in load_at_start)}")
    print(f"public page made once ({public_path}) {public_built:.1f} s, {len(public.content) / 1024:.0f} KB")
    for label, times, cpu in (
        ("dashboard built", page, page_cpu), ("dashboard, cache hit", hit, hit_cpu),
        ("304 Not Modified", not_modified, not_modified_cpu),
        ("public page, cache hit", public_hit, public_hit_cpu),
        ("public page, 304", public_not_modified, public_not_modified_cpu),
    ):  # fmt: skip
        print(f"{label + ',':22s} {arguments.requests} requests  median {statistics.median(times) * 1000:.1f} ms, "
              f"p95 {p95(times) * 1000:.1f} ms; CPU of this process median {statistics.median(cpu) * 1000:.1f} ms, "
              f"p95 {p95(cpu) * 1000:.1f} ms")  # fmt: skip
    print(f"ratio cache hit / built (medians)   {statistics.median(hit) / statistics.median(page):.3f}x")
    print(f"ratio 304 / built (medians)         {statistics.median(not_modified) / statistics.median(page):.3f}x")
    runs = arguments.baseline_repeat
    print(f"baseline GROUP BY, {runs} runs       median {statistics.median(baseline) * 1000:.0f} ms, "
          f"best {min(baseline) * 1000:.0f} ms")  # fmt: skip
    print(f"ratio dashboard p95 / GROUP BY best {p95(page) / min(baseline):.3f}x")
    print(f"page HTML (plotly.js apart)         {len(html) / 1024:.0f} KB")


if __name__ == "__main__":
    main()
