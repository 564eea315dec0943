"""Writing the audit trail: one function, called by the services that change things.

The entry joins the caller's transaction, so an action that rolls back leaves no line.
Every entry is sealed into the trail's hash chain as it is inserted
(core/audit_chain.py); ``audit_verify`` walks the chain and ``audit_since`` ships the
trail out as JSON lines.
"""

import contextlib
import contextvars
import datetime

from .audit_chain import ChainBreak, chain_check
from .logging import client_address, request_ip_var
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


# ---- refusals ---------------------------------------------------------------------
#
# The access rule (groups/access.py) decides every refusal on group data; it notes the
# refusal here, and the door that answers it — a page or the REST API (the middleware
# below), the websocket (messaging/consumers.py) — writes the audit line after the
# answer is decided, outside the transaction that the refusal rolled back. One line
# per request or frame, whatever the number of checks it made. Asking for a group
# that does not exist is noted too, so the two cost the same and look the same.

_refusals: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "audit_refusals", default=None
)
REFUSAL_STATUSES = frozenset({403, 404})


def refusal_noting() -> bool:
    """Whether a door is collecting refusals now (the access rule notes only then)."""
    return _refusals.get() is not None


def refusal_note(*, group_id: int | None, target: str, need: str, code: str) -> None:
    """The access rule refused ``need`` on a group (``group_id``: None when no group
    answers to ``target``); ``code``: ``not_found`` or ``forbidden``."""
    noted = _refusals.get()
    if noted is not None:
        # The last one: the refusal the door answers with (an earlier check may only
        # have chosen what to show).
        noted[:] = [{"group_id": group_id, "target": str(target)[:200], "need": need, "code": code}]


@contextlib.contextmanager
def refusals_collected():
    """Collect the refusals noted while the block runs (a request, a socket frame)."""
    noted: list = []
    token = _refusals.set(noted)
    try:
        yield noted
    finally:
        _refusals.reset(token)


def refusal_record(*, actor, door: str, refusal: dict, ip: str | None = None) -> AuditEntry:
    """The audit line of one refusal: who, what, from where (``ip``, or the request's)."""
    entry = audit_entry(
        actor=actor,
        action=Action.ACCESS_REFUSED,
        target=refusal["target"],
        data={
            "door": door,
            "need": refusal["need"],
            "code": refusal["code"],
            **({"path": refusal["path"][:200]} if refusal.get("path") else {}),
        },
    )
    entry.group_id = refusal["group_id"]
    if ip is not None:
        entry.ip = ip
    entry.save()
    return entry


def socket_address(scope: dict) -> str | None:
    """A websocket's client address, as a request's (core.logging.client_address)."""
    peer = (scope.get("client") or (None,))[0]
    headers = dict(scope.get("headers") or ())
    return client_address(peer, headers.get(b"x-forwarded-for", b"").decode("latin-1"))


class RefusalAuditMiddleware:
    """Records the refusal a page or an API request was answered with (403, 404)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with refusals_collected() as noted:
            response = self.get_response(request)
        if noted and response.status_code in REFUSAL_STATUSES:
            door = "api" if request.path.startswith("/api/") else "page"
            user = getattr(request, "user", None)
            refusal_record(actor=user, door=door, refusal={**noted[0], "path": request.path})
        return response
