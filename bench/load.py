"""Load: concurrent users against gunicorn and PostgreSQL, in one of two mixes.

    .venv/bin/python bench/load.py --users 50 --seconds 60 --reports 1000000       # staff and scripts
    .venv/bin/python bench/load.py --mix public --users 200 --seconds 30 --reuse   # after a news story

The database oversight_bench_load is dropped and filled by seed_demo (unless --reuse; another with
--database-url); the demo's pcc_staff signs in and its api_client gets a new read token. The site
runs as in production, `gunicorn oversight.wsgi` with gunicorn.conf.py (processes and threads as it sets them),
with the API's throttling raised out of the way (the users share one token) and plain http on
127.0.0.1. Locust (bench/load_users.py) drives it, headless, for --seconds:

- `--mix staff` (the default): PCC staff signed in, on the dashboards and drilling down from a bar to
  the reports behind it and to one report, and analysts' scripts on the API. The staff sign in first, as
  an office's staff do once a day, and the --seconds measured begin when every user is ready: the
  sign-ins are shown apart, "before the window", in the same table;
- `--mix public`: readers of one public force page, each asking again as soon as answered; then, on
  the same gunicorn, as many readers of a static file of that page's size (served by WhiteNoise from
  STATIC_ROOT, as production serves static files), the baseline: both requests/s and their ratio.

With --redis the site uses that Redis database as its cache (as production does whenever Redis is the
broker), emptied first of all but the public suppression families, which are made before the server
starts if not there, as the summaries' rebuild makes them in production: /compare/ reads other forces'
public figures.

It prints, per page, the requests, errors and the median, 95th percentile and slowest times, and
exits 1 if any request failed. --json writes the same figures to a file; the tests run a short
version of this against their own database (tests/test_load.py), asserting no error, never a time.
"""

import argparse
import csv
import json
import os
import runpy
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
URL = "postgres://postgres@127.0.0.1:5432/oversight_bench_load"
USERNAME, PASSWORD = "pcc_staff", "taser-demo"  # the demo's own login (dashboards/demo.py)  # noqa: S105
# As production runs it, but plain http on 127.0.0.1 and throttling out of the way.
SITE = {
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "DJANGO_SECURE_COOKIES": "false",
    "API_RATE_ANONYMOUS": "1000000/second",
    "API_RATE_CALLER": "1000000/second",
}


def environment(database_url, redis=None):
    base = {key: value for key, value in os.environ.items() if key not in ("CELERY_BROKER_URL", "DJANGO_DEBUG")}
    # The product's settings, whatever a test runner set: SITE says how they differ here.
    settings = {"DJANGO_SETTINGS_MODULE": "oversight.settings", "DATABASE_URL": database_url}
    if redis:
        settings["CELERY_BROKER_URL"] = redis
    return base | SITE | settings | {"DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "load")}


def manage(database_url, *args, redis=None):
    """manage.py with the bench's environment; its standard output."""
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment(database_url, redis), check=True,
        capture_output=True, text=True,
    ).stdout  # fmt: skip


def token(database_url):
    """A new read token of the demo's API client, on its force."""
    make = (
        "from django.contrib.auth import get_user_model; from forces.roles import force_of; "
        "from forces.services import create_api_token; user = get_user_model().objects.get(username='api_client'); "
        "print(create_api_token(user=user, name='load test', access='read', force=force_of(user))[1])"
    )
    return manage(database_url, "shell", "--no-imports", "-c", make).strip().splitlines()[-1]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(database_url, log, redis=None):
    """The site under gunicorn, as production runs it, until the block ends; yields its address."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "oversight.wsgi", "--config", str(ROOT / "gunicorn.conf.py")]
    command += ["--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT)]
    server = subprocess.Popen(command, env=environment(database_url, redis), stdout=log, stderr=log)  # noqa: S603
    try:
        deadline = time.monotonic() + 60
        while not answers(port):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start; see {log.name}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:  # gunicorn lets its workers finish the requests they hold, for up to its graceful timeout
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


# The user classes of bench/load_users.py in each mix.
MIXES = {"staff": ["PccStaff", "ApiScript"], "public": ["NewsReader"]}
BASELINE = ["StaticFileReader"]
STATIC_FILE = "bench/public-page.html"  # under STATIC_ROOT, written for the run and removed after it


# Longest the users may take to get ready (sign in) before the measured window; the run stops then regardless.
READY_SECONDS = 300


def locust(host, *, users, spawn_rate, seconds, key, folder, force, classes, static_path="", start_line=False):
    """Run bench/load_users.py headless with the user `classes`; the rows of its statistics CSV and failures.

    start_line: measure `seconds` from when every user is ready (signed in); what they asked before is
    written to `before-window.json` in `folder`.
    """
    prefix = folder / "-".join(classes)
    run_time = seconds + READY_SECONDS if start_line else seconds
    command = [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "load_users.py"), "--headless", *classes]
    command += ["--users", str(users), "--spawn-rate", str(spawn_rate), "--run-time", f"{run_time}s"]
    command += ["--host", host, "--csv", str(prefix), "--only-summary", "--stop-timeout", "10", "--loglevel", "WARNING"]
    env = os.environ | {"LOAD_USERNAME": USERNAME, "LOAD_PASSWORD": PASSWORD, "LOAD_TOKEN": key, "LOAD_FORCE": force}
    env["LOAD_STATIC_PATH"] = static_path
    if start_line:
        env |= {"LOAD_WINDOW": str(seconds), "LOAD_USERS": str(users)}
        env["LOAD_BEFORE_WINDOW"] = str(folder / "before-window.json")
    subprocess.run(command, cwd=ROOT, env=env, check=False, capture_output=True)  # noqa: S603 - it exits 1 on errors
    with open(f"{prefix}_stats.csv", newline="") as handle:
        stats = list(csv.DictReader(handle))
    with open(f"{prefix}_failures.csv", newline="") as handle:
        failures = list(csv.DictReader(handle))
    return stats, failures


def before_window(folder, users):
    """What the users asked before the measured window (signing in), as figures() gives it; an error if they
    were never all ready, since nothing was then measured."""
    path = folder / "before-window.json"
    if not path.exists():
        never = {"name": "start line", "error": f"the {users} users were not all ready within {READY_SECONDS} s",
                 "occurrences": 1}  # fmt: skip
        return {"seconds": None, "pages": [], "errors": [never]}
    return json.loads(path.read_text())


def milliseconds(text):
    """A time of locust's CSV: empty or N/A where nothing was asked."""
    return float(text) if text not in ("", "N/A") else 0.0


def figures(stats, failures):
    pages = [
        {
            "name": row["Name"], "method": row["Type"], "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]), "median_ms": milliseconds(row["Median Response Time"]),
            "p95_ms": milliseconds(row["95%"]), "max_ms": milliseconds(row["Max Response Time"]),
            "requests_per_s": float(row["Requests/s"] or 0),
        }
        for row in stats
    ]  # fmt: skip
    total = next(page for page in pages if page["name"] == "Aggregated")
    errors = [{"name": f["Name"], "error": f["Error"], "occurrences": int(f["Occurrences"])} for f in failures]
    return {"total": total, "pages": [page for page in pages if page is not total], "errors": errors}


def public_page_copy(database_url, force):
    """Write the public force page, as the site renders it, as a static file under STATIC_ROOT; its address.

    WhiteNoise lists STATIC_ROOT when gunicorn starts, so the file is written before it does.
    """
    render = (
        "from django.conf import settings; from django.test import Client; from pathlib import Path; "
        f"page = Client(HTTP_HOST='127.0.0.1').get('/public/{force}/'); assert page.status_code == 200; "
        f"path = Path(settings.STATIC_ROOT) / '{STATIC_FILE}'; path.parent.mkdir(parents=True, exist_ok=True); "
        "path.write_bytes(page.content); print(len(page.content))"
    )
    size = int(manage(database_url, "shell", "--no-imports", "-c", render).strip().splitlines()[-1])
    return f"/static/{STATIC_FILE}", size


def warm(database_url, redis):
    """Empty the site's Redis database but for the public suppression families, then make every force's
    family that is not there, as the summaries' rebuild does in production
    (incidents.disclosure.prepare_public_cells): kept pages never outlive a run, families (costly) do."""
    import redis as redis_client

    site_cache = redis_client.Redis.from_url(redis)
    for key in site_cache.scan_iter():
        if b":disclosure:" not in key:
            site_cache.delete(key)
    prepare = (
        "from forces.models import Force; from incidents.disclosure import prepare_public_cells; "
        "prepare_public_cells(list(Force.objects.values_list('pk', flat=True)))"
    )
    manage(database_url, "shell", "--no-imports", "-c", prepare, redis=redis)


def run(*, database_url, users, spawn_rate, seconds, force="thames-valley", mix="staff", redis=None):
    """Load the site with `users` of the `mix` for `seconds`; the figures, as figures() gives them.

    The staff mix also has what was asked before the measured window under "before_window"; the public
    mix has the figures of its baseline, the static file, under "baseline".
    """
    key = token(database_url)
    if redis:
        warm(database_url, redis)
    static_path = size = None
    if mix == "public":
        static_path, size = public_page_copy(database_url, force)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-load-") as folder:
            folder = Path(folder)
            common = {"users": users, "spawn_rate": spawn_rate, "seconds": seconds, "key": key, "folder": folder,
                      "force": force, "static_path": static_path or ""}  # fmt: skip
            with open(folder / "gunicorn.log", "w") as log, gunicorn(database_url, log, redis) as host:
                result = figures(*locust(host, classes=MIXES[mix], start_line=mix == "staff", **common))
                if mix == "staff":
                    result["before_window"] = before_window(folder, users)
                if mix == "public":
                    result["baseline"] = figures(*locust(host, classes=BASELINE, **common))
                    result["page_bytes"] = size
            return result
    finally:
        if static_path:
            (ROOT / "staticfiles" / STATIC_FILE).unlink(missing_ok=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mix", choices=sorted(MIXES), default="staff")
    parser.add_argument("--force", default="thames-valley", help="the force of the pages (the demo logins' force)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=int, default=10, help="users started per second")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--reports", type=int, default=1_000_000, help="demo reports seeded first")
    parser.add_argument("--database-url", default=URL)
    parser.add_argument("--reuse", action="store_true", help="keep the database as it is: no reseeding")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--redis", metavar="URL", help="the site's cache (and broker), e.g. redis://127.0.0.1:6379/11")
    arguments = parser.parse_args()
    if not arguments.reuse:
        sys.path.insert(0, str(ROOT / "bench"))
        from fresh_database import fresh_database

        fresh_database(arguments.database_url)
        manage(arguments.database_url, "migrate", "--noinput", "-v0")
        manage(arguments.database_url, "seed_demo", "--reports", str(arguments.reports), "--seed", "1", "-v0")
    load = os.getloadavg()
    result = run(database_url=arguments.database_url, users=arguments.users, spawn_rate=arguments.spawn_rate,
                 seconds=arguments.seconds, mix=arguments.mix, force=arguments.force,
                 redis=arguments.redis)  # fmt: skip
    if arguments.json:
        Path(arguments.json).write_text(json.dumps(result | {"load": load}, indent=2))
    served = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    print(f"{arguments.mix}: {arguments.users} users for {arguments.seconds} s: "
          f"gunicorn {served['workers']} processes × {served['threads']} threads, "
          f"PostgreSQL{', Redis' if arguments.redis else ''}; load average before: {load[0]:.2f}\n")  # fmt: skip
    print("| page | requests | errors | median ms | p95 ms | max ms | requests/s |\n|---|---|---|---|---|---|---|")
    before = result.get("before_window")
    if before:
        for page in before["pages"]:
            times = f"{page['median_ms']:.0f} | {page['p95_ms']:.0f} | {page['max_ms']:.0f}"
            print(f"| {page['method']} {page['name']} (before the window) | {page['requests']:,} | "
                  f"{page['failures']} | {times} | |")  # fmt: skip
    shown = [*(page for page in result["pages"] if page["requests"]), result["total"]]
    if "baseline" in result:
        shown += [*result["baseline"]["pages"]]
    for page in shown:
        times = f"{page['median_ms']:.0f} | {page['p95_ms']:.0f} | {page['max_ms']:.0f}"
        print(f"| {page['method']} {page['name']} | {page['requests']:,} | {page['failures']} | {times} | "
              f"{page['requests_per_s']:.1f} |")  # fmt: skip
    if "baseline" in result:
        page, static = result["total"]["requests_per_s"], result["baseline"]["total"]["requests_per_s"]
        print(f"\npublic page {result['page_bytes']:,} bytes: {page:.1f} requests/s; the static file of its size: "
              f"{static:.1f} requests/s; ratio {page / static:.3f}")  # fmt: skip
    if before:
        print(f"\nEvery user was ready (signed in) {before['seconds']} s after the first started: the window began.")
    errors = result["errors"] + result.get("baseline", {}).get("errors", []) + (before or {}).get("errors", [])
    for error in errors:
        print(f"error: {error['name']}: {error['error']} ({error['occurrences']}×)")
    sys.exit(1 if errors or result["total"]["failures"] else 0)


if __name__ == "__main__":
    main()
