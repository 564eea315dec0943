"""Group events reach sockets once per process, not once per socket.

Through the channel layer every socket of a group cost one Redis push, one pop, one
msgpack decode and one dispatch per event, all on the process's event loop: the same
price the plain Channels chat pays, so the platform could never outrun it
(docs/performance.md). Here an event is published once; every daphne process holds
one subscription and hands the already-serialised frame to the inboxes of its own
sockets that follow the group.

Nothing here has to be reliable for clients to be complete: a socket still drops what
it already sent, and reads any gap in ``seq`` from the database. When the subscription
breaks, or a socket's inbox overflows, the sockets concerned are told they are
*behind* and catch up from the database as soon as they can.

The subscription's connection is also how a process learns that Redis went away: when
it is back, every socket of the process is told to *rejoin* (``socket.rejoin``): Redis
may have restarted empty, so each socket joins its channel-layer groups again (the
user's and the session's) and re-checks from the database what a lost notice would
have told it (a removal, a logout, a deleted token).

With Redis (``REDIS_URL``) events travel over one pub/sub channel; without it (the
embedded default, one process) they are handed to the local inboxes directly.
"""

import asyncio
import collections
import json
import logging
import os
import random
import threading
import weakref

from django.conf import settings

from core.metrics import INBOX_OVERFLOWS

logger = logging.getLogger(__name__)

# How long a socket waits for its process's subscription before it goes on without:
# it then catches up from the database once the subscription is there.
SUBSCRIBE_WAIT_SECONDS = 5.0
# Between attempts to subscribe again after a break, each with up to 50 % of jitter
# (every process of a deployment loses Redis at the same moment).
RECONNECT_DELAY_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)
# How long to wait for Redis to accept a connection (a host that is down may not refuse).
CONNECT_TIMEOUT_SECONDS = 2.0
# The subscription's connection, as Redis lists it (CLIENT LIST): one per process.
LISTENER_NAME = "cencomm-events-%d"


class Inbox:
    """One socket's queue: group events from the fan-out, and (``put_message``) the
    socket's other messages, read by its consumer in arrival order.

    ``get`` waits for something and returns either the next other message, or every
    event waiting in a row, as one ``cug.events`` message for the consumer's dispatch.
    Past ``limit`` waiting events no more events are queued: the socket is marked behind
    and reads the rest from the database, so a stuck client costs bounded memory and
    no events. Other messages are never left out.
    """

    def __init__(self, limit: int | None = None):
        self.limit = settings.WEBSOCKET_INBOX_LIMIT if limit is None else limit
        self._items: collections.deque = collections.deque()  # (is an event, message)
        self._events = 0
        self._behind = False
        self._waiter: asyncio.Future | None = None

    def put(self, message: dict) -> None:
        """Queue a group event (or mark the socket behind when too many wait)."""
        if self._events >= self.limit:
            if not self._behind:
                INBOX_OVERFLOWS.inc()
            self.mark_behind()
            return
        self._items.append((True, message))
        self._events += 1
        self._wake()

    def put_message(self, message) -> None:
        self._items.append((False, message))
        self._wake()

    def mark_behind(self) -> None:
        self._behind = True
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self):
        while not self._items and not self._behind:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self._items and not self._items[0][0]:
            return self._items.popleft()[1]
        events = []
        while self._items and self._items[0][0]:
            events.append(self._items.popleft()[1])
        self._events -= len(events)
        behind, self._behind = self._behind, False
        return {"type": "cug.events", "events": events, "behind": behind}


def encode(messages: list[dict]) -> str:
    """Events that leave together travel as one payload: a header line (each event's
    fields and the length of its frame), then the frames' texts as they are, back to
    back — a text is never escaped twice."""
    headers = [
        {
            **{key: value for key, value in message.items() if key not in ("type", "text")},
            "n": len(message["text"]),
        }
        for message in messages
    ]
    return (
        json.dumps(headers, separators=(",", ":"))
        + "\n"
        + "".join(message["text"] for message in messages)
    )


def decode(payload: bytes | str) -> list[dict]:
    if isinstance(payload, bytes):
        payload = payload.decode()
    header, _newline, texts = payload.partition("\n")
    messages, start = [], 0
    for fields in json.loads(header):
        end = start + fields.pop("n")
        messages.append({"type": "cug.event", **fields, "text": texts[start:end]})
        start = end
    return messages


class _LoopState:
    """What one event loop holds: its sockets' inboxes by group, and its listener."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.followers: dict[int, set[Inbox]] = {}
        self.sockets: set[Inbox] = set()  # every socket of the loop, with groups or not
        self.listener: asyncio.Task | None = None
        self.subscribed = asyncio.Event()
        self.broken = False  # the subscription broke and has not been restored yet
        self.publisher = None  # the Redis client this loop publishes with

    def deliver(self, message: dict) -> None:
        for inbox in tuple(self.followers.get(message["group_id"], ())):
            inbox.put(message)

    def all_behind(self) -> None:
        for inbox in {inbox for inboxes in self.followers.values() for inbox in inboxes}:
            inbox.mark_behind()

    def all_rejoin(self) -> None:
        for inbox in tuple(self.sockets):
            inbox.put_message({"type": "socket.rejoin"})


class FanOut:
    """The process's fan-out; one state per event loop (tests run several loops)."""

    def __init__(self):
        self._states: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        self._sync_client = None

    @property
    def uses_redis(self) -> bool:
        return bool(settings.REDIS_URL)

    @property
    def channel(self) -> str:
        return f"{settings.CHANNEL_LAYER_PREFIX}:events"

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            with self._lock:
                state = self._states.setdefault(loop, _LoopState(loop))
        return state

    # ---- the sockets' side --------------------------------------------------------

    async def follow(self, inbox: Inbox, group_ids) -> None:
        """Queue the groups' events for ``inbox`` from now on.

        Returns once this process's subscription stands (or after
        SUBSCRIBE_WAIT_SECONDS: the socket is then marked behind when it comes). While
        the subscription is known to be broken (Redis is down) it does not wait: the
        socket is marked behind, and told to rejoin, when the subscription is back.
        """
        state = self._state()
        state.sockets.add(inbox)
        for group_id in group_ids:
            state.followers.setdefault(group_id, set()).add(inbox)
        if not self.uses_redis:
            return
        if state.listener is None or state.listener.done():
            state.listener = state.loop.create_task(self._listen(state))
        if not state.subscribed.is_set() and not state.broken:
            try:
                await asyncio.wait_for(state.subscribed.wait(), SUBSCRIBE_WAIT_SECONDS)
            except TimeoutError:
                logger.warning("event subscription not ready; the socket will catch up later")

    def unfollow(self, inbox: Inbox, group_ids=None) -> None:
        """Stop queueing events for ``inbox``: for these groups, or for all of them."""
        state = self._states.get(asyncio.get_running_loop())
        if state is None:
            return
        if group_ids is None:
            state.sockets.discard(inbox)
        for group_id in list(state.followers if group_ids is None else group_ids):
            inboxes = state.followers.get(group_id)
            if inboxes is not None:
                inboxes.discard(inbox)
                if not inboxes:
                    del state.followers[group_id]

    # ---- the publishers' side -----------------------------------------------------

    async def publish(self, messages: list[dict]) -> None:
        """Send events to every process, in this order. Runs on an event loop."""
        if not self.uses_redis:
            self.deliver_everywhere(messages)
            return
        state = self._state()
        if state.publisher is None:
            state.publisher = _redis_client(asynchronous=True)
        # One message on the wire for the whole batch: one command here, one read in
        # every listener (a batch of posts commits its events together).
        await state.publisher.publish(self.channel, encode(messages))

    def publish_sync(self, messages: list[dict]) -> None:
        """The same, from code that runs outside an event loop (a command, a worker)."""
        if not self.uses_redis:
            self.deliver_everywhere(messages)
            return
        if self._sync_client is None:
            self._sync_client = _redis_client(asynchronous=False)
        self._sync_client.publish(self.channel, encode(messages))

    def deliver_everywhere(self, messages: list[dict]) -> None:
        """Without Redis: hand the events to every loop of this process that has sockets."""
        for loop, state in list(self._states.items()):
            if loop.is_closed():
                continue
            for message in messages:
                loop.call_soon_threadsafe(state.deliver, message)

    # ---- the subscription ---------------------------------------------------------

    async def _listen(self, state: _LoopState) -> None:
        """Hold the process's subscription; after a break, every socket catches up and
        rejoins its channel-layer groups."""
        attempt = 0
        while not asyncio.current_task().cancelling():
            client = _redis_client(asynchronous=True, name=LISTENER_NAME % os.getpid())
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                if attempt:
                    logger.warning("event subscription restored after %d attempts", attempt)
                    # Whatever was published while it was down is in the database; what
                    # the channel layer lost (memberships, notices) is re-read there too.
                    state.all_behind()
                    state.all_rejoin()
                attempt = 0
                state.broken = False
                state.subscribed.set()
                while not asyncio.current_task().cancelling():
                    item = await pubsub.get_message(timeout=None)
                    if item is not None and item["type"] == "message":
                        for message in decode(item["data"]):
                            state.deliver(message)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if asyncio.current_task().cancelling():
                    # Cancelled (the loop is closing) while Redis's client turned
                    # the cancellation into an error.
                    raise asyncio.CancelledError from None
                if not attempt:
                    logger.warning("event subscription lost (%s); reconnecting", error)
                state.subscribed.clear()
                state.broken = True
                await asyncio.sleep(backoff(RECONNECT_DELAY_SECONDS, attempt))
                attempt += 1
            finally:
                try:
                    await pubsub.aclose()
                    await client.aclose()
                except Exception:  # noqa: S110 - the connection is already gone
                    pass


def backoff(delays: tuple[float, ...], attempt: int) -> float:
    """The wait before attempt ``attempt + 1``: the delay of that step, plus up to 50 %."""
    return delays[min(attempt, len(delays) - 1)] * (1 + random.random() / 2)


def _redis_client(*, asynchronous: bool, name: str | None = None):
    import redis
    import redis.asyncio

    module = redis.asyncio if asynchronous else redis
    # No read timeout: the subscription waits for events for as long as it takes;
    # keepalive and health checks notice a dead connection.
    return module.Redis.from_url(
        settings.REDIS_URL,
        socket_keepalive=True,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        health_check_interval=30,
        client_name=name,
    )


fanout = FanOut()
