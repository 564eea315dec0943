"""messaging.admission: a bounded number of handshakes at a time, the late ones told to come back."""

import asyncio

import pytest
from channels.testing import WebsocketCommunicator

from core.metrics import ADMISSIONS_DEFERRED
from messaging.admission import SocketAdmission


class SlowHandshake:
    """An application that accepts only when told to, counting who reached it."""

    def __init__(self):
        self.reached = 0
        self.go = asyncio.Event()

    async def __call__(self, scope, receive, send):
        self.reached += 1
        assert (await receive())["type"] == "websocket.connect"
        await self.go.wait()
        await send({"type": "websocket.accept"})
        while (await receive())["type"] != "websocket.disconnect":
            pass


@pytest.fixture
def one_place(settings):
    settings.WEBSOCKET_ADMISSION_CONCURRENCY = 1
    settings.WEBSOCKET_ADMISSION_WAIT_SECONDS = 0.2


async def test_a_handshake_that_waits_too_long_is_closed_with_4503_at_no_cost(one_place):
    inner = SlowHandshake()
    application = SocketAdmission(inner)
    first = WebsocketCommunicator(application, "/ws/")
    first_connecting = asyncio.ensure_future(first.connect(timeout=5))
    await asyncio.sleep(0.05)
    deferred_before = ADMISSIONS_DEFERRED._value.get()

    second = WebsocketCommunicator(application, "/ws/")
    connected, _ = await second.connect(timeout=5)
    assert connected  # accepted, then closed at once: the client backs off and comes back
    assert (await second.receive_output(timeout=5)) == {"type": "websocket.close", "code": 4503}
    assert inner.reached == 1  # the application never saw the second handshake
    assert ADMISSIONS_DEFERRED._value.get() == deferred_before + 1

    inner.go.set()
    assert (await first_connecting)[0] is True
    await first.disconnect()


async def test_an_accepted_socket_gives_its_place_to_the_next_handshake(one_place):
    inner = SlowHandshake()
    inner.go.set()
    application = SocketAdmission(inner)
    first = WebsocketCommunicator(application, "/ws/")
    assert (await first.connect(timeout=5))[0] is True
    # The first socket stays open; the place was given back when it was accepted.
    second = WebsocketCommunicator(application, "/ws/")
    assert (await second.connect(timeout=5))[0] is True
    assert inner.reached == 2
    await first.disconnect()
    await second.disconnect()
