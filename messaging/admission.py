"""Admission of new sockets: each process opens a bounded number at a time.

When many clients reconnect at once (a server restart, a network back), every
handshake costs database round trips (the credential, the user's groups) and
channel-layer calls. Without a bound they all start together, each waits behind the
others, and daphne drops a handshake it has not completed within its
``--websocket_connect_timeout`` (5 s by default) without an HTTP answer — while the
application still finishes the work for a client that has gone. The queue then grows
faster than it drains and almost nobody gets through (docs/performance.md).

Here a handshake waits for one of ``WEBSOCKET_ADMISSION_CONCURRENCY`` places; one that
has waited longer than ``WEBSOCKET_ADMISSION_WAIT_SECONDS`` is accepted and closed at
once with 4503, costing nothing, and its client reconnects with back-off and jitter as
after any other 4503. The place is given back when the socket is accepted or closed.
"""

import asyncio
import weakref

from django.conf import settings

from core.metrics import ADMISSIONS_DEFERRED

from .auth import CLOSE_UNAVAILABLE

_gates: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]" = (
    weakref.WeakKeyDictionary()
)


def _gate() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = asyncio.Semaphore(settings.WEBSOCKET_ADMISSION_CONCURRENCY)
    return gate


class SocketAdmission:
    """ASGI middleware in front of the websocket stack."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        gate = _gate()
        try:
            await asyncio.wait_for(gate.acquire(), settings.WEBSOCKET_ADMISSION_WAIT_SECONDS)
        except TimeoutError:
            ADMISSIONS_DEFERRED.inc()
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": CLOSE_UNAVAILABLE})
            return None
        holding = True

        def give_back() -> None:
            nonlocal holding
            if holding:
                holding = False
                gate.release()

        async def send_and_give_back(message):
            if message["type"] in ("websocket.accept", "websocket.close"):
                give_back()
            await send(message)

        try:
            return await self.inner(scope, receive, send_and_give_back)
        finally:
            give_back()
