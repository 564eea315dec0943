"""The socket's `error` frames (docs/protocol.md, "error"), and the one place where an
exception raised by a service becomes one.

Frames are built when they are sent, inside the language the socket speaks, so their
``detail`` is translated like the pages' messages.
"""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _

from core.errors import describe
from core.unavailable import service_unavailable

logger = logging.getLogger(__name__)


def error_frame(code: str, detail: str, **extra) -> dict:
    return {"type": "error", "code": code, "detail": detail, **extra}


def exception_frame(error: BaseException, **extra) -> dict:
    """The error frame that answers a frame whose service raised ``error``.

    ``extra`` (the frame's ``group``, ``client_id``) is repeated when it is not None.
    A group that does not exist and one the user may not see get the same answer.
    """
    extra = {key: value for key, value in extra.items() if value is not None}
    if service_unavailable(error):
        # Redis or the database is down: the client sends the frame again later.
        logger.debug("websocket action refused, a dependency is unavailable: %s", error)
        if "group" in extra:
            extra["group"] = str(extra["group"])[:80]
        return error_frame(
            "unavailable",
            _("The service is busy or its database is unreachable. Please try again shortly."),
            **extra,
        )
    if isinstance(error, ValidationError):
        fields = {}
        if hasattr(error, "error_dict"):
            fields = {
                name: [str(message) for e in errors for message in e.messages]
                for name, errors in error.error_dict.items()
            }
        detail = " ".join(str(message) for message in error.messages)
        return error_frame("invalid", detail, fields=fields, **extra)
    if isinstance(error, Http404):
        return error_frame("not_found", _("No such group."), **extra)
    if isinstance(error, PermissionDenied):
        # A kind of refusal (a read-only group, an observer) is named in ``reason``.
        reason = describe(error).reason
        if reason:
            extra["reason"] = reason
        return error_frame("forbidden", str(error) or _("Not allowed."), **extra)
    logger.error("websocket action failed", exc_info=error)
    return error_frame("server_error", _("Something went wrong; try again."), **extra)
