"""What the socket does with each frame a client sends (docs/protocol.md, "Client →
server"): check the frame's fields, call one service or selector, answer.

Each command is ``async def on_<type>(socket, frame)``; ``COMMANDS`` maps a frame's
``type`` to it. The consumer (messaging/consumers.py) has already read the frame,
checked its size and the rate limit, and set the user's language; a service error is
answered here with an error frame (messaging/socket_errors.py). Only ``unavailable``
(Redis or the database down) escapes, for the consumer to answer.
"""

from typing import Protocol

from django.conf import settings
from django.utils.translation import gettext as _

from groups.models import ClosedUserGroup

from . import selectors, services
from .batching import batcher
from .cursors import Action, Cursors
from .database import in_database_thread
from .socket_errors import error_frame, exception_frame


class Socket(Protocol):
    user: object
    cursors: Cursors

    async def send_frame(self, frame: dict) -> None: ...


def _is_seq(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _echo(value) -> str | None:
    """A client-chosen id to repeat in an answer: only a short string is repeated."""
    return value[:100] if isinstance(value, str) else None


def _invalid(field: str, detail: str, **extra) -> dict:
    return error_frame("invalid", detail, fields={field: [detail]}, **extra)


async def _group_for_frame(socket: Socket, frame: dict) -> ClosedUserGroup | None:
    """The socket's own list decides; the service re-checks membership under its lock.

    A group that does not exist and one the user is not in get the same answer.
    """
    slug = frame.get("group")
    group_id = socket.cursors.group_id(slug)
    if group_id is None:
        await socket.send_frame(
            error_frame(
                "not_found",
                _("No such group."),
                group=str(slug)[:80],
                client_id=_echo(frame.get("client_id")),
            )
        )
        return None
    return ClosedUserGroup(pk=group_id, slug=slug)


async def on_ping(socket: Socket, frame: dict) -> None:
    await socket.send_frame({"type": "pong", "id": frame.get("id")})


async def on_sync(socket: Socket, frame: dict) -> None:
    cursors = frame.get("cursors")
    if not isinstance(cursors, dict):
        await socket.send_frame(
            error_frame("bad_frame", _("sync needs 'cursors': {group: last seq seen}."))
        )
        return
    wanted = []
    for slug, cursor in cursors.items():
        group_id = socket.cursors.group_id(slug)
        if group_id is None:
            await socket.send_frame(error_frame("not_found", _("No such group."), group=slug[:80]))
        elif not _is_seq(cursor):
            await socket.send_frame(
                error_frame(
                    "invalid",
                    _("A cursor is the last seq seen: a whole number, 0 or more."),
                    group=slug,
                    fields={"cursors": [slug]},
                )
            )
        else:
            wanted.append((group_id, cursor))
    if not wanted:
        return
    heads = await in_database_thread(selectors.group_heads)(
        group_ids=[group_id for group_id, _cursor in wanted]
    )
    for group_id, cursor in wanted:
        if group_id in socket.cursors and group_id in heads:
            await _sync_group(socket, group_id, cursor, head=heads[group_id])


async def _sync_group(socket: Socket, group_id: int, cursor: int, *, head: int) -> None:
    """Send (cursor, head] in pages, leaving out what this socket already sent."""
    slug = socket.cursors.slug(group_id)
    decision = socket.cursors.on_sync(group_id, cursor, head=head)
    if decision.action is Action.RESYNC:
        await socket.send_frame({"type": "resync_required", "group": slug})
        return
    position = decision.after
    limited = True
    while position < head:
        events = await in_database_thread(selectors.events_after)(
            group_id=group_id,
            user_id=socket.user.pk,
            after=position,
            until=head,
            limit=settings.SYNC_PAGE_SIZE,
        )
        if not events:
            break  # access was lost meanwhile: the revocation is on its way
        position = events[-1]["seq"]
        socket.cursors.sent(group_id, position)
        limited = position < head
        await socket.send_frame(
            {"type": "sync.page", "group": slug, "events": events, "limited": limited}
        )
    if limited:
        await socket.send_frame(
            {"type": "sync.page", "group": slug, "events": [], "limited": False}
        )


async def on_message_post(socket: Socket, frame: dict) -> None:
    client_id = _echo(frame.get("client_id"))
    group = await _group_for_frame(socket, frame)
    if group is None:
        return
    echo = {"client_id": client_id, "group": group.slug}
    reply_to = frame.get("reply_to")
    if reply_to is not None and (not isinstance(reply_to, int) or isinstance(reply_to, bool)):
        await socket.send_frame(
            _invalid("reply_to", _("reply_to is the seq of a message."), **echo)
        )
        return
    attachments = frame.get("attachments") or []
    if not isinstance(attachments, list) or not all(isinstance(a, str) for a in attachments):
        await socket.send_frame(
            _invalid("attachments", _("attachments is a list of upload tokens."), **echo)
        )
        return
    try:
        message, _created = await batcher.post(
            services.Post(
                author=socket.user,
                group=group,
                body=frame.get("body"),
                client_id=frame.get("client_id"),
                kind=frame.get("kind", "text"),
                reply_to_seq=reply_to,
                attachment_tokens=attachments,
                handling={key: frame.get(key) for key in HANDLING_FIELDS},
            )
        )
    except Exception as error:
        await socket.send_frame(exception_frame(error, **echo))
        return
    await socket.send_frame(
        {
            "type": "message.accepted",
            "client_id": str(message.client_id),
            "group": group.slug,
            "seq": message.seq,
        }
    )


async def on_message_retract(socket: Socket, frame: dict) -> None:
    await _seq_action(socket, frame, services.message_retract, "message.retracted.ok", "author")


async def on_receipt_read(socket: Socket, frame: dict) -> None:
    group = await _group_for_frame(socket, frame)
    if group is None:
        return
    try:
        cursor = await in_database_thread(services.receipt_mark_read)(
            user=socket.user, group=group, up_to_seq=frame.get("seq")
        )
    except Exception as error:
        await socket.send_frame(exception_frame(error, group=group.slug))
        return
    await socket.send_frame({"type": "receipt.read.ok", "group": group.slug, "seq": cursor})


async def on_receipt_ack(socket: Socket, frame: dict) -> None:
    await _seq_action(socket, frame, services.receipt_acknowledge, "receipt.ack.ok", "user")


async def _seq_action(socket: Socket, frame: dict, service, ok_type: str, user_kw: str) -> None:
    """A service acting on one event of a group (``seq``); ``user_kw``: its user's name."""
    group = await _group_for_frame(socket, frame)
    if group is None:
        return
    seq = frame.get("seq")
    if not _is_seq(seq):
        await socket.send_frame(_invalid("seq", _("seq must be a whole number."), group=group.slug))
        return
    try:
        await in_database_thread(service)(**{user_kw: socket.user}, group=group, seq=seq)
    except Exception as error:
        await socket.send_frame(exception_frame(error, group=group.slug))
        return
    await socket.send_frame({"type": ok_type, "group": group.slug, "seq": seq})


# The handling code and grading a frame may carry (core/handling.py).
HANDLING_FIELDS = ("handling_code", "handling_conditions", "source_grading", "information_grading")


async def on_message_handling(socket: Socket, frame: dict) -> None:
    """Change a message's handling code or grading: its author or a coordinator."""
    group = await _group_for_frame(socket, frame)
    if group is None:
        return
    seq = frame.get("seq")
    if not _is_seq(seq):
        await socket.send_frame(_invalid("seq", _("seq must be a whole number."), group=group.slug))
        return
    try:
        await in_database_thread(services.message_set_handling)(
            actor=socket.user,
            group=group,
            seq=seq,
            code=frame.get("handling_code"),
            conditions=frame.get("handling_conditions"),
            source=frame.get("source_grading"),
            information=frame.get("information_grading"),
        )
    except Exception as error:
        await socket.send_frame(exception_frame(error, group=group.slug))
        return
    await socket.send_frame({"type": "message.handling.ok", "group": group.slug, "seq": seq})


async def on_attachment_handling(socket: Socket, frame: dict) -> None:
    """Change an attachment's handling code: its uploader or a coordinator."""
    group = await _group_for_frame(socket, frame)
    if group is None:
        return
    token = frame.get("token")
    if not isinstance(token, str) or not token or len(token) > 64:
        await socket.send_frame(
            _invalid("token", _("token is an attachment's upload token."), group=group.slug)
        )
        return
    try:
        await in_database_thread(services.attachment_set_handling)(
            actor=socket.user,
            group=group,
            token=token,
            code=frame.get("handling_code"),
            conditions=frame.get("handling_conditions"),
        )
    except Exception as error:
        await socket.send_frame(exception_frame(error, group=group.slug))
        return
    await socket.send_frame({"type": "attachment.handling.ok", "group": group.slug, "token": token})


async def on_message_release(socket: Socket, frame: dict) -> None:
    await _seq_action(socket, frame, services.message_release, "message.release.ok", "actor")


COMMANDS = {
    "ping": on_ping,
    "sync": on_sync,
    "message.post": on_message_post,
    "message.retract": on_message_retract,
    "message.handling": on_message_handling,
    "message.release": on_message_release,
    "attachment.handling": on_attachment_handling,
    "receipt.read": on_receipt_read,
    "receipt.ack": on_receipt_ack,
}
