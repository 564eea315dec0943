"""The audit trail's hash chain: every entry carries the hash of the one before.

An entry's ``hash`` is SHA-256 over a canonical serialisation of its fields (time,
actor, actor's name, action, group, target, address, data) and ``prev_hash``, the hash
of the entry before it in id order (``GENESIS`` for the first). Changing a field,
removing an entry or slipping one in breaks the chain at that entry, and
``manage.py audit_verify`` names it (``chain_check``).

Appending is serialised: whoever appends takes the chain's lock (a PostgreSQL advisory
lock, held until the transaction ends; SQLite has one writer at a time anyway), reads
the last entry's hash, seals the new entries and inserts them in order. Two processes
appending at once therefore never fork the chain, and ids grow in commit order.
"""

import datetime
import hashlib
import ipaddress
import json
from dataclasses import dataclass

from django.db import connections

GENESIS = "0" * 64
# pg_advisory_xact_lock's key for the chain: any constant the project uses for nothing else.
LOCK_KEY = 0x63656E61756474  # "cenaudt"
HEAD_FUNCTION = "cencomm_audit_chain_head"
# Takes the chain's lock until the transaction ends, then reads the last entry's hash.
# plpgsql runs each query of a VOLATILE function on a fresh snapshot, so the read sees
# whatever the previous holder of the lock committed.
HEAD_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {HEAD_FUNCTION}() RETURNS text AS $$
BEGIN
    PERFORM pg_advisory_xact_lock({LOCK_KEY});
    RETURN (SELECT hash FROM cencomm_auditentry ORDER BY id DESC LIMIT 1);
END;
$$ LANGUAGE plpgsql VOLATILE;
"""  # noqa: S608 - constants only


def _address(value) -> str | None:
    if value in (None, ""):
        return None
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError:
        return str(value)


def _moment(value: datetime.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(datetime.UTC)
    return value.replace(tzinfo=None).isoformat(timespec="microseconds")


def canonical(entry, prev_hash: str) -> bytes:
    """The bytes an entry's hash is taken over: its fields as the database gives them
    back (an address in one spelling, data with sorted keys), and the previous hash."""
    fields = {
        "at": _moment(entry.at),
        "actor": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": str(entry.action),
        "group": entry.group_id,
        "target": entry.target,
        "ip": _address(entry.ip),
        "data": entry.data,
        "prev": prev_hash,
    }
    return json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode()


def entry_hash(entry, prev_hash: str) -> str:
    return hashlib.sha256(canonical(entry, prev_hash)).hexdigest()


def chain_seal(entries: list, *, using: str = "default") -> None:
    """Give ``entries`` (not saved yet, in the order they will be inserted) their
    ``prev_hash`` and ``hash``, under the chain's lock. The caller inserts them in the
    same transaction, right after."""
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("The audit chain is sealed inside the transaction that inserts.")
    if connection.vendor == "postgresql":
        # One round trip: the function takes the lock, then reads the last hash with a
        # snapshot of its own, taken after the lock (migration 0006).
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {HEAD_FUNCTION}()")
            prev = cursor.fetchone()[0] or GENESIS
    else:
        model = type(entries[0])
        prev = (
            model._base_manager.using(using).order_by("-pk").values_list("hash", flat=True).first()
            or GENESIS
        )
    for entry in entries:
        # JSON as the database gives it back: tuples become lists.
        entry.data = json.loads(json.dumps(entry.data or {}))
        entry.prev_hash = prev
        entry.hash = prev = entry_hash(entry, prev)


@dataclass(frozen=True)
class ChainBreak:
    """Where the chain first breaks: the entry named, and what happened to it."""

    entry_id: int
    kind: str  # "changed", "inserted", "removed"
    after_id: int | None = None

    def describe(self) -> str:
        if self.kind == "changed":
            return f"entry #{self.entry_id} was changed: its hash no longer matches its content."
        if self.kind == "inserted":
            return f"entry #{self.entry_id} was inserted: no entry of the chain leads to it."
        after = f"#{self.after_id}" if self.after_id is not None else "the start"
        return (
            f"the chain breaks between {after} and #{self.entry_id}: entries were removed "
            f"there (or the entry before #{self.entry_id} was rewritten with a new hash)."
        )


def _links(entry, before) -> bool:
    return entry.prev_hash == (before.hash if before is not None else GENESIS)


def _break_at(entry, before, before2, after) -> ChainBreak | None:
    """Whether the chain breaks at ``entry``, given its neighbours in id order
    (``before2``, ``before``, ``entry``, ``after``; None past either end)."""
    sound = entry_hash(entry, entry.prev_hash) == entry.hash
    linked = _links(entry, before)
    if sound and linked:
        return None
    skipped = after is not None and _links(after, before)
    if skipped or (after is None and not sound and not linked):
        return ChainBreak(entry.pk, "inserted")
    if not sound:
        return ChainBreak(entry.pk, "changed")
    if before is not None and _links(entry, before2):
        # ``before`` was slipped in with a hash of its own, linked to the entry before it.
        return ChainBreak(before.pk, "inserted")
    return ChainBreak(entry.pk, "removed", after_id=before.pk if before is not None else None)


def chain_check(entries) -> tuple[int, ChainBreak | None]:
    """Walk ``entries`` (in id order) and return how many were checked and the first
    break, if any."""
    window: list = [None, None]  # the two entries before the one being checked
    pending = None
    count = 0
    for entry in entries:
        if pending is not None:
            found = _break_at(pending, window[1], window[0], entry)
            if found is not None:
                return count, found
            window = [window[1], pending]
        pending = entry
        count += 1
    if pending is not None:
        found = _break_at(pending, window[1], window[0], None)
        if found is not None:
            return count, found
    return count, None
