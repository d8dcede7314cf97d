"""import_uof on PostgreSQL: N generated Met-format rows, first import and re-import, against a bare COPY.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oversight_bench \\
        .venv/bin/python bench/import_uof.py --rows 1000000

The database named in DATABASE_URL is dropped and created anew. The baseline, measured in the
same run, is a bare COPY of the same CSV into an unindexed staging table of text columns.
Peak memory is the import process's maximum resident set size. Each timed step starts after
a CHECKPOINT, so that none pays for the writes the step before left to PostgreSQL.

As in production, the import queues the summary rebuild it causes for the Celery worker
(here Redis database 15, or --redis-db, emptied afterwards, with no worker); the rebuild is then timed
on its own, as `rebuild_summaries` runs it.
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
from fresh_database import fresh_database

ROOT = Path(__file__).resolve().parent.parent
ONS = (
    Path(os.environ.get("SHARED_DATA") or ROOT.parent / "shared" / "data") / "ons"
    / "Local_Authority_District_to_Community_Safety_Partnerships_to_Police_Force_Areas__December_2016__"
    "Lookup_in_England_and_Wales.csv"
)  # fmt: skip


BROKER = "redis://127.0.0.1:6379/{}"


def manage(*args, env=None):
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True, stdout=subprocess.DEVNULL, env=env)


def timed_import(path, redis_db):
    """Seconds and peak resident memory (MB) of one import_uof process."""
    started = time.perf_counter()
    command = [sys.executable, "manage.py", "import_uof", str(path), "--force", "metropolitan", "-v0"]
    queued = os.environ | {"CELERY_BROKER_URL": BROKER.format(redis_db)}
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, env=queued)
    _, status, usage = os.wait4(process.pid, 0)
    if status:
        raise SystemExit(f"import_uof failed with status {status}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def checkpoint(url):
    """Write out what the step before left in PostgreSQL's memory: no timed step pays for another's writes."""
    connection = psycopg2.connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    connection.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--csv", default=str(Path(tempfile.gettempdir()) / "met-bench.csv"))
    parser.add_argument(
        "--keep-csv", action="store_true", help="import the file --csv names if it exists (made by an earlier run)"
    )
    parser.add_argument("--redis-db", type=int, default=15, help="the Redis database the queued rebuild goes to")
    arguments = parser.parse_args()
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only")
    path = Path(arguments.csv)
    if not (arguments.keep_csv and path.is_file()):
        subprocess.run(
            [sys.executable, "bench/met_csv.py", "--rows", str(arguments.rows), "--out", str(path)],
            cwd=ROOT, check=True,
        )  # fmt: skip

    load = os.getloadavg()
    url = os.environ["DATABASE_URL"]
    fresh_database(url)
    manage("migrate", "--noinput", "-v0")
    manage("load_forces", "-v0")
    manage("import_areas", str(ONS), "-v0")

    with path.open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    connection = psycopg2.connect(url)
    with connection, connection.cursor() as cursor, path.open(encoding="utf-8") as rows:
        columns = ", ".join(f"c{i} text" for i in range(len(header)))
        cursor.execute(f"CREATE TABLE bench_staging ({columns})")
        connection.commit()
        checkpoint(url)
        started = time.perf_counter()
        cursor.copy_expert("COPY bench_staging FROM STDIN WITH (FORMAT csv, HEADER true)", rows)
        copy_seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_staging")

    checkpoint(url)
    first, first_memory = timed_import(path, arguments.redis_db)
    checkpoint(url)
    started = time.perf_counter()
    manage("rebuild_summaries", "--force", "metropolitan", "-v0")
    rebuild = time.perf_counter() - started
    checkpoint(url)
    again, again_memory = timed_import(path, arguments.redis_db)
    subprocess.run(["redis-cli", "-n", str(arguments.redis_db), "flushdb"], check=True, stdout=subprocess.DEVNULL)
    n = arguments.rows
    print(f"load average at start         {' '.join(f'{x:.2f}' for x in load)}")
    print(f"rows                          {n:,} ({len(header)} columns, {path.stat().st_size / 1e6:,.0f} MB)")
    print(f"baseline: bare COPY           {copy_seconds:.1f} s ({n / copy_seconds:,.0f} rows/s)")
    print(f"import_uof, first import      {first:.1f} s ({n / first:,.0f} rows/s), peak {first_memory:,.0f} MB")
    print(f"import_uof, same file again   {again:.1f} s ({n / again:,.0f} rows/s), peak {again_memory:,.0f} MB")
    print(f"its summary rebuild (queued)  {rebuild:.1f} s")
    print(f"ratio first import / COPY     {first / copy_seconds:.3f}x")
    print(f"ratio re-import / first       {again / first:.3f}")


if __name__ == "__main__":
    main()
