"""The error model: what a service refuses, with a stable code, whatever door asked.

Services raise one of these; each door turns it into its own answer in one place:

- REST API and JSON views: ``core.api.exception_handler`` and ``json_error`` give
  ``{"error": {"code", "detail", "fields", "reason"}}`` with the HTTP status below;
- pages: Django shows its 404 and 403 pages (``NotFound`` is an ``Http404``,
  ``Forbidden`` a ``PermissionDenied``); forms show ``Invalid``'s fields;
- the websocket: ``messaging.socket_errors`` sends an ``error`` frame;
- commands: ``command_error`` gives the ``CommandError`` (exit status 1).

Each class has its ``code`` (the contract, listed in docs/api.md and
docs/protocol.md). ``ReadOnly`` and ``ObserverOnly`` are kinds of ``Forbidden``: the
answer keeps the family's code (``forbidden`` on the socket, ``permission_denied`` on
REST, as clients have always seen) and names the kind in ``reason``.

The classes also derive from Django's own exceptions, so that code that catches
``ValidationError``, ``PermissionDenied`` or ``Http404`` keeps working.
"""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _


class DomainError(Exception):
    """Base of the refusals services raise. ``code``: stable; ``status``: HTTP's."""

    code = "error"
    status = 400


class NotFound(DomainError, Http404):
    """No such object — or one the user may not see: the two answer alike."""

    code = "not_found"
    status = 404


class Forbidden(DomainError, PermissionDenied):
    """The user is known to the object but may not do this (their role, its state)."""

    code = "forbidden"
    status = 403


class ReadOnly(Forbidden):
    """The group is read-only: its operation is closed."""

    code = "read_only"


class ObserverOnly(Forbidden):
    """Observers read the group; they do not post."""

    code = "observer"


class Invalid(DomainError, ValidationError):
    """What was sent is wrong; Django's ValidationError, so forms show its fields."""

    code = "invalid"
    status = 400

    def __init__(self, message, code=None, params=None):
        ValidationError.__init__(self, message, code=code, params=params)


class Conflict(DomainError):
    """The request is well formed but clashes with the state (a second run, a race)."""

    code = "conflict"
    status = 409


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429


class Unavailable(DomainError):
    """A dependency (the database, Redis) cannot be reached just now: try again."""

    code = "unavailable"
    status = 503


FAMILIES = (NotFound, Forbidden, Invalid, Conflict, RateLimited, Unavailable)


@dataclass(frozen=True)
class Described:
    """One error as every door answers it."""

    status: int
    code: str  # the family's code: not_found, forbidden, invalid, …
    detail: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    reason: str = ""  # the kind within the family (read_only, observer), when there is one


def _fields(error: ValidationError) -> dict[str, list[str]]:
    if not hasattr(error, "error_dict"):
        return {}
    return {
        ("non_field_errors" if name == "__all__" else name): [str(m) for m in messages]
        for name, messages in error.message_dict.items()
    }


def describe(error: Exception) -> Described | None:
    """The answer for a service's refusal; ``None`` for anything else (a fault)."""
    if isinstance(error, ValidationError):
        fields = _fields(error)
        first = next(iter(fields.values()), None) or error.messages
        return Described(400, Invalid.code, str(first[0]) if first else _("Invalid input."), fields)
    if isinstance(error, Http404):
        return Described(404, NotFound.code, _("Not found."))
    if isinstance(error, PermissionDenied):
        reason = error.code if isinstance(error, Forbidden) and error.code != "forbidden" else ""
        return Described(403, Forbidden.code, str(error) or _("Not allowed."), reason=reason)
    if isinstance(error, DomainError):
        family = next((f for f in FAMILIES if isinstance(error, f)), None)
        code = family.code if family else error.code
        reason = error.code if error.code != code else ""
        return Described(error.status, code, str(error), reason=reason)
    return None


def error_body(code: str, detail: str, *, fields=None, reason: str = "") -> dict:
    """The JSON shape of every error answer (docs/api.md)."""
    body = {"code": code, "detail": detail, "fields": fields or {}}
    if reason:
        body["reason"] = reason
    return {"error": body}


def json_error(
    status: int, code: str, detail: str, *, fields=None, reason: str = ""
) -> JsonResponse:
    return JsonResponse(error_body(code, detail, fields=fields, reason=reason), status=status)


def command_error(error: Exception) -> CommandError:
    """A command's answer to a service's refusal: its message, exit status 1."""
    described = describe(error)
    if described is None:
        raise error
    fields = "; ".join(f"{name}: {' '.join(m)}" for name, m in described.fields.items())
    return CommandError(fields or described.detail)
