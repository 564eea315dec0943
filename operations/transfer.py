"""The transfer of an operation to CEN: a run's life from start to finish.

A ``TransferRun`` is queued (``cen_transfer_start``, ``cen_transfer_schedule``),
claimed by one live process (``cen_transfer_run``), and ends `reconciled` or
`failed`. One run per operation at a time; a run whose process died is taken over
and resumes from its CEN checkpoint. An attempt sends the batches
(``operations/cen_ingest.py``), mirrors their progress onto the run
(``operations/transfer_progress.py``), withdraws what is no longer validated,
reconciles (``operations/reconciliation.py``), and only then marks the operation
`transferred` — exactly once, across two databases that cannot share a transaction
(docs/transfer.md).

Runs during the operation (``cen_transfer_schedule``, queued by validations in an
operation that sends to CEN as it goes) never mark the operation `transferred`; the
final transfer after closing does.

Doors: the operation page's button and the REST API call ``cen_transfer_start``
(queues a job for the worker); validations queue ``cen_transfer_schedule``;
``manage.py transfer_to_cen`` calls ``cen_transfer_run_foreground``; the worker's
task calls ``cen_transfer_run``.
"""

import datetime
import logging
import os
import socket
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import Action, audit_record
from core.errors import Conflict, Invalid
from groups.stream import event_append

from .cen_ingest import cen_checkpoint, cen_ingest, cen_withdraw
from .models import Operation, Seizure, TransferRun
from .reconciliation import Reconciliation, cen_reconcile
from .services import check_coordinator, operation_mark_transferred
from .tasks import run_cen_transfer
from .transfer_progress import TransferProgress
from .transfer_report import REPORT_LIST_LIMIT, delivered, left_behind
from .transfer_selectors import data_quality, has_something_to_send, run_data

logger = logging.getLogger(__name__)

State = TransferRun.State


class TransferBusy(Conflict):
    """Another process is running this operation's transfer right now."""

    def __init__(self, run: TransferRun):
        self.run = run
        super().__init__(
            _("A transfer of %(code)s is already running (run #%(run)s).")
            % {"code": run.operation.code, "run": run.pk}
        )


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
        raise Invalid(
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
        raise Invalid(
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
    check_coordinator(operation=operation, actor=actor)
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
                raise Invalid(
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
        return _attempt(claimed, batch_size=batch_size or settings.CEN_TRANSFER_BATCH_SIZE)
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


def _attempt(run: TransferRun, *, batch_size: int) -> TransferRun:
    """One attempt at a claimed run, from its CEN checkpoint to its end."""
    operation = run.operation
    attempt_started = time.monotonic()
    validated = Seizure.objects.filter(operation=operation, status=Seizure.Status.VALIDATED)
    behind = left_behind(operation)
    run.validated = validated.count()
    run.left_behind = behind["count"]
    run.report = {
        **run.report,
        # Kept from the first attempt: a resumed run still knows where it started.
        "previously_transferred": run.report.get(
            "previously_transferred", operation.status == Operation.Status.TRANSFERRED
        ),
        "left_behind": behind,
    }
    TransferRun.objects.filter(pk=run.pk).update(
        validated=run.validated, left_behind=run.left_behind, report=run.report
    )

    checkpoint = cen_checkpoint(run_id=run.pk, operation_code=operation.code)
    progress = TransferProgress(run, checkpoint, attempt_started=attempt_started)
    cen_ingest(
        checkpoint=checkpoint,
        validated=validated,
        batch_size=batch_size,
        on_batch=progress.batch_written,
    )
    withdrawn = cen_withdraw(checkpoint=checkpoint, operation=operation)
    progress.withdrawn(len(withdrawn))
    run.report = {
        **run.report,
        "delivered": delivered(checkpoint),
        "withdrawn": [*run.report.get("withdrawn", []), *withdrawn][:REPORT_LIST_LIMIT],
    }
    TransferRun.objects.filter(pk=run.pk).update(report=run.report)

    progress.mirror()
    reconciliation = cen_reconcile(
        operation=operation, known_hashes=progress.sent_hashes, written_now=progress.written_now
    )
    return _finish(run, reconciliation=reconciliation)


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
