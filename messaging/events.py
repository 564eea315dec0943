from django.db import connection, transaction

from groups.models import ClosedUserGroup

from .models import GroupEvent
from .realtime import broadcast_group_event_on_commit


def allocate_seq(*, group_id: int) -> int:
    """Take the group's next seq.

    The UPDATE takes the group row's lock and holds it until the surrounding
    transaction commits, so a later seq can never commit before an earlier one.
    """
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


def event_record(*, group: ClosedUserGroup, seq: int, type: str, data: dict) -> GroupEvent:
    """Store the event for a seq already taken with ``allocate_seq``; broadcast after commit."""
    event = GroupEvent.objects.create(group=group, seq=seq, type=type, data=data)
    group.last_seq = seq
    broadcast_group_event_on_commit(group_id=group.pk, frame=event.as_frame())
    return event


def event_append(*, group: ClosedUserGroup, type: str, data: dict) -> GroupEvent:
    """Append one event to the group's stream and broadcast it after commit."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("event_append must run inside the service's transaction")
    return event_record(group=group, seq=allocate_seq(group_id=group.pk), type=type, data=data)
