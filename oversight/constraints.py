"""A unique constraint that PostgreSQL checks on a hash index, for keys that arrive in random order."""

from typing import Any

from django.db import models


class UniqueByHash(models.UniqueConstraint):
    """Unique over its fields, joined by a space (which none of the first fields may hold).

    On PostgreSQL an exclusion constraint over a hash index of the joined text. A B-tree unique
    index of random keys (digests) puts each new key on another page of a large index: copying
    a million reports into the reports table took 20-22 s with it and 15-16 s with the hash
    index instead, which is under half its size. Elsewhere (SQLite) the usual unique index.
    """

    def __eq__(self, other: object) -> bool:
        # A UniqueConstraint of the same fields is another constraint: a migration changes one into the other.
        return type(other) is type(self) and super().__eq__(other)

    def joined_sql(self, model: type[models.Model], schema_editor: Any) -> str:
        """The text the hash index holds, as SQL: a query names this expression to use the index.

        NULL where the condition does not hold, which the index leaves out. As a partial index
        (the condition on the index) PostgreSQL would not use the statistics of the expression,
        and planned a look-up of a few thousand keys as a read of every row.
        """
        columns = (schema_editor.quote_name(model._meta.get_field(name).column) for name in self.fields)
        joined = " || ' ' || ".join(columns)
        condition = self._get_condition_sql(model, schema_editor)
        return f"CASE WHEN {condition} THEN {joined} END" if condition else joined

    def exclusion_sql(self, model: type[models.Model], schema_editor: Any) -> str:
        joined = self.joined_sql(model, schema_editor)
        return f"CONSTRAINT {schema_editor.quote_name(self.name)} EXCLUDE USING hash (({joined}) WITH =)"

    def constraint_sql(self, model: type[models.Model], schema_editor: Any) -> Any:
        if schema_editor.connection.vendor != "postgresql":
            return super().constraint_sql(model, schema_editor)
        return self.exclusion_sql(model, schema_editor)

    def create_sql(self, model: type[models.Model], schema_editor: Any) -> Any:
        if schema_editor.connection.vendor != "postgresql":
            return super().create_sql(model, schema_editor)
        table = schema_editor.quote_name(model._meta.db_table)
        return f"ALTER TABLE {table} ADD {self.exclusion_sql(model, schema_editor)}"

    def remove_sql(self, model: type[models.Model], schema_editor: Any) -> Any:
        if schema_editor.connection.vendor != "postgresql":
            return super().remove_sql(model, schema_editor)
        table = schema_editor.quote_name(model._meta.db_table)
        return f"ALTER TABLE {table} DROP CONSTRAINT {schema_editor.quote_name(self.name)}"
