"""The websocket at /ws/: one per browser tab, carrying every group of the user.

The socket never trusts the channel layer to be complete: it remembers the last
seq it delivered per group, drops what it already sent and fetches any gap from
the database, so a client sees every event exactly once and in order. See
docs/protocol.md for every frame.
"""

import asyncio
import json
import logging
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from groups.models import ClosedUserGroup

from . import selectors, services
from .realtime import group_channel, user_channel

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_RATE_LIMITED = 4429
CLOSE_TOO_LARGE = 1009


class RateLimiter:
    """A token bucket per user, shared by that user's sockets in this process."""

    buckets: dict[int, list[float]] = {}

    @classmethod
    def allow(cls, user_id: int) -> bool:
        now = time.monotonic()
        burst, rate = settings.WEBSOCKET_RATE_BURST, settings.WEBSOCKET_RATE_PER_SECOND
        tokens, stamp = cls.buckets.get(user_id, (burst, now))
        tokens = min(burst, tokens + (now - stamp) * rate)
        if tokens < 1:
            cls.buckets[user_id] = [tokens, now]
            return False
        cls.buckets[user_id] = [tokens - 1, now]
        return True


def _error(code: str, detail: str, **extra) -> dict:
    return {"type": "error", "code": code, "detail": detail, **extra}


def _validation_detail(error: ValidationError) -> tuple[str, dict]:
    fields = {}
    if hasattr(error, "error_dict"):
        fields = {
            name: [str(m) for e in errors for m in e.messages]
            for name, errors in error.error_dict.items()
        }
    return " ".join(str(m) for m in error.messages), fields


class CugConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        self.user = user
        self.followed: dict[int, str] = {}
        # Per group: this socket has sent every seq in (sent_floor, delivered].
        self.delivered: dict[int, int] = {}
        self.sent_floor: dict[int, int] = {}
        self.rejected_in_a_row = 0
        self.watcher = None
        if user is None or not user.is_authenticated or not user.is_active:
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        groups = await database_sync_to_async(selectors.socket_groups)(user=user)
        self.followed = {group_id: slug for group_id, (slug, _seq) in groups.items()}
        self.delivered = {group_id: seq for group_id, (_slug, seq) in groups.items()}
        self.sent_floor = dict(self.delivered)
        layer = self.channel_layer
        await layer.group_add(user_channel(user.pk), self.channel_name)
        await asyncio.gather(
            *(layer.group_add(group_channel(g), self.channel_name) for g in groups)
        )
        await self.accept()
        await self._send_frame(
            {
                "type": "hello",
                "user": user.username,
                "groups": dict(groups.values()),
                "max_frame_bytes": settings.WEBSOCKET_MAX_FRAME_BYTES,
            }
        )
        if self.scope.get("auth_method") == "session":
            self.watcher = asyncio.create_task(self._watch_session())

    async def disconnect(self, code):
        if self.watcher is not None:
            self.watcher.cancel()
        if getattr(self, "user", None) is None or not self.user.is_authenticated:
            return
        layer = self.channel_layer
        await layer.group_discard(user_channel(self.user.pk), self.channel_name)
        await asyncio.gather(
            *(layer.group_discard(group_channel(g), self.channel_name) for g in self.followed)
        )

    async def _watch_session(self):
        session = self.scope.get("session")
        session_key = getattr(session, "session_key", None)
        while True:
            await asyncio.sleep(settings.WEBSOCKET_SESSION_CHECK_SECONDS)
            valid = await database_sync_to_async(selectors.session_is_valid)(
                session_key=session_key, user_id=self.user.pk
            )
            if not valid:
                await self.close(code=CLOSE_UNAUTHENTICATED)
                return

    # ---- frames from the client -------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        raw = text_data if text_data is not None else (bytes_data or b"")
        if len(raw) > settings.WEBSOCKET_MAX_FRAME_BYTES:
            await self._send_frame(_error("too_large", "Frame too large; the socket is closed."))
            await self.close(code=CLOSE_TOO_LARGE)
            return
        if not RateLimiter.allow(self.user.pk):
            self.rejected_in_a_row += 1
            if self.rejected_in_a_row > settings.WEBSOCKET_RATE_BURST * 3:
                await self.close(code=CLOSE_RATE_LIMITED)
                return
            await self._send_frame(_error("rate_limited", "Too many frames: slow down."))
            return
        self.rejected_in_a_row = 0
        try:
            frame = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            await self._send_frame(_error("bad_json", "The frame is not valid JSON."))
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self._send_frame(
                _error("bad_frame", "A frame is a JSON object with a string 'type'.")
            )
            return
        handler = self.HANDLERS.get(frame["type"])
        if handler is None:
            await self._send_frame(
                _error("unknown_type", f"Unknown frame type {frame['type'][:40]!r}.")
            )
            return
        await handler(self, frame)

    async def _on_ping(self, frame):
        await self._send_frame({"type": "pong", "id": frame.get("id")})

    async def _on_sync(self, frame):
        cursors = frame.get("cursors")
        if not isinstance(cursors, dict):
            await self._send_frame(
                _error("bad_frame", "sync needs 'cursors': {group: last seq seen}.")
            )
            return
        by_slug = {slug: group_id for group_id, slug in self.followed.items()}
        for slug, cursor in cursors.items():
            group_id = by_slug.get(slug)
            if group_id is None:
                await self._send_frame(_error("not_found", "No such group.", group=str(slug)[:80]))
                continue
            if not isinstance(cursor, int) or isinstance(cursor, bool) or cursor < 0:
                await self._send_frame({"type": "resync_required", "group": slug})
                continue
            await self._sync_group(group_id, cursor)

    async def _sync_group(self, group_id: int, cursor: int):
        """Send what the client has not seen, in pages, never a seq twice on this socket.

        This socket has already sent every seq in (sent_floor, delivered]. The client
        says it has seen up to ``cursor``; it gets (cursor, sent_floor] and
        (delivered, head], whichever are not empty, in order.
        """
        slug = self.followed[group_id]
        head = await database_sync_to_async(selectors.group_head)(group_id=group_id)
        if cursor > head:
            await self._send_frame({"type": "resync_required", "group": slug})
            return
        floor, delivered = self.sent_floor[group_id], self.delivered[group_id]
        if cursor >= delivered:
            ranges = [(cursor, head)]
            floor = cursor
        elif cursor >= floor:
            ranges = [(delivered, head)]
        else:
            ranges = [(cursor, floor), (delivered, head)]
            floor = cursor
        ranges = [(low, high) for low, high in ranges if high > low]
        page_size = settings.SYNC_PAGE_SIZE
        pages_sent = 0
        for index, (low, high) in enumerate(ranges):
            position = low
            while position < high:
                events = await database_sync_to_async(selectors.events_after)(
                    group_id=group_id, after=position, limit=page_size, until=high
                )
                if group_id not in self.followed:
                    return  # revoked while catching up
                if not events:
                    break
                position = events[-1]["seq"]
                limited = position < high or index < len(ranges) - 1
                await self.send(
                    text_data=json.dumps(
                        {"type": "sync.page", "group": slug, "events": events, "limited": limited}
                    )
                )
                pages_sent += 1
        if not pages_sent:
            await self._send_frame(
                {"type": "sync.page", "group": slug, "events": [], "limited": False}
            )
        self.sent_floor[group_id] = floor
        self.delivered[group_id] = max(delivered, head)

    async def _fill_gap(self, group_id: int, *, until: int):
        """Send (delivered, until] one event frame at a time, read from the database."""
        slug = self.followed[group_id]
        position = self.delivered[group_id]
        while position < until:
            events = await database_sync_to_async(selectors.events_after)(
                group_id=group_id, after=position, limit=settings.SYNC_PAGE_SIZE, until=until
            )
            if group_id not in self.followed or not events:
                return
            for text in selectors.event_frames_text(slug=slug, events=events):
                await self.send(text_data=text)
            position = events[-1]["seq"]
            self.delivered[group_id] = position

    async def _on_message_post(self, frame):
        client_id = frame.get("client_id")
        group = await self._group_for_frame(frame)
        if group is None:
            return
        reply_to = frame.get("reply_to")
        if reply_to is not None and (not isinstance(reply_to, int) or isinstance(reply_to, bool)):
            await self._send_frame(_error("invalid", "reply_to is a seq.", client_id=client_id))
            return
        attachments = frame.get("attachments") or []
        if not isinstance(attachments, list) or not all(isinstance(a, str) for a in attachments):
            await self._send_frame(
                _error("invalid", "attachments is a list of tokens.", client_id=client_id)
            )
            return
        try:
            message, _created = await database_sync_to_async(services.message_post)(
                author=self.user,
                group=group,
                body=frame.get("body"),
                client_id=client_id,
                kind=frame.get("kind", "text"),
                reply_to_seq=reply_to,
                attachment_tokens=attachments,
            )
        except Exception as error:
            await self._send_service_error(error, client_id=client_id, group=group.slug)
            return
        await self._send_frame(
            {
                "type": "message.accepted",
                "client_id": str(message.client_id),
                "group": group.slug,
                "seq": message.seq,
            }
        )

    async def _on_message_retract(self, frame):
        await self._seq_action(
            frame, services.message_retract, "message.retracted.ok", author_kw="author"
        )

    async def _on_receipt_read(self, frame):
        group = await self._group_for_frame(frame)
        if group is None:
            return
        try:
            cursor = await database_sync_to_async(services.receipt_mark_read)(
                user=self.user, group=group, up_to_seq=frame.get("seq")
            )
        except Exception as error:
            await self._send_service_error(error, group=group.slug)
            return
        await self._send_frame({"type": "receipt.read.ok", "group": group.slug, "seq": cursor})

    async def _on_receipt_ack(self, frame):
        await self._seq_action(
            frame, services.receipt_acknowledge, "receipt.ack.ok", author_kw="user"
        )

    async def _seq_action(self, frame, service, ok_type: str, *, author_kw: str):
        group = await self._group_for_frame(frame)
        if group is None:
            return
        seq = frame.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool):
            await self._send_frame(
                _error("invalid", "seq must be a whole number.", group=group.slug)
            )
            return
        try:
            await database_sync_to_async(service)(**{author_kw: self.user}, group=group, seq=seq)
        except Exception as error:
            await self._send_service_error(error, group=group.slug)
            return
        await self._send_frame({"type": ok_type, "group": group.slug, "seq": seq})

    async def _group_for_frame(self, frame) -> ClosedUserGroup | None:
        slug = frame.get("group")
        group_id = next((g for g, s in self.followed.items() if s == slug), None)
        if group_id is None:
            await self._send_frame(
                _error(
                    "not_found",
                    "No such group.",
                    group=str(slug)[:80],
                    client_id=frame.get("client_id"),
                )
            )
            return None
        return ClosedUserGroup(pk=group_id, slug=slug)

    async def _send_service_error(self, error: Exception, **extra):
        extra = {k: v for k, v in extra.items() if v is not None}
        if isinstance(error, ValidationError):
            detail, fields = _validation_detail(error)
            await self._send_frame(_error("invalid", detail, fields=fields, **extra))
        elif isinstance(error, Http404):
            await self._send_frame(_error("not_found", "No such group.", **extra))
        elif isinstance(error, PermissionDenied):
            await self._send_frame(_error("forbidden", str(error) or "Not allowed.", **extra))
        else:
            logger.exception("websocket action failed")
            await self._send_frame(
                _error("server_error", "Something went wrong; try again.", **extra)
            )

    HANDLERS = {
        "ping": _on_ping,
        "sync": _on_sync,
        "message.post": _on_message_post,
        "message.retract": _on_message_retract,
        "receipt.read": _on_receipt_read,
        "receipt.ack": _on_receipt_ack,
    }

    # ---- messages from the channel layer ----------------------------------------

    async def cug_event(self, message):
        group_id = message["group_id"]
        if group_id not in self.followed:
            return  # a group this socket no longer holds: never leak it
        seq = message["seq"]
        delivered = self.delivered.get(group_id, 0)
        if seq <= delivered:
            return
        if seq == delivered + 1:
            self.delivered[group_id] = seq
            await self.send(text_data=message["text"])
            return
        # A gap: the channel layer lost or reordered something. The database has it.
        await self._fill_gap(group_id, until=seq)

    async def access_revoked(self, message):
        group_id = message["group_id"]
        slug = self.followed.pop(group_id, None)
        self.delivered.pop(group_id, None)
        self.sent_floor.pop(group_id, None)
        await self.channel_layer.group_discard(group_channel(group_id), self.channel_name)
        if slug is not None:
            await self._send_frame({"type": "access.revoked", "group": slug})

    async def access_granted(self, message):
        group_id = message["group_id"]
        row = await database_sync_to_async(selectors.socket_group)(
            user=self.user, group_id=group_id
        )
        if row is None or group_id in self.followed:
            return
        slug, head = row
        await self.channel_layer.group_add(group_channel(group_id), self.channel_name)
        self.followed[group_id] = slug
        self.delivered[group_id] = self.sent_floor[group_id] = head
        await self._send_frame({"type": "access.granted", "group": slug, "seq": head})

    async def access_changed(self, message):
        slug = self.followed.get(message["group_id"])
        if slug is not None:
            await self._send_frame(
                {"type": "access.changed", "group": slug, "role": message["role"]}
            )

    async def receipt_update(self, message):
        if message["group_id"] in self.followed:
            await self._send_frame(message["frame"])

    async def session_ended(self, message):
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _send_frame(self, frame: dict):
        await self.send(text_data=json.dumps(frame))
