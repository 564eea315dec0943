"""Writing the audit trail: one function, called by the services that change things.

The entry joins the caller's transaction, so an action that rolls back leaves no line.
Every entry is sealed into the trail's hash chain as it is inserted
(core/audit_chain.py); ``audit_verify`` walks the chain and ``audit_since`` ships the
trail out as JSON lines.
"""

import datetime

from .audit_chain import ChainBreak, chain_check
from .logging import request_ip_var
from .models import AuditEntry

Action = AuditEntry.Action


def audit_entry(
    *, actor, action: str, group=None, target: str = "", data: dict | None = None
) -> AuditEntry:
    """An entry not saved yet: for services that write several at once (bulk_create)."""
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEntry(
        actor=actor if authenticated else None,
        actor_name=(
            actor.get_username() if authenticated else str((data or {}).get("username", ""))
        )[:150],
        action=action,
        group=group,
        target=str(target)[:200],
        ip=request_ip_var.get(),
        data=data or {},
    )


def audit_record(
    *, actor, action: str, group=None, target: str = "", data: dict | None = None
) -> AuditEntry:
    entry = audit_entry(actor=actor, action=action, group=group, target=target, data=data)
    entry.save()
    return entry


def audit_verify() -> tuple[int, ChainBreak | None]:
    """Walk the whole chain in id order: how many entries, and the first break."""
    entries = AuditEntry.objects.order_by("pk").iterator(chunk_size=2000)
    return chain_check(entries)


def entry_document(entry: AuditEntry) -> dict:
    """One entry as the outside log system receives it (a JSON object)."""
    return {
        "id": entry.pk,
        "at": entry.at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
        "actor_id": entry.actor_id,
        "actor": entry.actor_name,
        "action": entry.action,
        "group_id": entry.group_id,
        "target": entry.target,
        "ip": entry.ip,
        "data": entry.data,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def audit_since(*, after_id: int = 0, since: datetime.datetime | None = None, limit: int = 1000):
    """The next ``limit`` entries after ``after_id`` (and at or after ``since``), in id
    order: ids grow in commit order (the chain's lock), so a reader that asks again
    from the last id it shipped misses nothing."""
    entries = AuditEntry.objects.filter(pk__gt=after_id)
    if since is not None:
        entries = entries.filter(at__gte=since)
    return list(entries.order_by("pk")[:limit])
