"""A transfer run's progress: CEN's checkpoint mirrored onto the platform's ``TransferRun``.

CEN's checkpoint is the record; the run row follows it after each batch has committed
in CEN, so a process killed in between leaves the mirror behind CEN, never ahead, and
the next attempt starts its counts from the checkpoint again. The operation's group
hears a ``transfer.progress`` event at most once every ``PROGRESS_EVENT_SECONDS``.
The attempt's own record of what it sent is kept here too, for reconciliation.
"""

import time
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from core.metrics import TRANSFER_BATCHES, TRANSFER_ROWS
from groups.stream import event_append

from .cen.models import CenIngestRun
from .cen_ingest import Written
from .models import TransferRun
from .transfer_selectors import run_data

# A progress event at most this often: the run row itself moves on after every batch.
PROGRESS_EVENT_SECONDS = 1.0


@dataclass
class BatchCounts:
    batches_done: int = 0
    sent: int = 0
    inserted: int = 0
    updated: int = 0
    already_present: int = 0
    withdrawn: int = 0


class TransferProgress:
    """One attempt of a run, from its CEN checkpoint on."""

    def __init__(self, run: TransferRun, checkpoint: CenIngestRun, *, attempt_started: float):
        self.run = run
        self.attempt_started = attempt_started
        self.counts = BatchCounts(
            batches_done=checkpoint.batches_done,
            sent=checkpoint.rows_sent,
            inserted=checkpoint.rows_inserted,
            updated=checkpoint.rows_updated,
            already_present=checkpoint.rows_already_present,
            withdrawn=checkpoint.rows_withdrawn,
        )
        self.sent_this_attempt = 0
        # What this attempt sent, so reconciliation need not map those seizures again.
        self.sent_hashes: dict[str, str] = {}
        # The rows this attempt itself wrote, from the very JSON their hashes were made of.
        self.written_now: set[str] = set()
        self.last_event_at: float | None = None

    def batch_written(self, records: list[dict], written: Written) -> None:
        """A batch and its checkpoint have committed in CEN: the platform follows."""
        inserted_uuids, updated_uuids = written
        for record in records:
            self.sent_hashes[str(record["seizure_uuid"])] = record["content_hash"]
        self.written_now.update(str(key) for key in (*inserted_uuids, *updated_uuids))
        inserted = len(inserted_uuids)
        counts = self.counts
        counts.batches_done += 1
        counts.sent += len(records)
        counts.inserted += inserted
        counts.updated += len(updated_uuids)
        counts.already_present += len(records) - inserted - len(updated_uuids)
        self.sent_this_attempt += len(records)
        operation_code = self.run.operation.code
        TRANSFER_BATCHES.labels(operation=operation_code).inc()
        TRANSFER_ROWS.labels(operation=operation_code).inc(inserted)
        emit = (
            self.last_event_at is None
            or time.monotonic() - self.last_event_at >= PROGRESS_EVENT_SECONDS
        )
        self.mirror(emit_event=emit)
        if emit:
            self.last_event_at = time.monotonic()

    def withdrawn(self, count: int) -> None:
        self.counts.withdrawn += count

    def mirror(self, *, emit_event: bool = False) -> None:
        """The counts onto the run row, with the attempt's rate and a fresh heartbeat."""
        run, counts = self.run, self.counts
        elapsed = max(time.monotonic() - self.attempt_started, 1e-6)
        run.batches_done = counts.batches_done
        run.sent = counts.sent
        run.inserted = counts.inserted
        run.updated = counts.updated
        run.already_present = counts.already_present
        run.withdrawn = counts.withdrawn
        run.rows_per_second = round(self.sent_this_attempt / elapsed, 1)
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
                event_append(
                    group=run.operation.group, type="transfer.progress", data=run_data(run)
                )
