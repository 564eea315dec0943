"""The websocket at /ws/: one per browser tab, carrying every group of the user.

This module is the transport: it opens and closes the socket, reads frames and hands
each to its command (messaging/socket_commands.py), delivers group events and the
channel layer's notices, and sends frames. Beside it:

- messaging/cursors.py keeps, per group, what this socket has sent and whether the
  group is live, and decides what to do with each event; the socket never trusts the
  fan-out to be complete: it drops what it already sent and reads any gap from the
  database, so a client sees every event exactly once and in seq order;
- messaging/socket_guard.py re-checks the credential and rate-limits the user's frames;
- messaging/socket_errors.py turns what a service raised into an `error` frame.

See docs/protocol.md for every frame.

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
from django.utils import translation
from django.utils.translation import gettext as _

from core.audit import refusal_record, socket_address
from core.fanout import Inbox, backoff, fanout
from core.metrics import EVENTS_DELIVERED, FANOUT_SECONDS, GAPS_FILLED, SOCKETS
from core.realtime import user_channel
from core.unavailable import redis_unavailable, service_unavailable
from groups.selectors import user_language
from groups.sessions import session_channel

from . import selectors
from .auth import close_unavailable
from .cursors import Action, Cursors
from .database import in_database_thread
from .socket_commands import COMMANDS
from .socket_errors import error_frame, exception_frame
from .socket_guard import (
    ACTIVITY_FRAMES,
    CLOSE_RATE_LIMITED,
    CLOSE_UNAUTHENTICATED,
    CredentialGuard,
    RateLimiter,
)

logger = logging.getLogger(__name__)
# Error frames that refuse access to group data: recorded in the audit trail. A
# read-only group's refusal is the group's state, not the user's rights.
REFUSAL_CODES = frozenset({"not_found", "forbidden"})

# 1009 is the protocol's own code for a message too big, which only the websocket
# layer may send; an application closes with codes from 4000 (daphne refuses 1009,
# closes with 1011 and logs an error instead).
CLOSE_TOO_LARGE = 4413

# How long live events of a group wait for the client's first `sync` of it (the
# default when settings.WEBSOCKET_SYNC_GRACE_SECONDS is not set).
DEFAULT_SYNC_GRACE_SECONDS = 5.0

# Waits before the socket tries again what failed because Redis or the database was
# down (each with up to 50 % of jitter: every socket of a process fails together).
RETRY_SECONDS = (0.5, 1.0, 2.0, 4.0, 8.0)


def _socket_start(*, user, chosen_language):
    """What a socket reads when it connects, in one trip to the database thread: its
    groups, and the language its error frames speak (as the pages do)."""
    return selectors.socket_groups(user=user), user_language(user=user, chosen=chosen_language)


def _sync_grace_seconds() -> float:
    return float(getattr(settings, "WEBSOCKET_SYNC_GRACE_SECONDS", DEFAULT_SYNC_GRACE_SECONDS))


class CugConsumer(AsyncWebsocketConsumer):
    """One client's socket.

    Group events come from the process's fan-out into the socket's own inbox;
    messages for the user or the session (access changes, session ended) come
    through the channel layer. Both are handled one at a time, in arrival order,
    with the client's frames.
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
        self.disconnected = False
        self.counted = False  # in the open-sockets gauge
        self.session_group = None
        self.refused: dict | None = None  # the refusal a client frame was answered with
        self.cursors = Cursors(live_from=0.0)
        self.timers: list[asyncio.Task] = []
        self.retries: dict[str, int] = {}  # what failed for a dependency: attempts so far
        self.retry_timers: dict[str, asyncio.TimerHandle] = {}
        feeds = [
            asyncio.ensure_future(self._feed(receive)),
            asyncio.ensure_future(self._feed_layer()),
        ]
        try:
            await self._handle_inbox()
        except (StopConsumer, Disconnected):
            # Disconnected: the client closed while a frame was on its way to it, a
            # disconnect like any other, not an error of the application.
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

    async def _handle_inbox(self):
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

    # ---- opening and closing ----------------------------------------------------

    async def connect(self):
        self.user = user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.accept()
            await self.close(CLOSE_UNAUTHENTICATED)
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
        self.cursors = Cursors(live_from=time.monotonic() + _sync_grace_seconds())
        for group_id, (slug, head) in groups.items():
            self.cursors.follow(group_id, slug, head=head)
        self.guard = CredentialGuard(self)
        self.rate_limit = RateLimiter(user.pk)
        if self.scope.get("auth_method") == "session":
            session_key = getattr(self.scope.get("session"), "session_key", None)
            if session_key:
                # Ending this one session (from another device) closes its sockets.
                self.session_group = session_channel(session_key)
        # Without Redis the socket works all the same, and joins when it is back.
        await self._join_channel_groups()
        await fanout.follow(self.inbox, groups)
        await self.accept()
        SOCKETS.inc()
        self.counted = True
        await self.send_frame(
            {
                "type": "hello",
                "user": user.username,
                "groups": dict(groups.values()),
                "max_frame_bytes": settings.WEBSOCKET_MAX_FRAME_BYTES,
            }
        )
        self.timers.append(self.guard.start())
        if groups:
            self.timers.append(asyncio.create_task(self._end_grace()))

    def _own_groups(self) -> list[str]:
        """The channel-layer groups of this socket: its user's, and its session's."""
        return [user_channel(self.user.pk)] + ([self.session_group] if self.session_group else [])

    async def _join_channel_groups(self) -> bool:
        """Join this socket's channel-layer groups; while Redis is down, try again later."""
        layer = self.channel_layer
        try:
            await asyncio.gather(
                *(layer.group_add(name, self.channel_name) for name in self._own_groups())
            )
        except Exception as error:
            if not redis_unavailable(error):
                raise
            self._retry_later({"type": "socket.rejoin"}, error)
            return False
        return True

    async def disconnect(self, code):
        if self.disconnected:
            return
        self.disconnected = True
        self.closing = True
        if self.counted:
            SOCKETS.dec()
            self.counted = False
        for timer in self.timers:
            timer.cancel()
        if self.user is None or not self.user.is_authenticated:
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

    async def close(self, code=None, reason=None):
        # Frames the client sent before it saw the close are not acted on.
        self.closing = True
        await super().close(code=code, reason=reason)

    async def _end_grace(self):
        await asyncio.sleep(max(0.0, self.cursors.live_from - time.monotonic()))
        if not self.closing and self.cursors.waiting_groups():
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
            await self.send_frame(
                error_frame("too_large", _("Frame too large; the socket is closed."))
            )
            await self.close(CLOSE_TOO_LARGE)
            return
        if not self.rate_limit.frame_allowed():
            if self.rate_limit.flooding:
                await self.close(CLOSE_RATE_LIMITED)
                return
            await self.send_frame(error_frame("rate_limited", _("Too many frames: slow down.")))
            return
        frame = await self._read_frame(raw)
        if frame is None:
            return
        if frame["type"] in ACTIVITY_FRAMES:
            self.guard.active = True
        self.refused = None
        try:
            await COMMANDS[frame["type"]](self, frame)
        except Exception as error:
            if not service_unavailable(error):
                raise
            await self.send_frame(exception_frame(error, group=frame.get("group")))
        if self.refused is not None:
            await self._record_refusal(frame["type"], self.refused)

    async def _record_refusal(self, frame_type: str, answer: dict) -> None:
        """The audit line of a frame refused on group data (one per frame)."""
        slug = str(answer.get("group") or "")[:80]
        refusal = {
            "group_id": self.cursors.group_id(slug) if slug else None,
            "target": slug,
            "need": frame_type,
            "code": answer["code"],
        }
        try:
            await in_database_thread(refusal_record)(
                actor=self.user, door="socket", refusal=refusal, ip=socket_address(self.scope)
            )
        except Exception:
            logger.exception("the refusal of a socket frame was not recorded")

    async def _read_frame(self, raw) -> dict | None:
        """The frame as a dict with a known ``type``; None when it was answered with an error."""
        try:
            frame = json.loads(raw)
        except (ValueError, RecursionError):
            await self.send_frame(error_frame("bad_json", _("The frame is not valid JSON.")))
            return None
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self.send_frame(
                error_frame("bad_frame", _("A frame is a JSON object with a string 'type'."))
            )
            return None
        if frame["type"] not in COMMANDS:
            await self.send_frame(
                error_frame(
                    "unknown_type",
                    _("Unknown frame type %(type)s.") % {"type": repr(frame["type"][:40])},
                )
            )
            return None
        return frame

    # ---- group events -----------------------------------------------------------

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
            await self._fill_gaps(self.cursors.live_groups())
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
        """Do what the cursors decide with one event; True when it was sent as it came."""
        if self.closing:
            return False
        group_id = message["group_id"]
        decision = self.cursors.on_event(
            group_id,
            message["seq"],
            removes_me=message.get("removes") == self.user.pk,
            now=time.monotonic(),
        )
        if decision.action is Action.SEND:
            # The frame as published, straight to the server (channels' send wrappers
            # add two calls per frame, and this runs for every socket of every group).
            await self.base_send({"type": "websocket.send", "text": message["text"]})
            return True
        if decision.action is Action.LEAVE:
            await self._drop_group(group_id)
        elif decision.action is Action.FILL_GAP:
            GAPS_FILLED.inc()
            await self._fill_gap(group_id, until=decision.until)
        return False

    async def _fill_gaps(self, group_ids: list[int]):
        """Bring live groups up to their current head, from the database."""
        if not group_ids or self.closing:
            return
        heads = await in_database_thread(selectors.group_heads)(group_ids=group_ids)
        for group_id in group_ids:
            if self.cursors.is_live(group_id):
                await self._fill_gap(group_id, until=heads.get(group_id, 0))

    async def _fill_gap(self, group_id: int, *, until: int):
        """Send (delivered, until] as event frames, read from the database."""
        slug = self.cursors.slug(group_id)
        position = self.cursors.delivered(group_id)
        while position < until:
            events = await in_database_thread(selectors.events_after)(
                group_id=group_id,
                user_id=self.user.pk,
                after=position,
                until=until,
                limit=settings.SYNC_PAGE_SIZE,
            )
            if not events or group_id not in self.cursors:
                return
            for text in selectors.event_frames_text(slug=slug, events=events):
                await self.send(text_data=text)
                EVENTS_DELIVERED.inc()
            position = events[-1]["seq"]
            self.cursors.sent(group_id, position)

    async def socket_grace_over(self, message):
        """The client did not sync some groups in time: send what it missed, then go live."""
        if not self.closing:
            await self._fill_gaps(self.cursors.end_grace())

    # ---- messages from the channel layer ----------------------------------------

    async def socket_rejoin(self, message):
        """Redis was lost: join the channel groups again (a restarted Redis forgot them),
        then re-read what a lost notice would have said."""
        if self.closing or self.user is None or not self.user.is_authenticated:
            return
        if not await self._join_channel_groups():
            return
        self.retries.pop("socket.rejoin", None)
        await self.socket_recheck({"type": "socket.recheck"})

    async def socket_recheck(self, message):
        """Close the socket if its credential went while notices were lost; drop the
        groups the user lost and take up those gained meanwhile."""
        if self.closing:
            return
        groups = await self.guard.recheck()
        if groups is None:
            return
        for group_id in [g for g in self.cursors if g not in groups]:
            await self._drop_group(group_id)
        for group_id in groups:
            if group_id not in self.cursors:
                await self.access_granted({"type": "access.granted", "group_id": group_id})

    async def access_revoked(self, message):
        await self._drop_group(message["group_id"])

    async def _drop_group(self, group_id: int):
        slug = self.cursors.leave(group_id)
        fanout.unfollow(self.inbox, [group_id])
        if slug is not None:
            await self.send_frame({"type": "access.revoked", "group": slug})

    async def access_granted(self, message):
        group_id = message["group_id"]
        if group_id in self.cursors:
            return
        # Follow first, then read the head: an event committed in between is either
        # counted in the head or arrives afterwards, never lost.
        await fanout.follow(self.inbox, [group_id])
        row = await in_database_thread(selectors.socket_group)(user=self.user, group_id=group_id)
        if row is None:
            fanout.unfollow(self.inbox, [group_id])
            return
        slug, head = row
        self.cursors.follow(group_id, slug, head=head, live=True)
        await self.send_frame({"type": "access.granted", "group": slug, "seq": head})

    async def access_changed(self, message):
        if message["group_id"] in self.cursors:
            await self.send_frame(
                {
                    "type": "access.changed",
                    "group": self.cursors.slug(message["group_id"]),
                    "role": message["role"],
                }
            )
        # A new role may require a second factor this socket's credential never gave.
        await self.guard.still_valid()

    async def receipt_update(self, message):
        if message["group_id"] in self.cursors and not self.closing:
            for frame in message["frames"]:
                await self.send_frame(frame)

    async def session_ended(self, message):
        if not self.closing:
            await self.close(CLOSE_UNAUTHENTICATED)

    async def send_frame(self, frame: dict):
        await self.send(text_data=json.dumps(frame))
        if (
            frame.get("type") == "error"
            and frame.get("code") in REFUSAL_CODES
            and frame.get("reason") != "read_only"
        ):
            self.refused = frame
