"""The CEN writer: a transfer run's seizures into the `cen` database, exactly once.

Each batch is one CEN transaction: the records, inserted or rewritten when their
content hash differs on the provenance key (source system, operation code, seizure
uuid), and the run's checkpoint (``CenIngestRun``) moved on past the batch. A batch is
either wholly there, checkpoint included, or not at all, so a run killed anywhere
resumes after the checkpoint and anything sent twice is left alone (its hash is the
same). The records of seizures no longer validated leave CEN with their count in the
checkpoint, in one CEN transaction too.

The platform's side of a run (its ``TransferRun``, the group's events) is not written
here: the caller hears of each committed batch through ``on_batch`` and mirrors it.
"""

import functools
import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import connections, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from .cen.mapping import RECORD_FIELDS, SOURCE_FIELDS, SOURCE_SYSTEM, cen_record_json
from .cen.models import CenIngestRun, CenSeizure
from .models import Operation, Seizure

CEN = "cen"
# PostgreSQL takes at most 65,535 parameters in one statement.
MAX_QUERY_PARAMETERS = 60_000

# The uuids a batch inserted and those it rewrote; the others were already there.
Written = tuple[list, list]


def cen_checkpoint(*, run_id: int, operation_code: str) -> CenIngestRun:
    """The run's checkpoint in CEN: made on its first attempt, found again on the next."""
    checkpoint, _created = CenIngestRun.objects.using(CEN).get_or_create(
        run_id=run_id,
        defaults={"source_system": SOURCE_SYSTEM, "operation_code": operation_code},
    )
    return checkpoint


def cen_ingest(
    *,
    checkpoint: CenIngestRun,
    validated: QuerySet[Seizure],
    batch_size: int,
    on_batch: Callable[[list[dict], Written], None],
) -> None:
    """Send the validated seizures after the checkpoint, in batches of ``batch_size``.

    ``on_batch(records, written)`` is called once each batch has committed in CEN,
    in order, on the calling thread.
    """
    operation_code = checkpoint.operation_code
    # One ordered read from the checkpoint on, cut into batches here: a query per batch
    # would scan and sort the operation's validated seizures again each time.
    source = (
        validated.filter(pk__gt=checkpoint.last_seizure_pk)
        .order_by("pk")
        .values(*SOURCE_FIELDS)
        .iterator(chunk_size=batch_size)
    )
    # A caller inside a CEN transaction (a test) keeps every write on its own connection.
    writer = _CenWriter(checkpoint, overlap=not connections[CEN].in_atomic_block)
    pending = None
    try:
        for rows in _batches(source, batch_size):
            mapped = [cen_record_json(row, operation_code=operation_code) for row in rows]
            records = [record for record, _canonical in mapped]
            canonicals = [canonical for _record, canonical in mapped]
            if pending is not None:
                on_batch(pending[1], pending[0].result())
            pending = (writer.submit(records, canonicals, last_seizure_pk=rows[-1]["pk"]), records)
        if pending is not None:
            on_batch(pending[1], pending[0].result())
    finally:
        writer.close()


def cen_withdraw(*, checkpoint: CenIngestRun, operation: Operation) -> list[str]:
    """Remove from CEN the records of the operation's seizures no longer validated here.

    CEN keeps exactly the operation's validated seizures: a seizure taken back from
    validation after it reached CEN leaves it, and comes back if validated again. The
    removal and its count in the checkpoint are one CEN transaction, so a run killed
    and run again counts each removal once. A CEN row of no seizure of this operation
    is not the platform's to remove: reconciliation reports it as unexpected.
    """
    not_validated = {
        str(key)
        for key in Seizure.objects.filter(operation=operation)
        .exclude(status=Seizure.Status.VALIDATED)
        .values_list("client_uuid", flat=True)
    }
    rows = CenSeizure.objects.using(CEN).filter(
        source_system=SOURCE_SYSTEM, operation_code=operation.code
    )
    gone = sorted(
        str(key) for key in rows.values_list("seizure_uuid", flat=True) if str(key) in not_validated
    )
    if not gone:
        return []
    with transaction.atomic(using=CEN):
        removed = 0
        for start in range(0, len(gone), 5000):
            removed += rows.filter(seizure_uuid__in=gone[start : start + 5000]).delete()[0]
        CenIngestRun.objects.using(CEN).filter(pk=checkpoint.pk).update(
            rows_withdrawn=F("rows_withdrawn") + removed, updated_at=timezone.now()
        )
    return gone


class _CenWriter:
    """Writes the batches to CEN one after the other, on a thread of its own.

    The next batch is read and mapped while PostgreSQL commits this one. Only one
    batch is ever in flight, so batches and their checkpoints still commit in order.
    Without ``overlap`` each batch is written at once, on the caller's connection.
    """

    def __init__(self, checkpoint: CenIngestRun, *, overlap: bool):
        self.checkpoint = checkpoint
        self.executor = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="cen-writer") if overlap else None
        )

    def submit(self, records: list[dict], canonicals: list[str], *, last_seizure_pk: int) -> Future:
        if self.executor is not None:
            return self.executor.submit(
                _write_batch, self.checkpoint, records, canonicals, last_seizure_pk=last_seizure_pk
            )
        done: Future = Future()
        done.set_result(
            _write_batch(self.checkpoint, records, canonicals, last_seizure_pk=last_seizure_pk)
        )
        return done

    def close(self) -> None:
        if self.executor is not None:
            # The thread's own connection, closed in the thread that opened it.
            self.executor.submit(connections.close_all).result()
            self.executor.shutdown()


def _batches(rows: Iterator[dict], size: int) -> Iterator[list[dict]]:
    while batch := list(itertools.islice(rows, size)):
        yield batch


def _write_batch(
    checkpoint: CenIngestRun, records: list[dict], canonicals: list[str], *, last_seizure_pk: int
) -> Written:
    """One CEN transaction: the batch, insert-or-update-when-changed, and the checkpoint.

    Returns the uuids of the rows it inserted and of those it updated (their content
    hash differed: corrected since they reached CEN); the others were already there.
    """
    with transaction.atomic(using=CEN):
        inserted, updated = cen_upsert(checkpoint, records, canonicals)
        CenIngestRun.objects.using(CEN).filter(pk=checkpoint.pk).update(
            last_seizure_pk=last_seizure_pk,
            batches_done=F("batches_done") + 1,
            rows_sent=F("rows_sent") + len(records),
            rows_inserted=F("rows_inserted") + len(inserted),
            rows_updated=F("rows_updated") + len(updated),
            rows_already_present=F("rows_already_present")
            + len(records)
            - len(inserted)
            - len(updated),
            updated_at=timezone.now(),
        )
    return inserted, updated


def cen_upsert(checkpoint: CenIngestRun, records: list[dict], canonicals: list[str]) -> Written:
    """A batch's records into CEN, inside the caller's CEN transaction, checkpoint not moved."""
    if connections[CEN].vendor == "postgresql":
        return _upsert_postgresql(checkpoint, records, canonicals)
    return _upsert_portable(checkpoint, records)


def _upsert_portable(checkpoint: CenIngestRun, records: list[dict]) -> Written:
    """The batch's keys and hashes are looked up first (only one run per operation writes
    at a time); new records go in with bulk_create(ignore_conflicts=True) — INSERT OR IGNORE
    on SQLite — and records whose hash differs are rewritten one by one."""
    present = dict(
        CenSeizure.objects.using(CEN)
        .filter(
            source_system=SOURCE_SYSTEM,
            operation_code=checkpoint.operation_code,
            seizure_uuid__in=[record["seizure_uuid"] for record in records],
        )
        .values_list("seizure_uuid", "content_hash")
    )
    now = timezone.now()
    fresh = [
        CenSeizure(ingest_run_id=checkpoint.pk, last_changed_at=now, **record)
        for record in records
        if record["seizure_uuid"] not in present
    ]
    CenSeizure.objects.using(CEN).bulk_create(
        fresh, ignore_conflicts=True, batch_size=MAX_QUERY_PARAMETERS // (len(RECORD_FIELDS) + 4)
    )
    changed = [
        record
        for record in records
        if record["seizure_uuid"] in present
        and present[record["seizure_uuid"]] != record["content_hash"]
    ]
    for record in changed:
        CenSeizure.objects.using(CEN).filter(
            source_system=record["source_system"],
            operation_code=record["operation_code"],
            seizure_uuid=record["seizure_uuid"],
        ).update(last_changed_at=now, **record)
    return [record.seizure_uuid for record in fresh], [record["seizure_uuid"] for record in changed]


@functools.cache
def _postgresql_upsert_sql() -> str:
    connection = connections[CEN]
    quote = connection.ops.quote_name
    fields = [CenSeizure._meta.get_field(name) for name in (*RECORD_FIELDS, "content_hash")]
    columns = ", ".join(quote(field.column) for field in fields)
    shape = ", ".join(f"{quote(field.column)} {field.db_type(connection)}" for field in fields)
    key_names = ("source_system", "operation_code", "seizure_uuid")
    key = ", ".join(quote(name) for name in key_names)
    table = quote(CenSeizure._meta.db_table)
    changes = ", ".join(
        f"{quote(field.column)} = EXCLUDED.{quote(field.column)}"
        for field in fields
        if field.name not in key_names
    )
    changed = quote("last_changed_at")
    return (
        f"INSERT INTO {table} "  # noqa: S608 - names from the model
        f"({columns}, {quote('ingest_run_id')}, {quote('transferred_at')}, {changed}) "
        f"SELECT {columns}, %s, %s, %s FROM json_to_recordset(%s::json) AS batch({shape}) "
        f"ON CONFLICT ({key}) DO UPDATE SET {changes}, {changed} = EXCLUDED.{changed} "
        f"WHERE {table}.{quote('content_hash')} <> EXCLUDED.{quote('content_hash')} "
        # xmax is 0 on a row this statement inserted, set on one it updated.
        f"RETURNING {quote('seizure_uuid')}, (xmax = 0)"
    )


def _upsert_postgresql(
    checkpoint: CenIngestRun, records: list[dict], canonicals: list[str]
) -> Written:
    """Insert-or-update-when-changed in one statement: INSERT … SELECT FROM json_to_recordset(…)
    ON CONFLICT DO UPDATE … WHERE the stored hash differs, RETURNING. The batch travels as the
    records' canonical JSON (already made for their hashes) and PostgreSQL parses it;
    RETURNING says exactly what was new and what was rewritten."""
    payload = ",".join(
        f'{canonical[:-1]},"content_hash":"{record["content_hash"]}"}}'
        for record, canonical in zip(records, canonicals, strict=True)
    )
    now = timezone.now()
    with connections[CEN].cursor() as cursor:
        cursor.execute(_postgresql_upsert_sql(), [checkpoint.pk, now, now, f"[{payload}]"])
        written = cursor.fetchall()
    return [key for key, fresh in written if fresh], [key for key, fresh in written if not fresh]
