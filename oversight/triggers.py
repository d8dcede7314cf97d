"""Cross-table integrity rules as database triggers, for PostgreSQL and SQLite alike.

A CHECK constraint sees one row only; rules such as "a report's area belongs to the
report's force" span tables. Each rule is one SQL condition over NEW (rows written) or OLD
(rows updated away or deleted, checked after the statement) that must hold; a violation
raises IntegrityError naming the rule.

Some rules stand in for foreign keys: PostgreSQL checks a foreign key with one query per
row, at commit, and on a million-row import that alone took half a minute.

On PostgreSQL a rule runs once per statement over all the rows it wrote (a transition
table), so a COPY of a million rows costs one set-based query, not a million function
calls. SQLite has row triggers only.

The triggers are derived schema: every app drops its rules before `migrate` and installs
them after (see `connect`), because SQLite rebuilds a table to alter it and a trigger on
another table that names it would break the rebuild.
"""

from dataclasses import dataclass

from django.db import connections
from django.db.models.signals import post_migrate, pre_migrate


@dataclass(frozen=True)
class Rule:
    name: str
    table: str
    condition: str  # SQL over NEW that every written row must satisfy
    message: str
    events: tuple = ("INSERT", "UPDATE")
    columns: tuple = ()  # limits SQLite's update trigger to these columns
    rows: str = "NEW"  # or "OLD": the rows as they were, checked after the statement (PostgreSQL only)

    def install_sql(self, vendor):
        message = self.message.replace("'", "''")  # it sits inside an SQL string literal
        if vendor == "postgresql":
            rows_condition = self.condition.replace(f"{self.rows}.", "affected.")
            function = f"""
                CREATE OR REPLACE FUNCTION {self.name}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF EXISTS (SELECT 1 FROM affected WHERE NOT ({rows_condition})) THEN
                        RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = '{self.name}',
                            MESSAGE = '{self.name}: {message}';
                    END IF;
                    RETURN NULL;
                END $$;
            """
            # A transition table is allowed only on a trigger with one event and no column list.
            return [function] + [
                f"CREATE TRIGGER {self.name}_{event.lower()} AFTER {event} ON {self.table} "
                f"REFERENCING {self.rows} TABLE AS affected FOR EACH STATEMENT EXECUTE FUNCTION {self.name}();"
                for event in self.events
            ]
        if vendor == "sqlite":
            if self.rows == "OLD":
                # SQLite has no statement triggers: a row trigger would refuse deleting a
                # referred row even within a transaction that deletes its referrers too (as
                # a test flush does, in any order). Deletes go through the ORM, which keeps
                # references itself (PROTECT, CASCADE); the embedded default does without.
                return []
            of_columns = f" OF {', '.join(self.columns)}" if self.columns else ""
            return [
                f"CREATE TRIGGER {self.name}_{event.lower()} BEFORE {event}{of_columns if event == 'UPDATE' else ''} "
                f"ON {self.table} FOR EACH ROW WHEN NOT ({self.condition}) "
                f"BEGIN SELECT RAISE(ABORT, '{self.name}: {message}'); END;"
                for event in self.events
            ]
        raise NotImplementedError(f"No trigger support for the {vendor} backend.")

    def drop_sql(self, vendor):
        on_table = f" ON {self.table}" if vendor == "postgresql" else ""
        statements = [f"DROP TRIGGER IF EXISTS {self.name}_{event.lower()}{on_table};" for event in self.events]
        return statements + ([f"DROP FUNCTION IF EXISTS {self.name}();"] if vendor == "postgresql" else [])


# A transaction that sets this (SET LOCAL oversight.retention = 'on') may delete audit entries:
# record retention, removing what the trail says about the records it removes.
RETENTION_SETTING = "oversight.retention"


@dataclass(frozen=True)
class AppendOnly:
    """A table whose rows are added and never changed: the audit trail.

    Two ways out, both narrow: a row may lose its reference in `unlinkable` (the user it names
    was deleted; the row keeps their e-mail address), and on PostgreSQL a transaction that sets
    `delete_setting` (SET LOCAL … = 'on') may delete rows, as record retention does. TRUNCATE
    is not guarded: only a test database's reset and a restore use it. SQLite guards updates
    only, because Django resets a test database there with DELETE.
    """

    name: str
    table: str
    columns: tuple  # every column of the table
    unlinkable: str
    delete_setting: str
    message: str

    def install_sql(self, vendor):
        message = self.message.replace("'", "''")
        if vendor == "postgresql":
            return [
                f"""
                CREATE OR REPLACE FUNCTION {self.name}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'DELETE' THEN
                        IF current_setting('{self.delete_setting}', true) = 'on' THEN
                            RETURN OLD;
                        END IF;
                    ELSIF NEW.{self.unlinkable} IS NULL
                        AND to_jsonb(NEW) - '{self.unlinkable}' = to_jsonb(OLD) - '{self.unlinkable}' THEN
                        RETURN NEW;
                    END IF;
                    RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = '{self.name}',
                        MESSAGE = '{self.name}: {message}';
                END $$;
                """,
                f"CREATE TRIGGER {self.name} BEFORE UPDATE OR DELETE ON {self.table} "
                f"FOR EACH ROW EXECUTE FUNCTION {self.name}();",
            ]
        if vendor == "sqlite":
            kept = [column for column in self.columns if column != self.unlinkable]
            unchanged = " AND ".join(f"NEW.{column} IS OLD.{column}" for column in kept)
            return [
                f"CREATE TRIGGER {self.name}_update BEFORE UPDATE ON {self.table} FOR EACH ROW "
                f"WHEN NOT (NEW.{self.unlinkable} IS NULL AND {unchanged}) "
                f"BEGIN SELECT RAISE(ABORT, '{self.name}: {message}'); END;"
            ]
        raise NotImplementedError(f"No trigger support for the {vendor} backend.")

    def drop_sql(self, vendor):
        if vendor == "postgresql":
            return [f"DROP TRIGGER IF EXISTS {self.name} ON {self.table};", f"DROP FUNCTION IF EXISTS {self.name}();"]
        return [f"DROP TRIGGER IF EXISTS {self.name}_update;"]


def _run(rules, using, build):
    connection = connections[using]
    with connection.cursor() as cursor:
        for rule in rules:
            for statement in build(rule, connection.vendor):
                cursor.execute(statement)


def connect(app_config, rules):
    """Drop `rules` before migrations run and install them once they have."""

    def drop(using="default", **kwargs):
        tables = set(connections[using].introspection.table_names())
        _run([rule for rule in rules if rule.table in tables], using, lambda rule, vendor: rule.drop_sql(vendor))

    def install(using="default", **kwargs):
        _run(rules, using, lambda rule, vendor: rule.drop_sql(vendor) + rule.install_sql(vendor))

    pre_migrate.connect(drop, sender=app_config, weak=False)
    post_migrate.connect(install, sender=app_config, weak=False)
