"""Cross-table integrity rules as database triggers, for PostgreSQL and SQLite alike.

A CHECK constraint sees one row only; rules such as "a report's area belongs to the
report's force" span tables. Each rule is one SQL condition over NEW that must hold;
`must_hold` turns it into a migration operation that installs it on whichever backend
runs the migration. A violation raises IntegrityError naming the rule.

On PostgreSQL the rule runs once per statement over all the rows it wrote (a transition
table), so a COPY of a million rows costs one set-based query, not a million function
calls. SQLite has row triggers only.
"""

from django.db import migrations

EVENTS = ("INSERT", "UPDATE")


def _postgresql(name, table, condition, message, events):
    rows_condition = condition.replace("NEW.", "written.")
    statements = [
        f"""
        CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM written WHERE NOT ({rows_condition})) THEN
                RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = '{name}',
                    MESSAGE = '{name}: {message}';
            END IF;
            RETURN NULL;
        END $$;
        """
    ]
    # PostgreSQL allows a transition table only on a trigger with one event and no column list.
    for event in events:
        statements.append(
            f"CREATE TRIGGER {name}_{event.lower()} AFTER {event} ON {table} "
            f"REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION {name}();"
        )
    return statements


def _sqlite(name, table, condition, message, events, columns):
    of_columns = f" OF {', '.join(columns)}" if columns else ""
    return [
        f"CREATE TRIGGER {name}_{event.lower()} BEFORE {event}{of_columns if event == 'UPDATE' else ''} ON {table} "
        f"FOR EACH ROW WHEN NOT ({condition}) BEGIN SELECT RAISE(ABORT, '{name}: {message}'); END;"
        for event in events
    ]


def _drop(vendor, name, table, events):
    triggers = [
        f"DROP TRIGGER IF EXISTS {name}_{event.lower()}" + (f" ON {table}" if vendor == "postgresql" else "")
        for event in events
    ]
    return triggers + ([f"DROP FUNCTION IF EXISTS {name}();"] if vendor == "postgresql" else [])


def must_hold(name, table, condition, message, events=EVENTS, columns=()):
    """A migration operation installing the rule `condition` (SQL over NEW) on `table`.

    `columns` limits the SQLite update trigger to updates of those columns.
    """
    message = message.replace("'", "''")  # the message sits inside an SQL string literal

    def install(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            statements = _postgresql(name, table, condition, message, events)
        elif vendor == "sqlite":
            statements = _sqlite(name, table, condition, message, events, columns)
        else:
            raise NotImplementedError(f"No trigger support for the {vendor} backend.")
        for statement in statements:
            schema_editor.execute(statement)

    def remove(apps, schema_editor):
        for statement in _drop(schema_editor.connection.vendor, name, table, events):
            schema_editor.execute(statement)

    return migrations.RunPython(install, remove)
