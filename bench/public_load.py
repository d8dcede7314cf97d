"""A news spike: anonymous readers of one public force page against gunicorn, beside the same gunicorn
serving a static file of the same size, in the same run.

    .venv/bin/python bench/public_load.py --users 200 --seconds 30 --runs 3 \\
        --database-url postgres://postgres@127.0.0.1:5432/oversight_bench_cache

The database must hold seed_demo's data (bench/load.py or bench/dashboard.py seeds one). The site
runs as bench/load.py runs it (gunicorn.conf.py, plain http on 127.0.0.1).
The page is read once to make the static file: its bytes, written into STATIC_ROOT, which whitenoise
serves (as it serves the site's CSS and script). Each run is two locust runs of `--users` readers
(bench/public_readers.py, no pause between requests): the page, then the static file. It prints
requests, requests a second, errors, median and 95th percentile of each, and the page's requests a
second as a share of the static file's, and exits 1 if any request failed.

With --redis (as production: Redis is the cache whenever it is the broker) the workers share the
kept pages and the public suppression families; each run starts with no page kept and every family
made, as the summaries' rebuild makes them in production (bench/load.py's warm). Without it each
worker makes its own family in the first read.
"""

import argparse
import csv
import functools
import os
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import load
from load import ROOT

STATIC_NAME = "bench-public-page.html"


def locust(host, path, *, users, seconds, folder):
    """Readers of one path; (requests, requests a second, failures, median ms, p95 ms)."""
    prefix = folder / path.strip("/").replace("/", "_")
    command = [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "public_readers.py"), "--headless"]
    command += ["--users", str(users), "--spawn-rate", str(users), "--run-time", f"{seconds}s", "--host", host]
    command += ["--csv", str(prefix), "--only-summary", "--stop-timeout", "5", "--loglevel", "WARNING"]
    subprocess.run(command, cwd=ROOT, env=os.environ | {"LOAD_PATH": path}, check=False, capture_output=True)  # noqa: S603
    with open(f"{prefix}_stats.csv", newline="") as handle:
        total = next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")
    return (
        int(total["Request Count"]), float(total["Requests/s"]), int(total["Failure Count"]),
        float(total["Median Response Time"] or 0), float(total["95%"] or 0),
    )  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--force", default="metropolitan")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis", metavar="URL", help="the site's broker and cache, e.g. redis://127.0.0.1:6379/13")
    arguments = parser.parse_args()
    gunicorn = functools.partial(load.gunicorn, redis=arguments.redis)
    page_path = f"/public/{arguments.force}/"
    static_root = ROOT / "staticfiles"
    static_root.mkdir(exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-public-") as folder:
        folder = Path(folder)
        for run in range(1, arguments.runs + 1):
            if arguments.redis:  # every run starts with no page kept, and the families made
                load.warm(arguments.database_url, arguments.redis)
            load_at_start = os.getloadavg()[0]
            with open(folder / "gunicorn.log", "a") as log:
                # A first server only to read the page, so that the static file is there when whitenoise starts.
                with gunicorn(arguments.database_url, log) as host:
                    page = urllib.request.urlopen(host + page_path).read()  # noqa: S310 - our own 127.0.0.1
                (static_root / STATIC_NAME).write_bytes(page)
                with gunicorn(arguments.database_url, log) as host:
                    static = urllib.request.urlopen(f"{host}/static/{STATIC_NAME}").read()  # noqa: S310
                    assert len(static) == len(page), (len(static), len(page))
                    readers = {"users": arguments.users, "seconds": arguments.seconds, "folder": folder}
                    measured = {
                        "page": locust(host, page_path, **readers),
                        "static": locust(host, f"/static/{STATIC_NAME}", **readers),
                    }
            rows.append(measured)
            print(f"run {run}: page {len(page) / 1024:.1f} KB, load average at start {load_at_start:.2f}")
            for name, (requests, per_second, failures, median, p95) in measured.items():
                print(f"  {name:6s} {requests:7,} requests {per_second:7.1f}/s  errors {failures}  "
                      f"median {median:.0f} ms  p95 {p95:.0f} ms")  # fmt: skip
            print(f"  page / static requests a second: {measured['page'][1] / measured['static'][1]:.2f}x")
    (static_root / STATIC_NAME).unlink(missing_ok=True)
    ratios = [row["page"][1] / row["static"][1] for row in rows]
    p95s = [row["page"][4] for row in rows]
    print(f"\n{arguments.users} readers for {arguments.seconds} s, {arguments.runs} runs: page/static "
          f"{min(ratios):.2f}-{max(ratios):.2f}x (median {statistics.median(ratios):.2f}x), "
          f"page p95 {min(p95s):.0f}-{max(p95s):.0f} ms")  # fmt: skip
    sys.exit(1 if any(row[name][2] for row in rows for name in row) else 0)


if __name__ == "__main__":
    main()
