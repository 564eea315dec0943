"""A group's event stream: the one place where events are appended.

Every change a member's client must hear of is an event in its group's stream:
``GroupEvent`` rows numbered by ``seq`` (1, 2, 3 … per group, no gaps), the head
kept in ``ClosedUserGroup.last_seq``. Catch-up replays the rows; live delivery
broadcasts them after commit (core/realtime.py). Every writer — posting, seizures,
spreadsheets, membership, operations, the transfer, the demo — appends here.

The seq is taken by raising the group row's ``last_seq``, which locks the row until
the surrounding transaction commits: a later seq can never commit before an earlier
one, so commit order is seq order. Services that must check something under that
lock (may this author still post? is the group still open?) take the seq first
(``seq_take``, ``seqs_take``), check, write their own rows with it, then append the
event at that seq; everyone else calls ``event_append`` with no seq.

Each event's type is one of ``EventType`` and its data carries exactly the keys the
registry (``EVENT_KEYS``) names for it: a type or a key that is not there is refused
before anything is written. docs/protocol.md lists the same registry (a test checks).
A past event is never rewritten: what changes later (a retraction) is a new event.

Every append also hands its events to ``notify_from_events`` (groups/notifications.py):
alerts and seizure reports reach, after commit, the devices of those who chose them.
"""

from enum import StrEnum

from django.db import connection

from core.bulk import bulk_insert
from core.realtime import broadcast_group_events_on_commit

from .models import ClosedUserGroup, GroupEvent
from .notifications import notify_from_events


class EventType(StrEnum):
    MESSAGE_CREATED = "message.created"
    MESSAGE_RETRACTED = "message.retracted"
    MEMBER_ADDED = "member.added"
    MEMBER_REMOVED = "member.removed"
    MEMBER_ROLE_CHANGED = "member.role_changed"
    GROUP_STATUS = "group.status"
    OPERATION_STATUS = "operation.status"
    OPERATION_SETTINGS = "operation.settings"
    SEIZURE_REPORTED = "seizure.reported"
    SEIZURE_VALIDATED = "seizure.validated"
    SEIZURE_REJECTED = "seizure.rejected"
    SEIZURE_CORRECTED = "seizure.corrected"
    SEIZURE_REVIEW_UNDONE = "seizure.review_undone"
    TRANSFER_QUEUED = "transfer.queued"
    TRANSFER_STARTED = "transfer.started"
    TRANSFER_PROGRESS = "transfer.progress"
    TRANSFER_FINISHED = "transfer.finished"
    HANDLING_CHANGED = "handling.changed"
    HANDLING_RELEASED = "handling.released"


MESSAGE_KEYS = frozenset(
    {
        "seq",
        "kind",
        "author",
        "author_name",
        "country",
        "html",
        "reply_to",
        "client_id",
        "created_at",
        "attachments",
        "handling_code",
        "handling_conditions",
        "source_grading",
        "information_grading",
        "released",
    }
)
MEMBER_KEYS = frozenset({"user", "role"})
REVIEW_KEYS = frozenset({"uuid", "message_seq", "status", "by", "reporter", "seizure"})
TRANSFER_KEYS = frozenset(
    {
        "run",
        "state",
        "via",
        "started_by",
        "queued_at",
        "started_at",
        "finished_at",
        "attempts",
        "validated",
        "sent",
        "inserted",
        "updated",
        "already_present",
        "withdrawn",
        "left_behind",
        "batches_done",
        "rows_per_second",
    }
)

# A message's, an attachment's or a seizure's handling code changed (core/handling.py).
HANDLING_KEYS = frozenset(
    {
        "item",
        "ref",
        "message_seq",
        "by",
        "handling_code",
        "handling_conditions",
        "source_grading",
        "information_grading",
    }
)

# Each type: (the keys its data always carries, the keys it may carry as well).
EVENT_KEYS: dict[EventType, tuple[frozenset[str], frozenset[str]]] = {
    EventType.MESSAGE_CREATED: (MESSAGE_KEYS, frozenset()),
    EventType.MESSAGE_RETRACTED: (frozenset({"message_seq"}), frozenset()),
    EventType.MEMBER_ADDED: (MEMBER_KEYS, frozenset()),
    EventType.MEMBER_REMOVED: (MEMBER_KEYS, frozenset()),
    EventType.MEMBER_ROLE_CHANGED: (MEMBER_KEYS, frozenset()),
    EventType.GROUP_STATUS: (frozenset({"status"}), frozenset()),
    EventType.OPERATION_STATUS: (frozenset({"status"}), frozenset({"reopened"})),
    EventType.OPERATION_SETTINGS: (
        frozenset({"send_to_cen_continuously"}),
        frozenset({"default_handling_code", "default_handling_conditions"}),
    ),
    EventType.SEIZURE_REPORTED: (MESSAGE_KEYS | {"seizure"}, frozenset()),
    EventType.SEIZURE_VALIDATED: (REVIEW_KEYS | {"reason"}, frozenset()),
    EventType.SEIZURE_REJECTED: (REVIEW_KEYS | {"reason"}, frozenset()),
    EventType.SEIZURE_CORRECTED: (REVIEW_KEYS, frozenset()),
    EventType.SEIZURE_REVIEW_UNDONE: (REVIEW_KEYS | {"undone"}, frozenset()),
    EventType.TRANSFER_QUEUED: (TRANSFER_KEYS, frozenset()),
    EventType.TRANSFER_STARTED: (TRANSFER_KEYS, frozenset()),
    EventType.TRANSFER_PROGRESS: (TRANSFER_KEYS, frozenset()),
    EventType.TRANSFER_FINISHED: (TRANSFER_KEYS, frozenset()),
    EventType.HANDLING_CHANGED: (HANDLING_KEYS, frozenset()),
    EventType.HANDLING_RELEASED: (
        frozenset({"item", "ref", "message_seq", "by", "administration"}),
        frozenset(),
    ),
}


class EventRefused(ValueError):
    """An event of a type, or with data, that the registry does not know: a fault in
    the code that appends it, never the user's."""


def event_check(type: str, data: dict) -> EventType:
    """The registered type, if ``data`` carries exactly the keys it should."""
    try:
        known = EventType(type)
    except ValueError:
        raise EventRefused(f"{type!r} is not a registered event type") from None
    required, optional = EVENT_KEYS[known]
    keys = set(data)
    if not required <= keys or not keys <= required | optional:
        missing, extra = sorted(required - keys), sorted(keys - required - optional)
        raise EventRefused(f"{type} data: missing {missing}, not registered {extra}")
    return known


_GROUP = ClosedUserGroup._meta.db_table


def _in_transaction(what: str) -> None:
    if not connection.in_atomic_block:
        # Outside a transaction the lock would end with the UPDATE: seqs could commit
        # out of order, or be lost.
        raise RuntimeError(f"{what} must run inside the service's transaction")


def seq_take(*, group_id: int) -> int:
    """Take the group's next seq; its row stays locked until commit."""
    _in_transaction("seq_take")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_GROUP} SET last_seq = last_seq + 1 WHERE id = %s RETURNING last_seq",  # noqa: S608
            [group_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise ClosedUserGroup.DoesNotExist
    return row[0]


def seqs_take(wanted: dict[int, int]) -> list[tuple[int, int, str]]:
    """Take ``wanted[group_id]`` seqs in each group at once; ``(group_id, new last seq,
    status)`` for each. The rows are locked in id order, so two writers waiting for
    each other's groups cannot deadlock."""
    _in_transaction("seqs_take")
    group_ids = sorted(wanted)
    placeholders = ", ".join(["%s"] * len(group_ids))
    cases = " ".join(["WHEN %s THEN %s"] * len(group_ids))
    increments = [value for group_id in group_ids for value in (group_id, wanted[group_id])]
    if len(group_ids) > 1 and connection.features.has_select_for_update:
        # One statement: the rows locked in id order by the subquery, then updated.
        sql = (
            f"UPDATE {_GROUP} AS g SET last_seq = g.last_seq + CASE g.id {cases} END "  # noqa: S608
            f"FROM (SELECT id FROM {_GROUP} WHERE id IN ({placeholders}) ORDER BY id FOR UPDATE) "
            "AS locked WHERE g.id = locked.id RETURNING g.id, g.last_seq, g.status"
        )
    else:
        sql = (
            f"UPDATE {_GROUP} SET last_seq = last_seq + CASE id {cases} END "  # noqa: S608
            f"WHERE id IN ({placeholders}) RETURNING id, last_seq, status"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, increments + group_ids)
        return cursor.fetchall()


def seqs_give_back(*, group_id: int, last_seq: int) -> None:
    """Lower the head again to ``last_seq`` (still under the lock): seqs taken for
    writes that were then refused are not left as gaps."""
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {_GROUP} SET last_seq = %s WHERE id = %s", [last_seq, group_id])  # noqa: S608


def event_append(
    *,
    group: ClosedUserGroup,
    type: str,
    data: dict,
    seq: int | None = None,
    removes: int | None = None,
) -> GroupEvent:
    """Append one event to the group's stream; it is broadcast after commit.

    ``seq``: one already taken with ``seq_take`` by a caller that checked under the
    lock; by default the next one is taken here. ``removes``: the id of a user this
    event takes out of the group (their sockets drop it on this very event).
    """
    event_check(type, data)
    if seq is None:
        seq = seq_take(group_id=group.pk)
    event = GroupEvent.objects.create(group=group, seq=seq, type=type, data=data)
    group.last_seq = seq
    broadcast_group_events_on_commit([(group.pk, event.as_frame(), removes)])
    notify_from_events([event])
    return event


def event_new(*, group: ClosedUserGroup, seq: int, type: str, data: dict) -> GroupEvent:
    """An event for ``events_append``, checked against the registry, not yet written."""
    event_check(type, data)
    return GroupEvent(group=group, seq=seq, type=type, data=data)


def events_append(
    events: list[GroupEvent],
    *rows: list,
    update: tuple[str, list] | None = None,
    announce_last_only: bool = False,
) -> list[GroupEvent]:
    """Append many events (made with ``event_new``, their seqs taken with ``seqs_take``)
    in one statement, together with the caller's own ``rows`` (and ``update``, see
    core.bulk.bulk_insert). Each is broadcast after commit, in order.

    ``announce_last_only``: broadcast only the last event of each group (a spreadsheet
    import): the sockets see the jump in seq and read the rest from the database, in
    order, like any other gap.
    """
    bulk_insert(events, *rows, update=update)
    heads: dict[int, GroupEvent] = {}
    for event in events:
        event.group.last_seq = max(event.group.last_seq or 0, event.seq)
        heads[event.group_id] = event
    announced = heads.values() if announce_last_only else events
    broadcast_group_events_on_commit(
        [(event.group_id, event.as_frame(), None) for event in announced]
    )
    notify_from_events(events)
    return events


def events_append_together(
    *, group: ClosedUserGroup, entries: list[tuple[str, dict]], rows: tuple = ()
) -> list[GroupEvent]:
    """Append several events to one group on consecutive seqs taken here (a bulk
    service's: many members added, many seizures validated), written in one statement
    with the caller's ``rows``; only the last is announced, the sockets read the rest
    as a gap."""
    [(_group_id, head, _status)] = seqs_take({group.pk: len(entries)})
    first = head - len(entries) + 1
    events = [
        event_new(group=group, seq=first + index, type=type, data=data)
        for index, (type, data) in enumerate(entries)
    ]
    return events_append(events, *rows, announce_last_only=True)
