"""seed_demo on PostgreSQL: N reports into a fresh database, against a bare COPY baseline.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oversight_bench \
        .venv/bin/python bench/seed_demo.py --reports 1000000

The database named in DATABASE_URL is dropped and created anew. The baseline, measured in
the same run, is a bare COPY of the very rows seed_demo wrote into an unindexed table
without constraints: the floor for writing them at all on this machine.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
from fresh_database import fresh_database

ROOT = Path(__file__).resolve().parent.parent
TABLE = "incidents_useofforcereport"


def manage(*args):
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()

    url = os.environ["DATABASE_URL"]
    fresh_database(url)
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only")
    manage("migrate", "--noinput", "-v0")

    started = time.perf_counter()
    manage(
        "seed_demo", "--reports", str(arguments.reports), "--seed", str(arguments.seed), "--end-month", "2026-10", "-v0"
    )
    seed_seconds = time.perf_counter() - started

    connection = psycopg2.connect(url)
    with connection, connection.cursor() as cursor, tempfile.TemporaryFile("w+") as rows:
        cursor.copy_expert(f"COPY {TABLE} TO STDOUT WITH (FORMAT csv)", rows)
        rows.seek(0)
        cursor.execute(f"CREATE TABLE bench_staging (LIKE {TABLE})")
        started = time.perf_counter()
        cursor.copy_expert("COPY bench_staging FROM STDIN WITH (FORMAT csv)", rows)
        copy_seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_staging")

    print(f"reports                    {arguments.reports:,}")
    print(f"seed_demo                  {seed_seconds:.1f} s ({arguments.reports / seed_seconds:,.0f} reports/s)")
    print(f"baseline: bare COPY        {copy_seconds:.1f} s ({arguments.reports / copy_seconds:,.0f} rows/s)")
    print(f"ratio seed_demo / COPY     {seed_seconds / copy_seconds:.1f}x")


if __name__ == "__main__":
    main()
