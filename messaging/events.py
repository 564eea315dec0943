from django.db import connection

from core.bulk import bulk_insert
from core.realtime import broadcast_group_event_on_commit, broadcast_group_events_on_commit
from groups.models import ClosedUserGroup

from .models import GroupEvent


def allocate_seq(*, group_id: int) -> int:
    """Take the group's next seq.

    The UPDATE takes the group row's lock and holds it until the surrounding
    transaction commits, so a later seq can never commit before an earlier one.
    Outside a transaction the lock would end with the UPDATE and the event would be
    written in a transaction of its own: seqs could commit out of order, or be lost.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("allocate_seq must run inside the service's transaction")
    table = connection.ops.quote_name(ClosedUserGroup._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_seq = last_seq + 1 WHERE id = %s RETURNING last_seq",  # noqa: S608
            [group_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise ClosedUserGroup.DoesNotExist
    return row[0]


def event_record(
    *, group: ClosedUserGroup, seq: int, type: str, data: dict, removes: int | None = None
) -> GroupEvent:
    """Store the event for a seq already taken with ``allocate_seq``; broadcast after commit.

    ``removes``: the id of a user this event takes out of the group.
    """
    event = GroupEvent.objects.create(group=group, seq=seq, type=type, data=data)
    group.last_seq = seq
    broadcast_group_event_on_commit(group_id=group.pk, frame=event.as_frame(), removes=removes)
    return event


def events_record(events: list[GroupEvent]) -> list[GroupEvent]:
    """Store several events (their seqs already taken) in one statement; broadcast each after commit."""
    bulk_insert(events)
    return events_broadcast(events)


def events_broadcast(events: list[GroupEvent]) -> list[GroupEvent]:
    """Broadcast events stored by the caller, each after commit, in order."""
    for event in events:
        event.group.last_seq = max(event.group.last_seq or 0, event.seq)
    broadcast_group_events_on_commit([(event.group_id, event.as_frame(), None) for event in events])
    return events


def event_append(
    *, group: ClosedUserGroup, type: str, data: dict, removes: int | None = None
) -> GroupEvent:
    """Append one event to the group's stream and broadcast it after commit."""
    return event_record(
        group=group, seq=allocate_seq(group_id=group.pk), type=type, data=data, removes=removes
    )


def allocate_seqs(*, group_id: int, count: int) -> range:
    """Take ``count`` consecutive seqs at once (a spreadsheet import); same lock as allocate_seq."""
    if not connection.in_atomic_block:
        raise RuntimeError("allocate_seqs must run inside the service's transaction")
    table = connection.ops.quote_name(ClosedUserGroup._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_seq = last_seq + %s WHERE id = %s RETURNING last_seq",  # noqa: S608
            [count, group_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise ClosedUserGroup.DoesNotExist
    return range(row[0] - count + 1, row[0] + 1)
