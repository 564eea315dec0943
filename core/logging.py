"""Structured logs: one JSON object a line, with the request id and the user id.

Message bodies, seizure details and passwords are never logged: log calls pass ids,
never content.
"""

import contextvars
import functools
import ipaddress
import json
import logging
import uuid

from django.conf import settings

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
user_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("user_id", default="-")
# The client's address for the audit trail (set per request and per websocket action).
request_ip_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_ip", default=None
)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.user_id = user_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "user_id": getattr(record, "user_id", "-"),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class RequestContextMiddleware:
    """Tags every log line of a request with its id (from the proxy, or new) and the user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = (
            incoming if 8 <= len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        )
        request_token = request_id_var.set(request_id)
        user = getattr(request, "user", None)
        user_token = user_id_var.set(
            str(user.pk) if user is not None and user.is_authenticated else "-"
        )
        ip_token = request_ip_var.set(client_ip(request.META))
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(request_token)
            user_id_var.reset(user_token)
            request_ip_var.reset(ip_token)
        response["X-Request-ID"] = request_id
        return response


def _address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None


@functools.lru_cache(maxsize=8)
def _networks(
    trusted: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in trusted)


def _is_trusted_proxy(address, trusted: tuple[str, ...]) -> bool:
    return any(address in network for network in _networks(trusted))


def client_address(peer: str | None, forwarded_for: str = "") -> str | None:
    """The client's address, from the connection's peer and its X-Forwarded-For header.

    Every part of the platform that keys on an address (the audit trail, the lockout, the
    API throttles, /metrics' allow-list) asks this one function. The header is anyone's
    to write, so it is read only when the peer is one of TRUSTED_PROXIES; the client is
    then the right-most entry that is not itself a trusted proxy: the address the
    outermost trusted proxy saw. Entries further left were written by the client.
    """
    peer_address = _address(peer)
    if peer_address is None:
        return None
    trusted = tuple(settings.TRUSTED_PROXIES)
    if not forwarded_for or not _is_trusted_proxy(peer_address, trusted):
        return str(peer_address)
    for entry in reversed(forwarded_for.split(",")):
        hop = _address(entry)
        if hop is None:
            # A hop a trusted proxy did not write: nothing further left can be believed.
            return str(peer_address)
        if not _is_trusted_proxy(hop, trusted):
            return str(hop)
        peer_address = hop
    return str(peer_address)


def client_ip(meta: dict) -> str | None:
    """The client's address of a Django request's META (see client_address)."""
    return client_address(meta.get("REMOTE_ADDR"), meta.get("HTTP_X_FORWARDED_FOR", ""))


def request_client_ip(request) -> str | None:
    return client_ip(request.META)
