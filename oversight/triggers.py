"""Cross-table integrity rules as database triggers, for PostgreSQL and SQLite alike.

A CHECK constraint sees one row only; rules such as "a report's area belongs to the
report's force" span tables. Each rule is one SQL condition over NEW that must hold;
`must_hold` turns it into a migration operation that installs a trigger on whichever
backend runs the migration. A violation raises IntegrityError naming the rule.
"""

from django.db import migrations


def _postgresql(name, table, condition, message, events):
    return [
        f"""
        CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NOT ({condition}) THEN
                RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = '{name}',
                    MESSAGE = '{name}: {message}';
            END IF;
            RETURN NEW;
        END $$;
        """,
        f"CREATE TRIGGER {name} BEFORE {' OR '.join(events)} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}();",
    ]


def _sqlite(name, table, condition, message, events):
    return [
        f"CREATE TRIGGER {name}_{index} BEFORE {event} ON {table} FOR EACH ROW "
        f"WHEN NOT ({condition}) BEGIN SELECT RAISE(ABORT, '{name}: {message}'); END;"
        for index, event in enumerate(events)
    ]


def _drop(vendor, name, table, events):
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {name} ON {table};", f"DROP FUNCTION IF EXISTS {name}();"]
    return [f"DROP TRIGGER IF EXISTS {name}_{index};" for index in range(len(events))]


def must_hold(name, table, condition, message, events=("INSERT", "UPDATE")):
    """A migration operation installing the rule `condition` (SQL over NEW) on `table`."""
    builders = {"postgresql": _postgresql, "sqlite": _sqlite}

    message = message.replace("'", "''")  # the message sits inside an SQL string literal

    def install(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in builders:
            raise NotImplementedError(f"No trigger support for the {vendor} backend.")
        for statement in builders[vendor](name, table, condition, message, events):
            schema_editor.execute(statement)

    def remove(apps, schema_editor):
        for statement in _drop(schema_editor.connection.vendor, name, table, events):
            schema_editor.execute(statement)

    return migrations.RunPython(install, remove)
