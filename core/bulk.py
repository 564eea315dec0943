"""Many rows in one statement.

``bulk_insert`` does what ``QuerySet.bulk_create`` does for a plain insert — defaults and
``auto_now_add`` applied, primary keys set on the objects — but on PostgreSQL the rows
travel as one JSON document that the server parses:
``INSERT … SELECT … FROM json_to_recordset(%s)``. ``bulk_create`` builds one array per
column that psycopg quotes value by value in Python, which was the largest cost of
writing a batch of posts (docs/performance.md); ``json.dumps`` does the same work in C.
Other databases get ``bulk_create``.
"""

import collections
import contextlib
import datetime
import decimal
import functools
import json
import uuid

from django.db import connections, models, transaction

from .audit_chain import chain_seal


def bulk_insert(
    objs: list[models.Model],
    *more: list[models.Model],
    using: str = "default",
    update: tuple[str, list] | None = None,
) -> None:
    """Insert ``objs`` (all of one model, none saved yet) and set their pks.

    ``more``: further lists (each of one model) written in the same statement, and
    ``update``: an ``UPDATE`` (SQL and parameters) run with them — on PostgreSQL one
    statement and one round trip for all (data-modifying ``WITH`` clauses), elsewhere
    one ``bulk_create`` per list. The lists must not refer to each other's new rows.
    """
    lists = [rows for rows in (objs, *more) if rows]
    connection = connections[using]
    if connection.vendor != "postgresql" or any(_fields(type(rows[0])) is None for rows in lists):
        # The audit trail's bulk_create seals its lines into the hash chain itself.
        for rows in lists:
            _bulk_create(rows, using)
        if update is not None:
            with connection.cursor() as cursor:
                cursor.execute(*update)
        return
    chained = [rows for rows in lists if getattr(type(rows[0]), "CHAINED", False)]
    if not chained:
        _json_insert(lists, using=using, update=update)
        return
    # The audit trail's lines are sealed into its hash chain under the chain's lock,
    # held until the transaction that inserts them ends (core/audit_chain.py).
    outer = contextlib.nullcontext() if connection.in_atomic_block else transaction.atomic(using)
    with outer:
        for rows in chained:
            chain_seal(rows, using=using)
        _json_insert(lists, using=using, update=update)


def _json_insert(lists: list[list[models.Model]], *, using: str, update) -> None:
    """The PostgreSQL path of bulk_insert: one statement for all."""
    connection = connections[using]
    if not lists and update is None:
        return
    clauses, selects, params = [], [], []
    for index, rows in enumerate(lists):
        model = type(rows[0])
        fields = _fields(model)
        payload = [
            {f.column: _value(f, _pre_save(f, obj), connection) for f in fields} for obj in rows
        ]
        clauses.append(f"b{index} AS ({_insert_sql(model, using)})")
        selects.append(f"SELECT {index}, pk FROM b{index}")  # noqa: S608 - no user input
        params.append(json.dumps(payload, default=_json_default, ensure_ascii=False))
    if update is not None:
        clauses.append(f"u AS ({update[0]})")
        params.extend(update[1])
    sql = "WITH " + ", ".join(clauses) + " " + (" UNION ALL ".join(selects) or "SELECT 0, 0")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        returned = cursor.fetchall()
    # PostgreSQL returns the rows of INSERT … SELECT in the order they were selected
    # (bulk_create relies on the same); the counts are checked all the same.
    pks: list[list] = [[] for _ in lists]
    for index, pk in returned:
        if lists:
            pks[index].append(pk)
    for rows, keys in zip(lists, pks, strict=True):
        if len(keys) != len(rows):
            raise RuntimeError(f"bulk_insert: {len(rows)} rows sent, {len(keys)} returned")
        for obj, pk in zip(rows, keys, strict=True):
            obj.pk = pk
            obj._state.adding = False
            obj._state.db = using


def _bulk_create(rows: list[models.Model], using: str) -> None:
    """bulk_create, keeping ``auto_now_add`` times the caller already set (see _pre_save)."""
    model = type(rows[0])
    preset = [
        (obj, field, getattr(obj, field.attname))
        for field in model._meta.concrete_fields
        if getattr(field, "auto_now_add", False)
        for obj in rows
        if getattr(obj, field.attname) is not None
    ]
    model._default_manager.using(using).bulk_create(rows)
    restore: dict[tuple, list] = collections.defaultdict(list)
    for obj, field, value in preset:
        if getattr(obj, field.attname) != value:
            setattr(obj, field.attname, value)
            restore[(field.attname, value)].append(obj.pk)
    # One UPDATE per distinct time (a batch shares one).
    for (attname, value), pks in restore.items():
        model._base_manager.using(using).filter(pk__in=pks).update(**{attname: value})


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
        f"RETURNING {quote(model._meta.pk.column)} AS pk"
    )


def _pre_save(field: models.Field, obj):
    """As ``field.pre_save(obj, add=True)``, except that an ``auto_now_add`` time already
    set on the object is kept: a caller that showed the time elsewhere (an event's
    payload) stores the same one."""
    if getattr(field, "auto_now_add", False) and getattr(obj, field.attname) is not None:
        return getattr(obj, field.attname)
    return field.pre_save(obj, add=True)


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
