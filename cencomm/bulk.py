"""Many rows of one model in one statement.

``bulk_insert`` does what ``QuerySet.bulk_create`` does for a plain insert — defaults and
``auto_now_add`` applied, primary keys set on the objects — but on PostgreSQL the rows
travel as one JSON document that the server parses:
``INSERT … SELECT … FROM json_to_recordset(%s)``. ``bulk_create`` builds one array per
column that psycopg quotes value by value in Python, which was the largest cost of
writing a batch of posts (docs/performance.md); ``json.dumps`` does the same work in C.
Other databases get ``bulk_create``.
"""

import datetime
import decimal
import functools
import json
import uuid

from django.db import connections, models


def bulk_insert(objs: list[models.Model], *, using: str = "default") -> list[models.Model]:
    """Insert ``objs`` (all of one model, none saved yet); returns them with their pks."""
    if not objs:
        return objs
    model = type(objs[0])
    connection = connections[using]
    fields = _fields(model)
    if connection.vendor != "postgresql" or fields is None:
        return model._default_manager.using(using).bulk_create(objs)
    rows = [
        {field.column: _value(field, field.pre_save(obj, add=True), connection) for field in fields}
        for obj in objs
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            _insert_sql(model, using), [json.dumps(rows, default=_json_default, ensure_ascii=False)]
        )
        # PostgreSQL returns the rows of INSERT … SELECT in the order they were selected
        # (bulk_create relies on the same); the count is checked all the same.
        pks = cursor.fetchall()
    if len(pks) != len(objs):
        raise RuntimeError(f"bulk_insert: {len(objs)} rows sent, {len(pks)} returned")
    for obj, (pk,) in zip(objs, pks, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = using
    return objs


@functools.cache
def _fields(model) -> tuple[models.Field, ...] | None:
    """The columns to write: every concrete field but an automatic primary key; None
    when a field needs more than plain JSON (a JSONField with its own encoder)."""
    fields = []
    for field in model._meta.local_concrete_fields:
        if field.primary_key and isinstance(field, models.AutoField | models.BigAutoField):
            continue
        if isinstance(field, models.JSONField) and field.encoder is not None:
            return None
        fields.append(field)
    return tuple(fields)


@functools.cache
def _insert_sql(model, using: str) -> str:
    connection = connections[using]
    quote = connection.ops.quote_name
    fields = _fields(model)
    columns = ", ".join(quote(field.column) for field in fields)
    shape = ", ".join(f"{quote(field.column)} {field.db_type(connection)}" for field in fields)
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608 - names from the model
        f"SELECT {columns} FROM json_to_recordset(%s::json) AS batch({shape}) "
        f"RETURNING {quote(model._meta.pk.column)}"
    )


def _value(field: models.Field, value, connection):
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(field, models.JSONField):
        return value  # nested JSON: PostgreSQL reads it as the column's jsonb
    return field.get_db_prep_save(value, connection)


def _json_default(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    # Database adapters (an IP address, say) print as PostgreSQL reads them.
    return str(value)
