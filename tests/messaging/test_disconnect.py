"""A client that goes away while a frame is on its way to it is a disconnect: the socket
lets go of everything it held, exactly as after a clean close."""

import asyncio
import json
import uuid

import pytest
from autobahn.exception import Disconnected
from channels.db import database_sync_to_async

from cencomm.asgi import application
from core.metrics import SOCKETS
from messaging.services import message_post
from tests.conftest import api_token

pytestmark = pytest.mark.django_db(transaction=True)


def _watchers() -> int:
    return sum(
        1
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__qualname__", "").endswith("_watch_credentials")
    )


async def test_a_send_to_a_client_that_just_closed_ends_the_socket_cleanly(world):
    key = await database_sync_to_async(api_token)(world.officer_fr)
    incoming: asyncio.Queue = asyncio.Queue()
    await incoming.put({"type": "websocket.connect"})
    hello = asyncio.Event()

    async def receive():
        return await incoming.get()

    async def send(message):
        if message["type"] == "websocket.send":
            frame = json.loads(message["text"])
            if frame["type"] == "hello":
                hello.set()
            elif frame["type"] == "event":
                # What daphne raises when the client closed a moment before.
                raise Disconnected("Attempt to send on a closed protocol")

    scope = {
        "type": "websocket",
        "path": "/ws/",
        "headers": [(b"authorization", f"Token {key}".encode())],
        "query_string": b"",
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "subprotocols": [],
    }
    before = SOCKETS._value.get()
    socket = asyncio.ensure_future(application(scope, receive, send))
    await asyncio.wait_for(hello.wait(), 5)
    assert SOCKETS._value.get() == before + 1
    assert _watchers() == 1
    # Live events flow once the client has synced (or after the grace period).
    await incoming.put(
        {"type": "websocket.receive", "text": json.dumps({"type": "sync", "cursors": {}})}
    )
    await asyncio.sleep(0.2)
    await database_sync_to_async(message_post)(
        author=world.officer_de, group=world.group, body="on its way", client_id=uuid.uuid4()
    )
    # The application returns instead of raising, and holds nothing any more.
    await asyncio.wait_for(socket, 5)
    assert SOCKETS._value.get() == before
    assert _watchers() == 0
