"""The benchmarks' database: dropped and created anew, so every run starts from nothing (and seeded)."""

import subprocess
import sys
from urllib.parse import urlparse

import psycopg2


def fresh_database(url):
    """Drop and create the database named in `url` (a PostgreSQL DATABASE_URL)."""
    name = urlparse(url).path.lstrip("/")
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        admin.close()


def seeded_database(url, *, reports, seed, root):
    """A fresh database named in `url`, migrated and filled by seed_demo: four forces, 36 months to October 2026."""
    fresh_database(url)
    for command in (
        ["migrate", "--noinput"],
        ["seed_demo", "--reports", str(reports), "--seed", str(seed), "--end-month", "2026-10"],
    ):
        subprocess.run([sys.executable, "manage.py", *command, "-v0"], cwd=root, check=True)
