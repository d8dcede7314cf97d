"""manage.py's entry point: a problem the user can cause is one sentence and exit status 1, not a traceback.

Those problems are the configuration (the settings refuse it with ImproperlyConfigured) and the
database: missing, unreachable or not migrated. Any other database error is a fault in the code
and keeps its traceback.
"""

import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.management import execute_from_command_line
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor


def main(argv):
    try:
        execute_from_command_line(argv)
    except ImproperlyConfigured as error:
        stop(str(error))
    except DatabaseError:
        sentence = database_problem()
        if sentence is None:
            raise
        stop(sentence)


def stop(sentence):
    sys.stderr.write(f"Error: {sentence}\n")
    sys.exit(1)


def database_problem():
    """What the user can fix about the database, in one sentence; None when it opens and is migrated."""
    where = database_name()
    try:
        connection.close()
        connection.ensure_connection()
    except DatabaseError as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if connection.vendor == "sqlite":
            return f"The database {where} cannot be opened ({reason}): check that its folder exists and is writable."
        return (
            f"The database {where} cannot be opened ({reason}): check DATABASE_URL, that the server runs and that "
            "the database exists (createdb)."
        )
    executor = MigrationExecutor(connection)
    unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if unapplied:
        return (
            f"The database {where} lacks {len(unapplied)} migration(s) of this version: "
            "run python manage.py migrate first."
        )
    return None


def database_name():
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"file {settings['NAME']}"
    return f"{settings['NAME']!r} on {settings.get('HOST') or 'localhost'}:{settings.get('PORT') or 'default port'}"
