"""The benchmarks' database: dropped and created anew, so every run starts from nothing."""

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
