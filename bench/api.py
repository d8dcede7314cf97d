"""The REST API under gunicorn over 5,000,000 reports: a page of reports, summaries, a CSV download.

    .venv/bin/python bench/api.py --reports 5000000
    # again on the same data:
    .venv/bin/python bench/api.py --reuse

The database oversight_bench_api is dropped and filled by seed_demo (unless --reuse), and an
API client of --force gets a new read token. The API runs as in production,
`gunicorn oversight.wsgi` with gunicorn.conf.py, with throttling raised
out of the way; gunicorn's log goes to /tmp/bench-api-gunicorn-*.log. Baselines, measured in
the same run:

- a page of reports: the page's own SELECT run alone on PostgreSQL;
- summaries: a bare Django view returning the same monthly rows with `.values()` and
  `JsonResponse` (bench/baseline_urls.py), under the same gunicorn settings, with the same wrk;
- the CSV download: a `COPY … TO STDOUT` of the same reports' columns, the floor for reading them.
"""

import argparse
import datetime
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import psycopg2
from fresh_database import seeded_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
URL = "postgres://postgres@127.0.0.1:5432/oversight_bench_api"
ENVIRONMENT = {
    "DATABASE_URL": URL,
    "DJANGO_SECRET_KEY": "bench",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    # Plain http on 127.0.0.1: production redirects to https and marks its cookies secure.
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "DJANGO_SECURE_COOKIES": "false",
    "API_RATE_ANONYMOUS": "1000000/second",
    "API_RATE_CALLER": "1000000/second",
}
USER = "bench_api"
PASSWORD = "bench-api-client-long-password-2026"  # noqa: S105 - a throwaway user of the bench database


def manage(*args):
    subprocess.run([sys.executable, "manage.py", *args, "-v0"], cwd=ROOT, check=True)


def month_end(month):
    return (month + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)


# --- gunicorn ------------------------------------------------------------------------------


@contextmanager
def gunicorn(application, port, log, timeout):
    """gunicorn as gunicorn.conf.py sets it, serving `application` on `port`; yields the master's pid."""
    command = [str(ROOT / ".venv/bin/gunicorn"), application, "--config", str(ROOT / "gunicorn.conf.py")]
    command += ["-b", f"127.0.0.1:{port}"]
    command += ["--timeout", str(timeout)]
    command += ["--chdir", str(ROOT), "--pythonpath", f"{ROOT},{ROOT / 'bench'}"]
    environment = {key: value for key, value in os.environ.items() if key != "CELERY_BROKER_URL"} | ENVIRONMENT
    server = subprocess.Popen(command, env=environment, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while len(workers(server.pid)) < 2 or not answers(port):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn {application} did not start; see {log.name}")
            time.sleep(0.2)
        yield server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def answers(port):
    try:
        return get(http.client.HTTPConnection("127.0.0.1", port, timeout=5), "/api/v1/")[0] == 200
    except OSError:
        return False


def workers(master):
    """The pids of the gunicorn master's worker processes."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            pids.append(int(stat.parent.name))
    return pids


def get(connection, path, headers=None):
    """(status, body) of one GET; http.client reconnects by itself when gunicorn closes the connection."""
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    return response.status, response.read()


# --- measurements --------------------------------------------------------------------------


def percentiles(seconds):
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return {"p50": cuts[49] * 1000, "p95": cuts[94] * 1000, "max": max(seconds) * 1000}


def report_pages(port, key, months, requests, master):
    """Client-side times of `requests` first pages of 100, each of one month, over `months` in turn,
    and the workers' CPU milliseconds per request."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {key}"}
    order = random.Random(1).sample(months, len(months))  # noqa: S311 - an order of months, not a secret

    def page(month):
        query = urlencode({"from": month.isoformat(), "to": month_end(month).isoformat(), "page_size": 100})
        started = time.perf_counter()
        status, body = get(connection, f"/api/v1/reports/?{query}", headers)
        seconds = time.perf_counter() - started
        if status != 200 or len(json.loads(body)["results"]) != 100:
            raise RuntimeError(f"reports/ for {month:%Y-%m}: {status} {body[:200]!r}")
        return seconds

    for month in order:  # warm-up: every month twice
        page(month)
        page(month)
    cpu = workers_cpu(master)
    times = percentiles([page(order[i % len(order)]) for i in range(requests)])
    return times | {"cpu": (workers_cpu(master) - cpu) * 1000 / requests}


def page_query_alone(months, requests, reports):
    """The same pages' main SELECT, run alone on PostgreSQL (warmed up the same way)."""
    order = random.Random(1).sample(months, len(months))  # noqa: S311 - an order of months, not a secret
    statements = {
        month: reports.filter(occurred_on__gte=month, occurred_on__lte=month_end(month))
        .select_related("area")
        .order_by("-occurred_on", "-id")[:101]
        .query.sql_with_params()
        for month in months
    }
    connection = psycopg2.connect(URL)
    try:
        with connection.cursor() as cursor:

            def page(month):
                started = time.perf_counter()
                cursor.execute(*statements[month])
                cursor.fetchall()
                return time.perf_counter() - started

            for month in order:
                page(month)
            return percentiles([page(order[i % len(order)]) for i in range(requests)])
    finally:
        connection.close()


def wrk(port, path, master, threads, connections, duration):
    """(requests/s, the workers' CPU milliseconds per request) of wrk on `path`, after a warm-up.

    Every answer must be a 200.
    """
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for _ in range(20):
        status, body = get(connection, path)
        if status != 200:
            raise RuntimeError(f"{path}: {status} {body[:200]!r}")
    command = ["/usr/bin/wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", f"http://127.0.0.1:{port}{path}"]
    cpu = workers_cpu(master)
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    cpu = workers_cpu(master) - cpu
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"wrk {path}: errors\n{output}")
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)), cpu * 1000 / requests


def rounds(runs):
    return ", ".join(f"{rate:,.0f}" for rate, _ in runs)


def rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0  # a worker killed but not yet reaped


def cpu_ticks(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def workers_cpu(master):
    """CPU seconds (user and system) the master's workers have used."""
    return sum(cpu_ticks(pid) for pid in workers(master)) / os.sysconf("SC_CLK_TCK")


def csv_download(port, key, query, master):
    """Stream the CSV, counting its lines, while the workers' RSS and CPU time are read every 0.2 s.

    A download that gunicorn cuts off (its worker killed at --timeout) counts as far as it came.
    """
    pids = workers(master)
    before = {pid: rss_kb(pid) for pid in pids}
    peak, start_ticks = dict(before), {pid: cpu_ticks(pid) for pid in pids}
    ticks = dict(start_ticks)
    done = threading.Event()

    def sample():
        while not done.wait(0.2):
            for pid in pids:
                try:
                    peak[pid], ticks[pid] = max(peak[pid], rss_kb(pid)), cpu_ticks(pid)
                except OSError:  # a worker gunicorn killed
                    continue

    sampler = threading.Thread(target=sample)
    sampler.start()
    lines = size = 0
    first_byte = None
    cut_off = False
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        started = time.perf_counter()
        connection.request("GET", f"/api/v1/reports/?{urlencode(query)}", headers={"Authorization": f"Bearer {key}"})
        response = connection.getresponse()
        if response.status != 200:
            raise RuntimeError(f"CSV: {response.status} {response.read(200)!r}")
        try:
            while chunk := response.read1(1 << 20):
                first_byte = first_byte or time.perf_counter() - started
                lines += chunk.count(b"\n")
                size += len(chunk)
        except http.client.IncompleteRead:
            cut_off = True
        seconds = time.perf_counter() - started
    finally:
        done.set()
        sampler.join()
    # The worker that served it is the one that spent the CPU time.
    server = max(pids, key=lambda pid: ticks[pid] - start_ticks[pid])
    return {
        "rows": lines - 1, "seconds": seconds, "first_byte": first_byte, "megabytes": size / 1e6, "cut_off": cut_off,
        "rss_before": before[server] / 1024, "rss_peak": peak[server] / 1024,
    }  # fmt: skip


class Counter:
    """A file-like sink for COPY … TO STDOUT that keeps only the number of bytes."""

    size = 0

    def write(self, data):
        self.size += len(data)


def copy_alone(queryset):
    """Seconds and bytes of COPY (the queryset's SELECT) TO STDOUT, as CSV."""
    select, params = queryset.query.sql_with_params()
    connection = psycopg2.connect(URL)
    try:
        with connection.cursor() as cursor:
            sink = Counter()
            started = time.perf_counter()
            cursor.copy_expert(f"COPY ({cursor.mogrify(select, params).decode()}) TO STDOUT WITH (FORMAT csv)", sink)
            return time.perf_counter() - started, sink.size / 1e6
    finally:
        connection.close()


# --- the run -------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="keep the database and its reports")
    parser.add_argument("--force", default="metropolitan", help="the API client's force (default: the largest)")
    parser.add_argument("--requests", type=int, default=200, help="timed first pages of reports/")
    parser.add_argument("--duration", type=int, default=20, help="seconds of each wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="wrk runs of each summaries view; the best counts")
    parser.add_argument("--csv-reports", type=int, default=1_000_000, help="about how many reports the CSV holds")
    parser.add_argument(
        "--timeout", type=int, default=30, help="gunicorn's --timeout (default: gunicorn's own, 30, as in production)"
    )
    parser.add_argument("--port", type=int, default=8701, help="the application's; the baseline's is the next")
    arguments = parser.parse_args()

    os.environ.update(ENVIRONMENT)
    if not arguments.reuse:
        seeded_database(URL, reports=arguments.reports, seed=arguments.seed, root=ROOT)
        connection = psycopg2.connect(URL)
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        connection.close()
    manage("create_role_user", USER, "--role", "api_client", "--force", arguments.force, "--password", PASSWORD)

    os.environ["DJANGO_SETTINGS_MODULE"] = "oversight.settings"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Sum

    from forces.services import create_api_token
    from incidents.canonical import REPORT_FIELDS
    from incidents.models import MonthlySummary, UseOfForceReport

    user = get_user_model().objects.get(username=USER)
    _, key = create_api_token(user=user, name="bench", access="read", force=user.force_scope.force)
    total = UseOfForceReport.objects.current().count()
    reports = UseOfForceReport.objects.current().filter(force=arguments.force)
    per_month = dict(
        MonthlySummary.objects.filter(force=arguments.force)
        .values_list("month")
        .annotate(Sum("reports"))
        .order_by("month")
    )
    months = list(per_month)
    # The CSV: the latest months of the force, as many as come nearest --csv-reports.
    running, counts = 0, []
    for month in reversed(months):
        running += per_month[month]
        counts.append((abs(running - arguments.csv_reports), month))
    csv_from = min(counts)[1]
    csv_query = {"format": "csv", "from": csv_from.isoformat(), "to": month_end(months[-1]).isoformat()}
    csv_reports = reports.filter(occurred_on__gte=csv_from)
    csv_count, force_count = csv_reports.count(), reports.count()
    # The report columns incidents.canonical.rows reads (it adds the CED uses, query by query).
    columns = ["id", "source_key", "force_id", "area__code", "area__name", "highest_ced_level"]
    csv_select = csv_reports.order_by("id").values_list(*columns, *(field.attname for field in REPORT_FIELDS))
    connection.close()

    summaries = {"force": arguments.force, "period": "month", "from": f"{months[0]:%Y-%m}", "to": f"{months[-1]:%Y-%m}"}
    threads, connections = 2, 8
    api_path, bare_path = f"/api/v1/summaries/?{urlencode(summaries)}", f"/bench/summaries/?{urlencode(summaries)}"
    load = os.getloadavg()[0]
    api_runs, bare_runs = [], []
    with (
        tempfile.NamedTemporaryFile("w+", prefix="bench-api-gunicorn-", suffix=".log", delete=False) as log,
        gunicorn("oversight.wsgi", arguments.port, log, arguments.timeout) as app,
        gunicorn("baseline_wsgi:application", arguments.port + 1, log, arguments.timeout) as bare,
    ):
        pages = report_pages(arguments.port, key, months, arguments.requests, app)
        for _ in range(arguments.rounds):  # taking turns, so both see the same load of the machine
            api_runs.append(wrk(arguments.port, api_path, app, threads, connections, arguments.duration))
            bare_runs.append(wrk(arguments.port + 1, bare_path, bare, threads, connections, arguments.duration))
        download = csv_download(arguments.port, key, csv_query, app)
    (api_rate, api_cpu), (bare_rate, bare_cpu) = max(api_runs), max(bare_runs)
    alone = page_query_alone(months, arguments.requests, reports)
    copy_seconds, copy_megabytes = copy_alone(csv_select)
    if not download["cut_off"] and download["rows"] != csv_count:
        raise RuntimeError(f"The CSV has {download['rows']:,} rows, not the {csv_count:,} reports it should")

    rate = download["rows"] / download["seconds"]
    served = f"{download['rows']:,} rows"
    if download["cut_off"]:
        served = f"cut off after {served} of {csv_count:,} (gunicorn killed the worker at its --timeout)"
    for label, figure in (
        ("reports", f"{total:,} ({arguments.force}: {force_count:,})"),
        ("load average when the server started", f"{load:.2f} (gunicorn -w 2 --timeout {arguments.timeout})"),
        ("reports/, one month, first page of 100",
         f"p50 {pages['p50']:.1f} ms, p95 {pages['p95']:.1f} ms, max {pages['max']:.1f} ms "
         f"({arguments.requests} requests over {len(months)} months; workers' CPU {pages['cpu']:.0f} ms a request)"),
        ("  baseline: the page's SELECT alone", f"p50 {alone['p50']:.1f} ms, p95 {alone['p95']:.1f} ms"),
        (f"summaries/, {len(months)} months, wrk -t{threads} -c{connections} -d{arguments.duration}s",
         f"{api_rate:,.0f} requests/s (best of {rounds(api_runs)}; workers' CPU {api_cpu:.1f} ms a request)"),
        ("  baseline: bare .values() view",
         f"{bare_rate:,.0f} requests/s (best of {rounds(bare_runs)}; workers' CPU {bare_cpu:.1f} ms a request)"),
        ("  ratio summaries/ / bare view", f"{api_rate / bare_rate:.2f}"),
        (f"CSV, {csv_from:%Y-%m} to {months[-1]:%Y-%m}",
         f"{served}, {download['megabytes']:,.0f} MB in {download['seconds']:.1f} s "
         f"({rate:,.0f} rows/s; first byte after {download['first_byte']:.2f} s)"),
        ("  serving worker's RSS", f"{download['rss_before']:.0f} MB before, peak {download['rss_peak']:.0f} MB"),
        ("  baseline: COPY of the reports' columns",
         f"{copy_seconds:.1f} s ({copy_megabytes:,.0f} MB, {csv_count / copy_seconds:,.0f} rows/s)"),
    ):  # fmt: skip
        print(f"{label:<48} {figure}")


if __name__ == "__main__":
    main()
