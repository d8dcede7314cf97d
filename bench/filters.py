"""Page 1 of the reports, API and `/reports/`, with each filter alone and in pairs, over 5,000,000 reports.

    .venv/bin/python bench/filters.py            # seeds oversight_bench_api first, as bench/api.py does
    .venv/bin/python bench/filters.py --reuse    # again on the same data

The data are bench/api.py's (`seed_demo --reports 5000000 --seed 1 --end-month 2026-10` in
oversight_bench_api); the callers are of the Met, the largest force (about 2.25 million reports):
an API client with a read token (first page of 100) and PCC staff signed in (`/reports/`, first
page of 50). gunicorn runs as in production (gunicorn.conf.py).

Each filter has one value, a bar a chart could lead to (FILTERS); the pairs are every two of them.
Values matching a few reports in a hundred thousand (RARE) are timed alone and with one month:
a page of them is the whole force's index read backwards when no month bounds it. Each filter set
is asked once to warm up, then --requests times; the times are client-side.

    .venv/bin/python bench/filters.py --reuse --database-url postgres://postgres@127.0.0.1:5432/my_copy

The baseline, in the same run: the API page's SELECT run alone on PostgreSQL as it is, and with the
value indexes (incidents.models.VALUE_INDEXES, and the CED uses' extended cycles) dropped inside a
transaction that is then rolled back, for every filter set whose plan reads one of them; its planner
prices a row fetch as the web process's does.
"""

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from urllib.parse import urlencode

import api
import psycopg2
import requests
from api import ENVIRONMENT, PASSWORD, ROOT, USER, gunicorn, manage
from fresh_database import seeded_database

sys.path.insert(0, str(ROOT))
STAFF = "bench_pcc_staff"
MONTH = {"from": "2026-06-01", "to": "2026-06-30"}
FILTERS = {
    "month": MONTH,
    "area": None,  # the force's first area, found at run time
    "highest_level": {"highest_level": "fired"},
    "discharge_group": {"discharge_group": "discharge"},
    "ethnicity": {"ethnicity": "black"},
    "age_band": {"age_band": "11_17"},
    "gender": {"gender": "female"},
    "health_condition": {"health_condition": "mental"},
    "outcome": {"outcome": "hospitalised"},
    "location_group": {"location_group": "medical_setting"},
    "reason": {"reason": "secure_evidence"},
    "impact_factor": {"impact_factor": "weapon"},
    "subject_injury": {"subject_injury": "severe"},
    "officer_injury": {"officer_injury": "severe"},
    "body_worn_video": {"body_worn_video": "no"},
    "extended_cycle": {"extended_cycle": "true"},
    "ced_used": {"ced_used": "true"},
}
RARE = {
    "age_band=under_11": {"age_band": "under_11"},
    "gender=other": {"gender": "other"},
    "subject_injury=death": {"subject_injury": "death"},
    "outcome=fatality": {"outcome": "fatality"},
}


def filter_sets(area, pairs=True):
    """(name, query) of no filter, each filter alone, every pair (or only those with the month), and the rare
    values alone and with the month."""
    filters = FILTERS | {"area": {"area": area}}
    yield "no filter", {}
    for name, query in filters.items():
        yield name, query
    for (first, one), (second, other) in itertools.combinations(filters.items(), 2):
        if pairs or first == "month":
            yield f"{first} & {second}", one | other
    for name, query in RARE.items():
        yield name, query
        yield f"{name} & month", query | MONTH


def percentiles(seconds):
    if len(seconds) < 2:  # one timed run: it is every percentile
        seconds = seconds * 2
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return {"p50": cuts[49] * 1000, "p95": cuts[94] * 1000, "max": max(seconds) * 1000}


def timed(session, url, count, check):
    """Client-side times of `count` GETs of `url`, after one to warm up; `check` vets each answer."""
    times = []
    for number in range(count + 1):
        started = time.perf_counter()
        response = session.get(url, timeout=120)
        seconds = time.perf_counter() - started
        check(response)
        if number:
            times.append(seconds)
    return percentiles(times)


def api_check(response):
    if response.status_code != 200 or "results" not in response.json():
        raise RuntimeError(f"{response.url}: {response.status_code} {response.text[:200]}")


def html_check(response):
    if response.status_code != 200 or "Use-of-force reports" not in response.text:
        raise RuntimeError(f"{response.url}: {response.status_code} {response.text[:200]}")


def signed_in(port):
    session = requests.Session()
    session.get(f"http://127.0.0.1:{port}/accounts/login/")
    response = session.post(
        f"http://127.0.0.1:{port}/accounts/login/",
        {"username": STAFF, "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        allow_redirects=False,
    )
    if response.status_code != 302:
        raise RuntimeError(f"signing in answered {response.status_code}")
    return session


def page_sql(query, user):
    """The API page's SELECT for `query` as the filter class makes it."""
    from django.http import QueryDict

    from incidents.api.reports import REPORT_COLUMNS
    from incidents.filters import ReportFilter
    from incidents.queries import reports_visible_to

    reports = reports_visible_to(user).filter(force=user.force_scope.force).values(*REPORT_COLUMNS)
    filters = ReportFilter(QueryDict(urlencode(query)), queryset=reports)
    if not filters.is_valid():
        raise RuntimeError(f"{query}: {filters.errors}")
    return filters.qs.order_by("-occurred_on", "-id")[:101].query.sql_with_params()


def planned_as_the_web():
    """A connection whose planner prices a row fetch as the web process's does (settings.WEB_RANDOM_PAGE_COST)."""
    from django.conf import settings

    return psycopg2.connect(api.URL, options=f"-c random_page_cost={settings.WEB_RANDOM_PAGE_COST}")


def value_indexes_read(statement):
    """The value indexes (and the CED uses' extended cycles') that the plan of `statement` reads."""
    from incidents.models import VALUE_INDEXES

    connection = planned_as_the_web()
    try:
        with connection.cursor() as cursor:
            cursor.execute(b"EXPLAIN " + cursor.mogrify(*statement))
            plan = "\n".join(row[0] for row in cursor.fetchall())
    finally:
        connection.close()
    names = [f"report_{name}_date" for name in VALUE_INDEXES] + ["ced_use_extended_report"]
    return [name for name in names if name in plan]


def sql_alone(statement, repeats, timeout_ms, without=()):
    """p50/p95 of running the statement alone (after one run to warm up); None past the timeout.

    `without`: indexes dropped first, in a transaction rolled back at the end (nothing else may run).
    """
    connection = planned_as_the_web()
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(timeout_ms)}")
            for index in without:
                cursor.execute(f"DROP INDEX {index}")
            times = []
            for number in range(repeats + 1):
                started = time.perf_counter()
                try:
                    cursor.execute(*statement)
                except psycopg2.errors.QueryCanceled:
                    return None
                cursor.fetchall()
                if number:
                    times.append(time.perf_counter() - started)
            return percentiles(times)
    finally:
        connection.rollback()
        connection.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="keep the database and its reports")
    parser.add_argument("--database-url", default=api.URL, help=f"the database (default {api.URL})")
    parser.add_argument("--force", default="metropolitan", help="the callers' force (default: the largest)")
    parser.add_argument("--requests", type=int, default=8, help="timed first pages of each filter set and kind")
    parser.add_argument("--baseline-repeats", type=int, default=3)
    parser.add_argument("--baseline-timeout", type=int, default=5_000, help="milliseconds a baseline query may run")
    parser.add_argument("--port", type=int, default=8711)
    parser.add_argument("--json", help="also write every figure to this file")
    parser.add_argument("--month-pairs-only", action="store_true", help="of the pairs, only those with the month")
    parser.add_argument("--sets", help="only the filter sets numbered FIRST:LAST (from 0), to split a run")
    arguments = parser.parse_args()

    api.URL = ENVIRONMENT["DATABASE_URL"] = arguments.database_url
    os.environ.update(ENVIRONMENT)
    if not arguments.reuse:
        seeded_database(api.URL, reports=arguments.reports, seed=arguments.seed, root=ROOT)
        connection = psycopg2.connect(api.URL)
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        connection.close()
    manage("create_role_user", USER, "--role", "api_client", "--force", arguments.force, "--password", PASSWORD)
    manage("create_role_user", STAFF, "--role", "pcc_staff", "--force", arguments.force, "--password", PASSWORD)

    os.environ["DJANGO_SETTINGS_MODULE"] = "oversight.settings"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection as django_connection

    from forces.models import Area
    from forces.services import create_api_token

    user = get_user_model().objects.get(username=USER)
    _, key = create_api_token(user=user, name="bench filters", access="read", force=user.force_scope.force)
    area = Area.objects.filter(force=arguments.force).order_by("name").values_list("code", flat=True).first()
    sets = list(filter_sets(area, pairs=not arguments.month_pairs_only))
    if arguments.sets:
        first, last = (int(number) for number in arguments.sets.split(":"))
        sets = sets[first : last + 1]
    statements = {name: page_sql(query, user) for name, query in sets}
    django_connection.close()

    load = os.getloadavg()
    results = {}
    with (
        tempfile.NamedTemporaryFile("w+", prefix="bench-filters-gunicorn-", suffix=".log", delete=False) as log,
        gunicorn("oversight.wsgi", arguments.port, log, 30),
    ):
        client = requests.Session()
        client.headers["Authorization"] = f"Bearer {key}"
        html = signed_in(arguments.port)
        base = f"http://127.0.0.1:{arguments.port}"
        for name, query in sets:
            results[name] = {
                "api": timed(client, f"{base}/api/v1/reports/?{urlencode(query | {'page_size': 100})}",
                             arguments.requests, api_check),
                "html": timed(html, f"{base}/reports/?{urlencode(query)}", arguments.requests, html_check),
            }  # fmt: skip
    # The SQL alone, with and without the value indexes, where its plan reads them.
    for name, _ in sets:
        indexes = value_indexes_read(statements[name])
        if not indexes:
            continue
        results[name]["indexes"] = indexes
        results[name]["sql_now"] = sql_alone(statements[name], arguments.baseline_repeats, arguments.baseline_timeout)
        results[name]["sql_without"] = sql_alone(
            statements[name], arguments.baseline_repeats, arguments.baseline_timeout, without=indexes
        )

    if arguments.json:
        with open(arguments.json, "w") as handle:
            json.dump({"load": load, "area": area, "results": results}, handle, indent=1)
    report(results, load, arguments)


def report(results, load, arguments):
    def ms(figures, key="p95"):
        return "timed out" if figures is None else f"{figures[key]:.1f}"

    common = [name for name in results if not any(name.startswith(rare) for rare in RARE)]
    print(f"load average before the run: {', '.join(f'{value:.2f}' for value in load)}")
    for kind in ("api", "html"):
        p95s = sorted((results[name][kind]["p95"], name) for name in common)
        over = [name for p95, name in p95s if p95 >= 50]
        print(
            f"{kind}: {len(common)} filter sets, p95 median {statistics.median(p for p, _ in p95s):.1f} ms, "
            f"worst {p95s[-1][0]:.1f} ms ({p95s[-1][1]}); {len(over)} at or over 50 ms"
            + (f": {', '.join(over)}" if over else "")
        )
    print("\n| filter set | API p50 / p95 ms | /reports/ p50 / p95 ms | SELECT alone p95 | without those indexes p95 |")
    print("|---|---|---|---|---|")
    for name, figures in results.items():
        api, html = figures["api"], figures["html"]
        baseline = f"{ms(figures['sql_now'])} | {ms(figures['sql_without'])}" if "sql_now" in figures else " | "
        print(f"| {name} | {api['p50']:.1f} / {api['p95']:.1f} | {html['p50']:.1f} / {html['p95']:.1f} | {baseline} |")


if __name__ == "__main__":
    main()
