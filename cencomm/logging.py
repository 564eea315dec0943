"""Structured logs: one JSON object a line, with the request id and the user id.

Message bodies, seizure details and passwords are never logged: log calls pass ids,
never content.
"""

import contextvars
import ipaddress
import json
import logging
import uuid

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


def client_ip(meta: dict) -> str | None:
    """The client's address: the proxy's X-Forwarded-For when behind one, else the peer."""
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    candidate = forwarded.split(",")[-1].strip() if forwarded else meta.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def request_client_ip(request) -> str | None:
    return client_ip(request.META)
