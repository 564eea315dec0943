"""The websocket at /ws/: one per browser tab, carrying every group of the user.

The socket never trusts the channel layer to be complete: it remembers the last
seq it delivered per group, drops what it already sent and fetches any gap from
the database, so a client sees every event exactly once and in seq order. See
docs/protocol.md for every frame.

Neither Redis nor the database going away ends a socket. While one is down, a frame
that needs it is answered with an `unavailable` error (the client sends it again
later); the socket's own work that needs it (filling a gap, re-checking its session)
is tried again a little later. When Redis is back the socket rejoins its channel
groups and re-reads from the database what a lost notice would have told it.
"""

import asyncio
import contextlib
import functools
import json
import logging
import time

from autobahn.exception import Disconnected
from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext as _

from core.fanout import Inbox, backoff, fanout
from core.metrics import EVENTS_DELIVERED, FANOUT_SECONDS, GAPS_FILLED, SOCKETS
from core.realtime import user_channel
from core.unavailable import redis_unavailable, service_unavailable
from groups.models import ClosedUserGroup
from groups.selectors import user_language
from groups.sessions import session_channel, session_extend

from . import selectors, services
from .auth import close_unavailable
from .batching import batcher
from .database import in_database_thread

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_RATE_LIMITED = 4429
# 1009 is the protocol's own code for a message too big, which only the websocket
# layer may send; an application closes with codes from 4000 (daphne refuses 1009,
# closes with 1011 and logs an error instead).
CLOSE_TOO_LARGE = 4413

# How long live events of a group wait for the client's first `sync` of it (the
# default when settings.WEBSOCKET_SYNC_GRACE_SECONDS is not set).
DEFAULT_SYNC_GRACE_SECONDS = 5.0

# Frames that are the person's own doing: they count as activity for the session's
# idle timeout. Pings and syncs are sent by the client program on its own.
ACTIVITY_FRAMES = {"message.post", "message.retract", "receipt.read", "receipt.ack"}

# Waits before the socket tries again what failed because Redis or the database was
# down (each with up to 50 % of jitter: every socket of a process fails together).
RETRY_SECONDS = (0.5, 1.0, 2.0, 4.0, 8.0)


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


def _is_seq(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _echo(value) -> str | None:
    """A client-chosen id to repeat in an answer: only a short string is repeated."""
    return value[:100] if isinstance(value, str) else None


def _validation_detail(error: ValidationError) -> tuple[str, dict]:
    fields = {}
    if hasattr(error, "error_dict"):
        fields = {
            name: [str(m) for e in errors for m in e.messages]
            for name, errors in error.error_dict.items()
        }
    return " ".join(str(m) for m in error.messages), fields


def _socket_start(*, user, chosen_language):
    """What a socket reads when it connects, in one trip to the database thread: its
    groups, and the language its error frames speak (as the pages do)."""
    return selectors.socket_groups(user=user), user_language(user=user, chosen=chosen_language)


def _credentials_valid(*, auth_method, session_key, token_key, user_id) -> bool:
    if auth_method == "session":
        return selectors.session_is_valid(session_key=session_key, user_id=user_id)
    return selectors.token_is_valid(key=token_key, user_id=user_id)


def _recheck(*, user, auth_method, session_key, token_key):
    """After Redis was lost, in one trip: is the credential still valid, and which
    groups does the user hold now (a removal or an addition may have gone unheard)."""
    valid = _credentials_valid(
        auth_method=auth_method, session_key=session_key, token_key=token_key, user_id=user.pk
    )
    return valid, (selectors.socket_groups(user=user) if valid else {})


def _sync_grace_seconds() -> float:
    return float(getattr(settings, "WEBSOCKET_SYNC_GRACE_SECONDS", DEFAULT_SYNC_GRACE_SECONDS))


class CugConsumer(AsyncWebsocketConsumer):
    """Per group the socket keeps:

    - ``delivered``: nothing at or below it is sent any more;
    - ``floor``: everything this socket has sent is above it (``floor == delivered``
      means nothing was sent yet);
    - whether it is ``live``: live events of a group go out only once the client has
      synced it (or the grace has passed), so that catch-up and live events leave in
      seq order.

    Group events come from the process's fan-out into the socket's own inbox;
    messages for the user or the session (access changes, session ended) come
    through the channel layer. Both are handled one at a time, in arrival order.
    """

    async def __call__(self, scope, receive, send):
        """As channels' AsyncConsumer.__call__, with the group events as a third source.

        Frames from the client, channel-layer messages and group events all go into
        the socket's one inbox and are handled one at a time, in arrival order. One
        wait per wake-up, rather than channels' ``await_many_dispatch`` (which sets up
        a wait on every source and a new task for each message): measured on the hot
        path at thousands of events a second (docs/performance.md).
        """
        self.scope = scope
        self.inbox = Inbox()
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = await self.channel_layer.new_channel()
        self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
        self.base_send = send
        self.user = None
        self.closing = False
        self.session_group = None
        self.retries: dict[str, int] = {}  # what failed for a dependency: attempts so far
        self.retry_timers: dict[str, asyncio.TimerHandle] = {}
        feeds = [
            asyncio.ensure_future(self._feed(receive)),
            asyncio.ensure_future(self._feed_layer()),
        ]
        try:
            while True:
                message = await self.inbox.get()
                if isinstance(message, BaseException):
                    raise message
                try:
                    await self.dispatch(message)
                except StopConsumer:
                    raise
                except Exception as error:
                    if message["type"] == "websocket.connect" or not service_unavailable(error):
                        raise
                    self._retry_later(message, error)
                else:
                    if self.retries:
                        self.retries.pop(message["type"], None)
        except StopConsumer:
            pass
        except Disconnected:
            # The client closed while a frame was on its way to it: a disconnect like
            # any other, not an error of the application.
            pass
        finally:
            # However the loop ended, the socket lets go of everything it holds (its
            # timers, its channel-layer groups, the open-sockets count) exactly once.
            with contextlib.suppress(Exception):
                await self.disconnect(1006)
            fanout.unfollow(self.inbox)
            for timer in self.retry_timers.values():
                timer.cancel()
            for feed in feeds:
                feed.cancel()
            for feed in feeds:
                with contextlib.suppress(asyncio.CancelledError):
                    await feed

    async def _feed(self, source):
        """Move what ``source`` yields into the inbox; a failure is handed on, to end the socket."""
        try:
            while True:
                self.inbox.put_message(await source())
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.inbox.put_message(error)

    async def _feed_layer(self):
        """The channel layer's messages for this socket. While Redis is down, receiving
        fails: try again with back-off, and rejoin the groups when it answers."""
        attempt = 0
        while True:
            try:
                message = await self.channel_receive()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if not redis_unavailable(error):
                    self.inbox.put_message(error)
                    return
                self._retry_later({"type": "socket.rejoin"}, error)
                await asyncio.sleep(backoff(RETRY_SECONDS, attempt))
                attempt += 1
                continue
            attempt = 0
            self.inbox.put_message(message)

    def _retry_later(self, message: dict, error: BaseException) -> None:
        """Handle ``message`` again after a back-off: it failed because a dependency was down.

        Group events are not kept: the socket is marked behind instead, and reads what
        it missed from the database when it can. One retry of each kind at a time.
        """
        kind = message["type"]
        if self.closing or kind in self.retry_timers:
            return
        attempt = self.retries.get(kind, 0)
        self.retries[kind] = attempt + 1
        if attempt == 0:
            logger.info("socket work postponed (%s): %s", kind, error)
        retry = self.inbox.mark_behind if kind == "cug.events" else None

        def fire():
            self.retry_timers.pop(kind, None)
            if retry is not None:
                retry()
            else:
                self.inbox.put_message(message)

        self.retry_timers[kind] = asyncio.get_running_loop().call_later(
            backoff(RETRY_SECONDS, attempt), fire
        )

    def _own_groups(self) -> list[str]:
        """The channel-layer groups of this socket: its user's, and its session's."""
        return [user_channel(self.user.pk)] + ([self.session_group] if self.session_group else [])

    async def connect(self):
        user = self.scope.get("user")
        self.user = user
        self.followed: dict[int, str] = {}
        self.delivered: dict[int, int] = {}
        self.floor: dict[int, int] = {}
        self.live: set[int] = set()
        self.closing = False
        self.rejected_in_a_row = 0
        self.active_since_check = False
        self.timers: list[asyncio.Task] = []
        self.session_group = None
        if user is None or not user.is_authenticated or not user.is_active:
            await self.accept()
            await self._close(CLOSE_UNAUTHENTICATED)
            return
        try:
            groups, self.language = await in_database_thread(_socket_start)(
                user=user,
                chosen_language=self.scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME),
            )
        except Exception as error:
            if not service_unavailable(error):
                raise
            self.closing = True
            await close_unavailable(self.base_send, error)
            return
        self.followed = {group_id: slug for group_id, (slug, _seq) in groups.items()}
        self.delivered = {group_id: seq for group_id, (_slug, seq) in groups.items()}
        self.floor = dict(self.delivered)
        self.live_from = time.monotonic() + _sync_grace_seconds()
        layer = self.channel_layer
        if self.scope.get("auth_method") == "session":
            session_key = getattr(self.scope.get("session"), "session_key", None)
            if session_key:
                # Ending this one session (from another device) closes its sockets.
                self.session_group = session_channel(session_key)
        try:
            await asyncio.gather(
                *(layer.group_add(name, self.channel_name) for name in self._own_groups())
            )
        except Exception as error:
            if not redis_unavailable(error):
                raise
            # Redis is down: the socket works without it and joins when it is back.
            self._retry_later({"type": "socket.rejoin"}, error)
        await fanout.follow(self.inbox, groups)
        await self.accept()
        SOCKETS.inc()
        self.counted = True
        await self._send_frame(
            {
                "type": "hello",
                "user": user.username,
                "groups": dict(groups.values()),
                "max_frame_bytes": settings.WEBSOCKET_MAX_FRAME_BYTES,
            }
        )
        self.timers.append(asyncio.create_task(self._watch_credentials()))
        if groups:
            self.timers.append(asyncio.create_task(self._end_grace()))

    async def disconnect(self, code):
        if getattr(self, "disconnected", False):
            return
        self.disconnected = True
        self.closing = True
        if getattr(self, "counted", False):
            SOCKETS.dec()
            self.counted = False
        for timer in getattr(self, "timers", ()):
            timer.cancel()
        if getattr(self, "user", None) is None or not self.user.is_authenticated:
            return
        fanout.unfollow(self.inbox)
        layer = self.channel_layer
        try:
            await asyncio.gather(
                *(layer.group_discard(name, self.channel_name) for name in self._own_groups())
            )
        except Exception as error:
            if not redis_unavailable(error):
                raise
            # Redis is down; the memberships expire there by themselves (channel layer expiry).

    async def _close(self, code: int):
        # Frames the client sent before it saw the close are not acted on.
        self.closing = True
        await self.close(code=code)

    async def _watch_credentials(self):
        """Close the socket when its session or token stops being valid.

        Logout, deactivation and ending a session close it at once through the
        channel layer; this catches what sends no notification (expiry, a changed
        password, a deleted token). A person's activity on a session socket renews
        the session's idle timeout, as a page request would.
        """
        while not self.closing:
            await asyncio.sleep(settings.WEBSOCKET_SESSION_CHECK_SECONDS)
            active, self.active_since_check = self.active_since_check, False
            try:
                if not await self._credentials_still_valid(extend=active):
                    return
            except Exception as error:
                if not service_unavailable(error):
                    raise
                # The database is down: checked again at the next turn.
                self.active_since_check = self.active_since_check or active

    async def _credentials_still_valid(self, *, extend: bool = False) -> bool:
        """Check the socket's session or token now; close the socket (4401) if it fails."""
        credential = self._credential()
        valid = await in_database_thread(_credentials_valid)(**credential)
        if valid and extend and credential["auth_method"] == "session":
            valid = await in_database_thread(session_extend)(session_key=credential["session_key"])
        if not valid and not self.closing:
            await self._close(CLOSE_UNAUTHENTICATED)
        return valid

    def _credential(self) -> dict:
        return {
            "auth_method": self.scope.get("auth_method"),
            "session_key": getattr(self.scope.get("session"), "session_key", None),
            "token_key": self.scope.get("token_key"),
            "user_id": self.user.pk,
        }

    async def _end_grace(self):
        await asyncio.sleep(max(0.0, self.live_from - time.monotonic()))
        if not self.closing and any(g not in self.live for g in self.followed):
            # Through the inbox, so that it is handled in turn with everything else.
            self.inbox.put_message({"type": "socket.grace_over"})

    # ---- frames from the client -------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if self.closing or not self.user.is_authenticated:
            return
        with translation.override(self.language):
            await self._receive(text_data, bytes_data)

    async def _receive(self, text_data, bytes_data):
        raw = text_data if text_data is not None else (bytes_data or b"")
        limit = settings.WEBSOCKET_MAX_FRAME_BYTES
        size = len(raw.encode()) if isinstance(raw, str) and len(raw) > limit // 4 else len(raw)
        if size > limit:
            await self._send_frame(_error("too_large", _("Frame too large; the socket is closed.")))
            await self._close(CLOSE_TOO_LARGE)
            return
        if not RateLimiter.allow(self.user.pk):
            self.rejected_in_a_row += 1
            if self.rejected_in_a_row > settings.WEBSOCKET_RATE_BURST * 3:
                await self._close(CLOSE_RATE_LIMITED)
                return
            await self._send_frame(_error("rate_limited", _("Too many frames: slow down.")))
            return
        self.rejected_in_a_row = 0
        try:
            frame = json.loads(raw)
        except (ValueError, RecursionError):
            await self._send_frame(_error("bad_json", _("The frame is not valid JSON.")))
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self._send_frame(
                _error("bad_frame", _("A frame is a JSON object with a string 'type'."))
            )
            return
        handler = self.HANDLERS.get(frame["type"])
        if handler is None:
            await self._send_frame(
                _error(
                    "unknown_type",
                    _("Unknown frame type %(type)s.") % {"type": repr(frame["type"][:40])},
                )
            )
            return
        if frame["type"] in ACTIVITY_FRAMES:
            self.active_since_check = True
        try:
            await handler(self, frame)
        except Exception as error:
            if not service_unavailable(error):
                raise
            await self._send_unavailable(error, group=frame.get("group"))

    async def _send_unavailable(self, error: BaseException, **extra):
        """The frame could not be served, Redis or the database being down: send it again later."""
        logger.debug("websocket action refused, a dependency is unavailable: %s", error)
        extra = {k: v for k, v in extra.items() if v is not None}
        if "group" in extra:
            extra["group"] = str(extra["group"])[:80]
        await self._send_frame(
            _error(
                "unavailable",
                _("The service is busy or its database is unreachable. Please try again shortly."),
                **extra,
            )
        )

    async def _on_ping(self, frame):
        await self._send_frame({"type": "pong", "id": frame.get("id")})

    async def _on_sync(self, frame):
        cursors = frame.get("cursors")
        if not isinstance(cursors, dict):
            await self._send_frame(
                _error("bad_frame", _("sync needs 'cursors': {group: last seq seen}."))
            )
            return
        by_slug = {slug: group_id for group_id, slug in self.followed.items()}
        wanted = []
        for slug, cursor in cursors.items():
            group_id = by_slug.get(slug)
            if group_id is None:
                await self._send_frame(_error("not_found", _("No such group."), group=slug[:80]))
            elif not _is_seq(cursor):
                await self._send_frame(
                    _error(
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
            if group_id in self.followed and group_id in heads:
                await self._sync_group(group_id, cursor, head=heads[group_id])

    async def _sync_group(self, group_id: int, cursor: int, *, head: int):
        """Send (cursor, head] in pages, leaving out what this socket already sent."""
        slug = self.followed[group_id]
        if cursor > head:
            await self._send_frame({"type": "resync_required", "group": slug})
            return
        floor, delivered = self.floor[group_id], self.delivered[group_id]
        if floor == delivered:
            # Nothing sent yet: the client's cursor is where this socket starts.
            self.floor[group_id] = self.delivered[group_id] = position = cursor
        elif cursor < floor:
            # The client lacks events older than ones this socket already sent; sending
            # them now would break seq order.
            await self._send_frame({"type": "resync_required", "group": slug})
            return
        else:
            position = self.delivered[group_id] = max(cursor, delivered)
        self.live.add(group_id)
        page_size = settings.SYNC_PAGE_SIZE
        limited = True
        while position < head:
            events = await in_database_thread(selectors.events_after)(
                group_id=group_id,
                user_id=self.user.pk,
                after=position,
                until=head,
                limit=page_size,
            )
            if not events:
                break  # access was lost meanwhile: the revocation is on its way
            position = self.delivered[group_id] = events[-1]["seq"]
            limited = position < head
            await self._send_frame(
                {"type": "sync.page", "group": slug, "events": events, "limited": limited}
            )
        if limited:
            await self._send_frame(
                {"type": "sync.page", "group": slug, "events": [], "limited": False}
            )

    async def _fill_gap(self, group_id: int, *, until: int):
        """Send (delivered, until] as event frames, read from the database."""
        slug = self.followed[group_id]
        position = self.delivered[group_id]
        while position < until:
            events = await in_database_thread(selectors.events_after)(
                group_id=group_id,
                user_id=self.user.pk,
                after=position,
                until=until,
                limit=settings.SYNC_PAGE_SIZE,
            )
            if not events or group_id not in self.followed:
                return
            for text in selectors.event_frames_text(slug=slug, events=events):
                await self.send(text_data=text)
                EVENTS_DELIVERED.inc()
            position = self.delivered[group_id] = events[-1]["seq"]

    async def _on_message_post(self, frame):
        client_id = _echo(frame.get("client_id"))
        group = await self._group_for_frame(frame)
        if group is None:
            return
        reply_to = frame.get("reply_to")
        if reply_to is not None and (not isinstance(reply_to, int) or isinstance(reply_to, bool)):
            await self._send_frame(
                _error(
                    "invalid",
                    _("reply_to is the seq of a message."),
                    fields={"reply_to": [_("reply_to is the seq of a message.")]},
                    client_id=client_id,
                    group=group.slug,
                )
            )
            return
        attachments = frame.get("attachments") or []
        if not isinstance(attachments, list) or not all(isinstance(a, str) for a in attachments):
            await self._send_frame(
                _error(
                    "invalid",
                    _("attachments is a list of upload tokens."),
                    fields={"attachments": [_("attachments is a list of upload tokens.")]},
                    client_id=client_id,
                    group=group.slug,
                )
            )
            return
        try:
            message, _created = await batcher.post(
                services.Post(
                    author=self.user,
                    group=group,
                    body=frame.get("body"),
                    client_id=frame.get("client_id"),
                    kind=frame.get("kind", "text"),
                    reply_to_seq=reply_to,
                    attachment_tokens=attachments,
                )
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
            cursor = await in_database_thread(services.receipt_mark_read)(
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
        if not _is_seq(seq):
            await self._send_frame(
                _error(
                    "invalid",
                    _("seq must be a whole number."),
                    fields={"seq": [_("seq must be a whole number.")]},
                    group=group.slug,
                )
            )
            return
        try:
            await in_database_thread(service)(**{author_kw: self.user}, group=group, seq=seq)
        except Exception as error:
            await self._send_service_error(error, group=group.slug)
            return
        await self._send_frame({"type": ok_type, "group": group.slug, "seq": seq})

    async def _group_for_frame(self, frame) -> ClosedUserGroup | None:
        """The socket's own list decides; the service re-checks membership under its lock.

        A group that does not exist and one the user is not in get the same answer.
        """
        slug = frame.get("group")
        group_id = next((g for g, s in self.followed.items() if s == slug), None)
        if group_id is None:
            await self._send_frame(
                _error(
                    "not_found",
                    _("No such group."),
                    group=str(slug)[:80],
                    client_id=_echo(frame.get("client_id")),
                )
            )
            return None
        return ClosedUserGroup(pk=group_id, slug=slug)

    async def _send_service_error(self, error: Exception, **extra):
        if service_unavailable(error):
            await self._send_unavailable(error, **extra)
            return
        extra = {k: v for k, v in extra.items() if v is not None}
        if isinstance(error, ValidationError):
            detail, fields = _validation_detail(error)
            await self._send_frame(_error("invalid", detail, fields=fields, **extra))
        elif isinstance(error, Http404):
            await self._send_frame(_error("not_found", _("No such group."), **extra))
        elif isinstance(error, PermissionDenied):
            await self._send_frame(_error("forbidden", str(error) or _("Not allowed."), **extra))
        else:
            logger.exception("websocket action failed")
            await self._send_frame(
                _error("server_error", _("Something went wrong; try again."), **extra)
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

    async def dispatch(self, message):
        """Handle one message without the database-thread round trip channels adds.

        Channels closes stale database connections before every handler, on the one
        database thread all sockets share: with hundreds of sockets that hop, not the
        work, saturated the thread (docs/performance.md). Every handler here that
        touches the database does so through database_sync_to_async, which closes
        stale connections itself.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def cug_events(self, message):
        """Events from the fan-out, oldest first; ``behind``: some were not queued."""
        if message["behind"]:
            await self._fill_gaps([g for g in self.followed if g in self.live])
        sent_at = []
        for event in message["events"]:
            if await self._on_event(event):
                sent_at.append(event.get("committed_at"))
        # Counted once per wake-up: this runs for every socket of every group.
        if sent_at:
            EVENTS_DELIVERED.inc(len(sent_at))
            now = time.time()
            for committed_at in sent_at:
                if committed_at is not None:
                    FANOUT_SECONDS.observe(max(0.0, now - committed_at))

    async def _on_event(self, message) -> bool:
        """Send one event if it is the next one of its group; True when sent."""
        group_id = message["group_id"]
        if group_id not in self.followed or self.closing:
            return False  # a group this socket no longer holds: never leak it
        if message.get("removes") == self.user.pk:
            await self._drop_group(group_id)
            return False
        if group_id not in self.live:
            if time.monotonic() < self.live_from:
                return False  # waits for the client's sync, which reads it from the database
            self.live.add(group_id)
        seq = message["seq"]
        delivered = self.delivered[group_id]
        if seq <= delivered:
            return False
        if seq == delivered + 1:
            self.delivered[group_id] = seq
            # The frame as published, straight to the server (channels' send wrappers
            # add two calls per frame, and this runs for every socket of every group).
            await self.base_send({"type": "websocket.send", "text": message["text"]})
            return True
        # A gap: an event was lost or overtaken on the way. The database has it.
        GAPS_FILLED.inc()
        await self._fill_gap(group_id, until=seq)
        return False

    async def socket_rejoin(self, message):
        """Redis was lost: join the channel groups again (a restarted Redis forgot them),
        then re-read what a lost notice would have said."""
        if self.closing or self.user is None or not self.user.is_authenticated:
            return
        try:
            await asyncio.gather(
                *(
                    self.channel_layer.group_add(name, self.channel_name)
                    for name in self._own_groups()
                )
            )
        except Exception as error:
            if not redis_unavailable(error):
                raise
            self._retry_later(message, error)
            return
        self.retries.pop("socket.rejoin", None)
        await self.socket_recheck({"type": "socket.recheck"})

    async def socket_recheck(self, message):
        """Close the socket if its credential went while notices were lost; drop the
        groups the user lost and take up those gained meanwhile."""
        if self.closing:
            return
        credential = self._credential()
        del credential["user_id"]
        valid, groups = await in_database_thread(_recheck)(user=self.user, **credential)
        if not valid:
            if not self.closing:
                await self._close(CLOSE_UNAUTHENTICATED)
            return
        for group_id in [g for g in self.followed if g not in groups]:
            await self._drop_group(group_id)
        for group_id in groups:
            if group_id not in self.followed:
                await self.access_granted({"type": "access.granted", "group_id": group_id})

    async def socket_grace_over(self, message):
        """The client did not sync some groups in time: send what it missed, then go live."""
        waiting = [g for g in self.followed if g not in self.live]
        if waiting and not self.closing:
            self.live.update(waiting)
            await self._fill_gaps(waiting)

    async def _fill_gaps(self, group_ids: list[int]):
        """Bring live groups up to their current head, from the database."""
        if not group_ids or self.closing:
            return
        heads = await in_database_thread(selectors.group_heads)(group_ids=group_ids)
        for group_id in group_ids:
            if group_id in self.followed and group_id in self.live:
                await self._fill_gap(group_id, until=heads.get(group_id, 0))

    async def access_revoked(self, message):
        await self._drop_group(message["group_id"])

    async def _drop_group(self, group_id: int):
        slug = self.followed.pop(group_id, None)
        self.delivered.pop(group_id, None)
        self.floor.pop(group_id, None)
        self.live.discard(group_id)
        fanout.unfollow(self.inbox, [group_id])
        if slug is not None:
            await self._send_frame({"type": "access.revoked", "group": slug})

    async def access_granted(self, message):
        group_id = message["group_id"]
        if group_id in self.followed:
            return
        # Follow first, then read the head: an event committed in between is either
        # counted in the head or arrives afterwards, never lost.
        await fanout.follow(self.inbox, [group_id])
        row = await in_database_thread(selectors.socket_group)(user=self.user, group_id=group_id)
        if row is None:
            fanout.unfollow(self.inbox, [group_id])
            return
        slug, head = row
        self.followed[group_id] = slug
        self.delivered[group_id] = self.floor[group_id] = head
        self.live.add(group_id)
        await self._send_frame({"type": "access.granted", "group": slug, "seq": head})

    async def access_changed(self, message):
        slug = self.followed.get(message["group_id"])
        if slug is not None:
            await self._send_frame(
                {"type": "access.changed", "group": slug, "role": message["role"]}
            )
        # A new role may require a second factor this socket's credential never gave.
        await self._credentials_still_valid()

    async def receipt_update(self, message):
        if message["group_id"] in self.followed and not self.closing:
            for frame in message["frames"]:
                await self._send_frame(frame)

    async def session_ended(self, message):
        if not self.closing:
            await self._close(CLOSE_UNAUTHENTICATED)

    async def _send_frame(self, frame: dict):
        await self.send(text_data=json.dumps(frame))
