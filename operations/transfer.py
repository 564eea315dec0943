"""The end-of-operation transfer to CEN: start it, run it, reconcile it.

Exactly once, across two databases that cannot share a transaction:

- each batch of validated seizures is written to the `cen` database with
  insert-or-update-when-the-content-hash-differs on the provenance key (source system,
  operation code, seizure uuid), and the run's checkpoint (``CenIngestRun``) is moved on
  in the *same* CEN transaction. A batch is either wholly there, checkpoint included, or not at all;
- the platform's ``TransferRun`` only mirrors the checkpoint after the CEN commit.
  A process killed in between leaves CEN ahead of the mirror, never behind it, and
  the next attempt resumes from the CEN checkpoint; anything sent twice is ignored
  by the provenance key (its hash is the same);
- records of seizures no longer validated are removed from CEN, and reconciliation
  checks that CEN holds exactly the operation's validated seizures, by count and by
  content hash, before the operation becomes `transferred`.

The same path serves runs during the operation (``cen_transfer_schedule``, queued by
validations in an operation that sends to CEN as it goes): they never mark the
operation `transferred`; the final transfer after closing does.

Doors: the operation page's button and the REST API call ``cen_transfer_start``
(queues a job for the worker, docs/transfer.md); validations queue
``cen_transfer_schedule``; ``manage.py transfer_to_cen``
calls ``cen_transfer_run_foreground``; the worker's task calls ``cen_transfer_run``.
"""

import datetime
import functools
import hashlib
import itertools
import logging
import os
import signal
import socket
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import Action, audit_record
from core.metrics import TRANSFER_BATCHES, TRANSFER_ROWS
from groups.stream import event_append

from .cen.mapping import (
    RECORD_FIELDS,
    SOURCE_FIELDS,
    SOURCE_SYSTEM,
    cen_record,
    cen_record_json,
    content_hash,
)
from .cen.models import CenIngestRun, CenSeizure
from .models import Operation, Seizure, TransferRun
from .services import _check_coordinator, operation_mark_transferred
from .tasks import run_cen_transfer
from .transfer_selectors import data_quality, has_something_to_send, run_data

logger = logging.getLogger(__name__)

CEN = "cen"
# A progress event at most this often: the run row itself moves on after every batch.
PROGRESS_EVENT_SECONDS = 1.0
# The report keeps this many seizures per list; the counts are always complete.
REPORT_LIST_LIMIT = 10_000
# PostgreSQL takes at most 65,535 parameters in one statement.
MAX_QUERY_PARAMETERS = 60_000

State = TransferRun.State


class TransferBusy(Exception):
    """Another process is running this operation's transfer right now."""

    def __init__(self, run: TransferRun):
        self.run = run
        super().__init__(
            _("A transfer of %(code)s is already running (run #%(run)s).")
            % {"code": run.operation.code, "run": run.pk}
        )


# ---- test aid -------------------------------------------------------------------

CRASH_ENV = "CENCOMM_TRANSFER_CRASH_AT"
CRASH_POINTS = ("before_first_batch", "mid_batch", "between_batches", "before_reconciliation")
_crash_point_hits: dict[str, int] = {}


def transfer_crash_point(point: str) -> None:
    """Test aid for the crash tests: does nothing unless CENCOMM_TRANSFER_CRASH_AT is set.

    With ``CENCOMM_TRANSFER_CRASH_AT=<point>`` (or ``<point>@<n>``) the process kills
    itself with SIGKILL — no cleanup, no rollback handler, as a power cut would —
    the first (or n-th) time the run reaches that point.
    """
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return
    name, _sep, nth = wanted.partition("@")
    if name != point:
        return
    _crash_point_hits[point] = _crash_point_hits.get(point, 0) + 1
    if _crash_point_hits[point] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


# ---- who runs a run ---------------------------------------------------------------


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _run_is_alive(run: TransferRun) -> bool:
    """Is a `running` run still being run by someone?

    On the same host the worker's process id answers at once; elsewhere, a run that
    has shown no progress for CEN_TRANSFER_STALE_SECONDS is taken for dead.
    """
    last_sign = run.heartbeat_at or run.started_at or run.queued_at
    stale_after = datetime.timedelta(seconds=settings.CEN_TRANSFER_STALE_SECONDS)
    if timezone.now() - last_sign > stale_after:
        return False
    host, _sep, pid = run.worker.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        return _process_exists(int(pid))
    return True


def _active_run(operation: Operation) -> TransferRun | None:
    return (
        TransferRun.objects.select_for_update()
        .filter(operation=operation, state__in=TransferRun.ACTIVE_STATES)
        .first()
    )


def _sends_continuously(operation: Operation) -> bool:
    return operation.send_to_cen_continuously and operation.status == Operation.Status.ACTIVE


def _check_transferable(operation: Operation) -> None:
    if operation.status not in (Operation.Status.CLOSED, Operation.Status.TRANSFERRED):
        raise ValidationError(
            {
                "status": _("This operation is %(status)s: close it before transferring it to CEN.")
                % {"status": Operation.Status(operation.status).label.lower()}
            }
        )


def _check_something_to_send(operation: Operation) -> None:
    """A transferred operation goes again only in a follow-up transfer, with something new.

    The command still runs a verifying run on demand (``cen_transfer_run_foreground``).
    """
    if not has_something_to_send(operation=operation):
        raise ValidationError(
            {
                "status": _(
                    "CEN already holds every validated seizure of this operation: there is nothing to transfer."
                )
            }
        )


# ---- starting -----------------------------------------------------------------------


def cen_transfer_start(
    *, operation: Operation, actor, via: str = TransferRun.Via.WEB
) -> TransferRun:
    """Queue a transfer for the worker (the button and the REST API call this).

    Coordinators and staff only. One run per operation at a time: a run that is
    queued or still running refuses a second; a run whose process died is queued
    again and resumes from its CEN checkpoint.
    """
    _check_coordinator(operation=operation, actor=actor)
    with transaction.atomic():
        operation = (
            Operation.objects.select_for_update().select_related("group").get(pk=operation.pk)
        )
        _check_transferable(operation)
        run = _active_run(operation)
        resumed = run is not None
        if run is not None and run.via == TransferRun.Via.CONTINUOUS and run.state == State.QUEUED:
            # Queued while the operation was active: now closed, it is the final transfer.
            run.via = via
            run.started_by = actor
            run.heartbeat_at = timezone.now()
            run.save(update_fields=["via", "started_by", "heartbeat_at"])
        elif run is not None:
            if run.state == State.QUEUED or _run_is_alive(run):
                raise ValidationError(
                    _("A transfer of this operation is already queued or running (run #%(run)s).")
                    % {"run": run.pk}
                )
            run.state = State.QUEUED
            # Queued again now: the page's "waiting for a worker" counts from here.
            run.heartbeat_at = timezone.now()
            run.save(update_fields=["state", "heartbeat_at"])
        else:
            _check_something_to_send(operation)
            run = TransferRun.objects.create(operation=operation, via=via, started_by=actor)
        # The database backend writes the job in this transaction: the worker sees
        # the run and its job together, or neither.
        run_cen_transfer.enqueue(run.pk)
        event_append(group=operation.group, type="transfer.queued", data=run_data(run))
        audit_record(
            actor=actor,
            action=Action.TRANSFER_STARTED,
            group=operation.group,
            target=operation.code,
            data={"run": run.pk, "via": via, "resumed": resumed},
        )
    return run


def cen_transfer_run_foreground(
    *, operation: Operation, batch_size: int | None = None
) -> TransferRun:
    """Run a transfer to completion in this process (``manage.py transfer_to_cen``).

    An operator at the command line needs no role in the group. A queued run, or
    one whose process died, is taken over and resumed; a live one is left alone. An
    active operation that sends to CEN as it goes gets a run during the operation,
    which leaves it active.
    """
    with transaction.atomic():
        operation = (
            Operation.objects.select_for_update().select_related("group").get(pk=operation.pk)
        )
        continuous = _sends_continuously(operation)
        if not continuous:
            _check_transferable(operation)
        run = _active_run(operation)
        if run is not None and run.state == State.RUNNING and _run_is_alive(run):
            raise TransferBusy(run)
        if run is not None and run.via == TransferRun.Via.CONTINUOUS and not continuous:
            run.via = TransferRun.Via.COMMAND
            run.save(update_fields=["via"])
        if run is None:
            run = TransferRun.objects.create(
                operation=operation,
                via=TransferRun.Via.CONTINUOUS if continuous else TransferRun.Via.COMMAND,
            )
            audit_record(
                actor=None,
                action=Action.TRANSFER_STARTED,
                group=operation.group,
                target=operation.code,
                data={"run": run.pk, "via": TransferRun.Via.COMMAND},
            )
    return cen_transfer_run(run=run, batch_size=batch_size)


def cen_transfer_schedule(*, operation_id: int) -> TransferRun | None:
    """Queue a run during the operation, unless one is queued already (validations call it).

    Debounced: the job waits ``CEN_CONTINUOUS_DELAY_SECONDS`` before a worker takes it,
    so a hundred validations in that time make one run. A run already running may have
    read past a seizure validated now: it is asked to queue another when it ends. A
    run whose process died is queued again and resumes from its CEN checkpoint.
    """
    with transaction.atomic():
        operation = (
            Operation.objects.select_for_update().select_related("group").get(pk=operation_id)
        )
        if not _sends_continuously(operation):
            return None
        run = _active_run(operation)
        if run is None:
            return _queue_continuous(operation)
        if run.state == State.RUNNING and not _run_is_alive(run):
            run.state = State.QUEUED
            run.heartbeat_at = timezone.now()
            run.save(update_fields=["state", "heartbeat_at"])
            run_cen_transfer.enqueue(run.pk)
        elif run.state == State.RUNNING and not run.rerun_requested:
            run.rerun_requested = True
            run.save(update_fields=["rerun_requested"])
    return run


def _queue_continuous(operation: Operation) -> TransferRun:
    """The caller holds the operation's row lock and has seen no active run."""
    run = TransferRun.objects.create(operation=operation, via=TransferRun.Via.CONTINUOUS)
    run_after = timezone.now() + datetime.timedelta(seconds=settings.CEN_CONTINUOUS_DELAY_SECONDS)
    # Written in this transaction, like the button's job: run and job together or neither.
    run_cen_transfer.using(run_after=run_after).enqueue(run.pk)
    event_append(group=operation.group, type="transfer.queued", data=run_data(run))
    return run


# ---- running ------------------------------------------------------------------------


def cen_transfer_run(*, run: TransferRun, batch_size: int | None = None) -> TransferRun:
    """Do the work of one run: batches, reconciliation, the operation's new status.

    Safe to call again for the same run: a finished run is returned as it is, a
    run whose process died is resumed from its checkpoint. Raises ``TransferBusy``
    when another live process holds the run.
    """
    claimed = _claim(run.pk)
    if claimed is None:
        return TransferRun.objects.select_related("operation").get(pk=run.pk)
    try:
        return _execute(claimed, batch_size=batch_size or settings.CEN_TRANSFER_BATCH_SIZE)
    except Exception as error:
        logger.exception("CEN transfer run %s failed", claimed.pk)
        return _finish(claimed, reconciliation=None, error=f"{type(error).__name__}: {error}")


def _claim(run_id: int) -> TransferRun | None:
    with transaction.atomic():
        run = (
            TransferRun.objects.select_for_update(of=("self",))
            .select_related("operation__group", "started_by")
            .get(pk=run_id)
        )
        if run.state in (State.RECONCILED, State.FAILED):
            return None
        if run.state == State.RUNNING and _run_is_alive(run):
            raise TransferBusy(run)
        now = timezone.now()
        run.state = State.RUNNING
        run.worker = _worker_id()
        run.heartbeat_at = now
        run.started_at = run.started_at or now
        run.attempts += 1
        run.save(update_fields=["state", "worker", "heartbeat_at", "started_at", "attempts"])
        event_append(group=run.operation.group, type="transfer.started", data=run_data(run))
    return run


@dataclass
class BatchCounts:
    batches_done: int = 0
    sent: int = 0
    inserted: int = 0
    updated: int = 0
    already_present: int = 0
    withdrawn: int = 0


def _execute(run: TransferRun, *, batch_size: int) -> TransferRun:
    operation = run.operation
    transfer_crash_point("before_first_batch")
    attempt_started = time.monotonic()
    validated = Seizure.objects.filter(operation=operation, status=Seizure.Status.VALIDATED)
    left_behind = _left_behind(operation)
    run.validated = validated.count()
    run.left_behind = left_behind["count"]
    run.report = {
        **run.report,
        # Kept from the first attempt: a resumed run still knows where it started.
        "previously_transferred": run.report.get(
            "previously_transferred", operation.status == Operation.Status.TRANSFERRED
        ),
        "left_behind": left_behind,
    }
    TransferRun.objects.filter(pk=run.pk).update(
        validated=run.validated, left_behind=run.left_behind, report=run.report
    )

    checkpoint, _created = CenIngestRun.objects.using(CEN).get_or_create(
        run_id=run.pk,
        defaults={"source_system": SOURCE_SYSTEM, "operation_code": operation.code},
    )
    counts = BatchCounts(
        batches_done=checkpoint.batches_done,
        sent=checkpoint.rows_sent,
        inserted=checkpoint.rows_inserted,
        updated=checkpoint.rows_updated,
        already_present=checkpoint.rows_already_present,
        withdrawn=checkpoint.rows_withdrawn,
    )
    sent_this_attempt = 0
    # What this attempt sent, so reconciliation need not map those seizures again.
    sent_hashes: dict[str, str] = {}
    # The rows this attempt itself wrote, from the very JSON their hashes were made of.
    written_now: set[str] = set()
    last_event_at = None

    def batch_committed(records: list[dict], written: tuple[list, list]) -> None:
        nonlocal sent_this_attempt, last_event_at
        transfer_crash_point("between_batches")
        inserted_uuids, updated_uuids = written
        for record in records:
            sent_hashes[str(record["seizure_uuid"])] = record["content_hash"]
        written_now.update(str(key) for key in (*inserted_uuids, *updated_uuids))
        inserted = len(inserted_uuids)
        counts.batches_done += 1
        counts.sent += len(records)
        counts.inserted += inserted
        counts.updated += len(updated_uuids)
        counts.already_present += len(records) - inserted - len(updated_uuids)
        sent_this_attempt += len(records)
        TRANSFER_BATCHES.labels(operation=operation.code).inc()
        TRANSFER_ROWS.labels(operation=operation.code).inc(inserted)
        elapsed = max(time.monotonic() - attempt_started, 1e-6)
        emit = last_event_at is None or time.monotonic() - last_event_at >= PROGRESS_EVENT_SECONDS
        _mirror_progress(run, counts, rate=sent_this_attempt / elapsed, emit_event=emit)
        if emit:
            last_event_at = time.monotonic()

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
            mapped = [cen_record_json(row, operation_code=operation.code) for row in rows]
            records = [record for record, _canonical in mapped]
            canonicals = [canonical for _record, canonical in mapped]
            if pending is not None:
                batch_committed(pending[1], pending[0].result())
            pending = (writer.submit(records, canonicals, last_seizure_pk=rows[-1]["pk"]), records)
        if pending is not None:
            batch_committed(pending[1], pending[0].result())
    finally:
        writer.close()

    withdrawn = _withdraw(checkpoint, operation)
    counts.withdrawn += len(withdrawn)
    run.report = {
        **run.report,
        "delivered": _delivered(checkpoint),
        "withdrawn": [*run.report.get("withdrawn", []), *withdrawn][:REPORT_LIST_LIMIT],
    }
    TransferRun.objects.filter(pk=run.pk).update(report=run.report)

    transfer_crash_point("before_reconciliation")
    elapsed = max(time.monotonic() - attempt_started, 1e-6)
    _mirror_progress(run, counts, rate=sent_this_attempt / elapsed, emit_event=False)
    reconciliation = cen_reconcile(
        operation=operation, known_hashes=sent_hashes, written_now=written_now
    )
    return _finish(run, reconciliation=reconciliation)


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


def _withdraw(checkpoint: CenIngestRun, operation: Operation) -> list[str]:
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


def _batches(rows: Iterator[dict], size: int) -> Iterator[list[dict]]:
    while batch := list(itertools.islice(rows, size)):
        yield batch


def _write_batch(
    checkpoint: CenIngestRun, records: list[dict], canonicals: list[str], *, last_seizure_pk: int
) -> tuple[list, list]:
    """One CEN transaction: the batch, insert-or-update-when-changed, and the checkpoint.

    Returns the uuids of the rows it inserted and of those it updated (their content
    hash differed: corrected since they reached CEN); the others were already there.
    """
    with transaction.atomic(using=CEN):
        if connections[CEN].vendor == "postgresql":
            inserted, updated = _upsert_postgresql(checkpoint, records, canonicals)
        else:
            inserted, updated = _upsert_portable(checkpoint, records)
        transfer_crash_point("mid_batch")
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


def _upsert_portable(checkpoint: CenIngestRun, records: list[dict]) -> tuple[list, list]:
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
) -> tuple[list, list]:
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


def _mirror_progress(run: TransferRun, counts: BatchCounts, *, rate: float, emit_event: bool):
    run.batches_done = counts.batches_done
    run.sent = counts.sent
    run.inserted = counts.inserted
    run.updated = counts.updated
    run.already_present = counts.already_present
    run.withdrawn = counts.withdrawn
    run.rows_per_second = round(rate, 1)
    run.heartbeat_at = timezone.now()
    with transaction.atomic():
        TransferRun.objects.filter(pk=run.pk).update(
            batches_done=run.batches_done,
            sent=run.sent,
            inserted=run.inserted,
            updated=run.updated,
            already_present=run.already_present,
            withdrawn=run.withdrawn,
            rows_per_second=run.rows_per_second,
            heartbeat_at=run.heartbeat_at,
        )
        if emit_event:
            event_append(group=run.operation.group, type="transfer.progress", data=run_data(run))


def _delivered(checkpoint: CenIngestRun) -> dict:
    """What this run itself brought into CEN, read back from CEN: a follow-up run lists
    only the seizures validated since, however often it was killed and resumed."""
    rows = CenSeizure.objects.using(CEN).filter(ingest_run=checkpoint)
    seizures = [
        {
            "uuid": str(row["seizure_uuid"]),
            "seizure_date": row["seizure_date"].isoformat(),
            "reporting_country": row["reporting_country"],
            "commodity_category": row["commodity_category"],
        }
        for row in rows.order_by("seizure_date", "seizure_uuid").values(
            "seizure_uuid", "seizure_date", "reporting_country", "commodity_category"
        )[:REPORT_LIST_LIMIT]
    ]
    return {"count": rows.count(), "seizures": seizures}


def _left_behind(operation: Operation) -> dict:
    """The seizures that do not go, and why: the coordinator acts on them, even after the
    transfer, and a follow-up transfer sends what was validated since."""
    queryset = (
        Seizure.objects.filter(operation=operation)
        .exclude(status=Seizure.Status.VALIDATED)
        .order_by("seizure_date", "pk")
    )
    seizures = [
        {
            "uuid": str(row["client_uuid"]),
            "status": row["status"],
            "reason": row["rejection_reason"],
            "seizure_date": row["seizure_date"].isoformat(),
            "reporting_country": row["reporting_country"],
            "commodity_category": row["commodity_category"],
        }
        for row in queryset.values(
            "client_uuid",
            "status",
            "rejection_reason",
            "seizure_date",
            "reporting_country",
            "commodity_category",
        )[:REPORT_LIST_LIMIT]
    ]
    by_status = {status: 0 for status in Seizure.Status.values if status != "validated"}
    for status in queryset.values_list("status", flat=True):
        by_status[status] += 1
    return {"count": sum(by_status.values()), "by_status": by_status, "seizures": seizures}


# ---- reconciliation ---------------------------------------------------------------------


@dataclass
class Reconciliation:
    expected: int
    in_cen: int
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    differing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.differing) and (
            self.expected == self.in_cen
        )

    def as_report(self) -> dict:
        return {
            "ok": self.ok,
            "expected": self.expected,
            "in_cen": self.in_cen,
            "missing_count": len(self.missing),
            "unexpected_count": len(self.unexpected),
            "differing_count": len(self.differing),
            "missing": self.missing[:REPORT_LIST_LIMIT],
            "unexpected": self.unexpected[:REPORT_LIST_LIMIT],
            "differing": self.differing[:REPORT_LIST_LIMIT],
        }


def cen_reconcile(
    *,
    operation: Operation,
    known_hashes: dict[str, str] | None = None,
    written_now: set[str] | None = None,
) -> Reconciliation:
    """Does CEN hold exactly the operation's validated seizures, by count and by hash?

    ``known_hashes`` are the records this run just mapped (uuid → hash); every other
    validated seizure is mapped again here. Every CEN row that this attempt did not
    write itself (``written_now``: written from the very JSON its hash was made of) is
    also hashed again from its own columns, so a row changed in CEN behind its hash's
    back is caught as well as a row whose hash differs from ours.
    """
    known_hashes = known_hashes or {}
    written_now = written_now or set()
    expected: dict[str, str] = {}
    validated = Seizure.objects.filter(operation=operation, status=Seizure.Status.VALIDATED)
    unknown = []
    for pk, seizure_uuid in validated.values_list("pk", "client_uuid").iterator(chunk_size=10_000):
        key = str(seizure_uuid)
        if key in known_hashes:
            expected[key] = known_hashes[key]
        else:
            unknown.append(pk)
    for start in range(0, len(unknown), 5000):
        rows = Seizure.objects.filter(pk__in=unknown[start : start + 5000]).values(*SOURCE_FIELDS)
        for row in rows:
            record = cen_record(row, operation_code=operation.code)
            expected[str(record["seizure_uuid"])] = record["content_hash"]

    in_cen_rows = CenSeizure.objects.using(CEN).filter(
        source_system=SOURCE_SYSTEM, operation_code=operation.code
    )
    if _digest_in_cen(operation.code) == _digest(expected):
        # Same count, same uuids, same hashes: no need to bring every pair over.
        in_cen = dict(expected)
    else:
        in_cen = {
            str(seizure_uuid): stored_hash
            for seizure_uuid, stored_hash in in_cen_rows.values_list(
                "seizure_uuid", "content_hash"
            ).iterator(chunk_size=10_000)
        }
    to_check = [key for key in in_cen if key not in written_now]
    altered: set[str] = set()
    for start in range(0, len(to_check), 5000):
        rows = in_cen_rows.filter(seizure_uuid__in=to_check[start : start + 5000]).values(
            *RECORD_FIELDS, "content_hash"
        )
        for row in rows:
            if content_hash(row) != row["content_hash"]:
                altered.add(str(row["seizure_uuid"]))
    differing = {key for key in expected.keys() & in_cen.keys() if expected[key] != in_cen[key]}
    return Reconciliation(
        expected=len(expected),
        in_cen=len(in_cen),
        missing=sorted(expected.keys() - in_cen.keys()),
        unexpected=sorted(in_cen.keys() - expected.keys()),
        differing=sorted(differing | altered),
    )


def _digest(hashes: dict[str, str]) -> tuple[int, str]:
    """Count and sha256 of "uuid:hash" lines in uuid order (the order PostgreSQL sorts uuids in)."""
    text = "\n".join(f"{key}:{hashes[key]}" for key in sorted(hashes))
    return len(hashes), hashlib.sha256(text.encode()).hexdigest()


def _digest_in_cen(operation_code: str) -> tuple[int, str] | None:
    """The same digest computed by PostgreSQL over CEN's rows; None elsewhere."""
    connection = connections[CEN]
    if connection.vendor != "postgresql":
        return None
    table = connection.ops.quote_name(CenSeizure._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), encode(sha256(convert_to(coalesce(string_agg("  # noqa: S608
            "seizure_uuid::text || ':' || content_hash, E'\\n' ORDER BY seizure_uuid), ''),"
            f" 'UTF8')), 'hex') FROM {table} WHERE source_system = %s AND operation_code = %s",
            [SOURCE_SYSTEM, operation_code],
        )
        count, digest = cursor.fetchone()
    return count, digest


# ---- finishing ------------------------------------------------------------------------------


def _finish(
    run: TransferRun, *, reconciliation: Reconciliation | None, error: str = ""
) -> TransferRun:
    operation = run.operation
    reconciled = reconciliation is not None and reconciliation.ok and not error
    report = dict(TransferRun.objects.values_list("report", flat=True).get(pk=run.pk))
    if reconciliation is not None:
        report["reconciliation"] = reconciliation.as_report()
    if error:
        report["error"] = error
    try:
        report["data_quality"] = data_quality(operation=operation)
    except Exception:  # the quality table must never hide the run's own outcome
        logger.exception("data quality for transfer run %s", run.pk)
    with transaction.atomic():
        # The operation's row first, then the run's, in the order every other service
        # takes them (cen_transfer_start, cen_transfer_schedule): no deadlock between them.
        Operation.objects.select_for_update().filter(pk=operation.pk).first()
        run = (
            TransferRun.objects.select_for_update(of=("self",))
            .select_related("operation__group", "started_by")
            .get(pk=run.pk)
        )
        continuous = run.via == TransferRun.Via.CONTINUOUS
        # A run during the operation leaves it active: the final transfer marks it.
        if reconciled and not continuous:
            operation_mark_transferred(operation=operation)
        run.state = State.RECONCILED if reconciled else State.FAILED
        run.finished_at = timezone.now()
        run.report = report
        run.save(update_fields=["state", "finished_at", "report"])
        event_append(group=operation.group, type="transfer.finished", data=run_data(run))
        if run.rerun_requested:
            # Validated while this run ran, perhaps behind its reading: another run.
            operation = Operation.objects.select_related("group").get(pk=operation.pk)
            if _sends_continuously(operation):
                _queue_continuous(operation)
        audit_record(
            actor=run.started_by,
            action=Action.TRANSFER_FINISHED,
            group=operation.group,
            target=operation.code,
            data={
                "run": run.pk,
                "state": run.state,
                "sent": run.sent,
                "inserted": run.inserted,
                "updated": run.updated,
                "already_present": run.already_present,
                "withdrawn": run.withdrawn,
                "left_behind": run.left_behind,
            },
        )
    return run
