"""Writing the audit trail: one function, called by the services that change things.

The entry joins the caller's transaction, so an action that rolls back leaves no line.
"""

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
        actor_name=actor.get_username() if authenticated else (data or {}).get("username", ""),
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
