"""Two daphne processes sharing PostgreSQL and Redis behave as one."""

import asyncio
import json
import uuid

import pytest
import websockets

from tests.conftest import api_token
from tests.live import start_daphne

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_processes(world, settings):
    if not settings.REDIS_URL:
        pytest.skip("scale-out needs the Redis channel layer")
    servers = [start_daphne(), start_daphne()]
    yield servers
    for server in servers:
        print(server.stop()[-3000:])


def token(user) -> str:
    return api_token(user)


async def connect(server, key):
    socket = await websockets.connect(
        server.ws_url, additional_headers={"Authorization": f"Token {key}"}
    )
    hello = json.loads(await socket.recv())
    assert hello["type"] == "hello"
    return socket, hello


async def next_frame(socket, wanted: str, timeout=10):
    while True:
        frame = json.loads(await asyncio.wait_for(socket.recv(), timeout))
        if frame["type"] == wanted:
            return frame


def post_frame(group: str, body: str) -> str:
    return json.dumps(
        {"type": "message.post", "group": group, "client_id": str(uuid.uuid4()), "body": body}
    )


def test_a_member_on_one_process_receives_what_a_member_on_the_other_posts(two_processes, world):
    first, second = two_processes
    slug = world.group.slug
    reader_key, writer_key = token(world.officer_de), token(world.officer_fr)

    async def scenario():
        reader, _hello = await connect(first, reader_key)
        writer, _hello = await connect(second, writer_key)
        await writer.send(post_frame(slug, "from process two"))
        event = await next_frame(reader, "event")
        await reader.close()
        await writer.close()
        return event

    event = asyncio.run(scenario())
    assert event["group"] == slug and "from process two" in event["data"]["html"]


def test_a_removal_on_one_process_evicts_sockets_on_the_other(two_processes, world):
    first, second = two_processes
    slug = world.group.slug
    removed_key, writer_key, staff_key = (
        token(world.officer_de),
        token(world.officer_fr),
        token(world.staff),
    )

    async def scenario():
        removed, _hello = await connect(second, removed_key)
        coordinator_api = f"http://127.0.0.1:{first.port}/api/v1/groups/{slug}/members/officer.de/"
        loop = asyncio.get_running_loop()

        def remove():
            import urllib.request

            request = urllib.request.Request(
                coordinator_api, method="DELETE", headers={"Authorization": f"Token {staff_key}"}
            )
            return urllib.request.urlopen(request).status

        assert await loop.run_in_executor(None, remove) == 204
        revoked = await next_frame(removed, "access.revoked")
        writer, _hello = await connect(first, writer_key)
        await writer.send(post_frame(slug, "after the removal"))
        await next_frame(writer, "message.accepted")
        leaked = []
        try:
            while True:
                frame = json.loads(await asyncio.wait_for(removed.recv(), 1.5))
                if frame.get("group") == slug:
                    leaked.append(frame)
        except TimeoutError:
            pass
        await removed.close()
        await writer.close()
        return revoked, leaked

    revoked, leaked = asyncio.run(scenario())
    assert revoked["group"] == slug
    assert leaked == []


def test_a_process_killed_mid_stream_loses_nothing_for_clients_that_reconnect_elsewhere(
    two_processes, world
):
    first, second = two_processes
    slug = world.group.slug
    total = 40
    reader_key, writer_key = token(world.officer_de), token(world.officer_fr)

    async def scenario():
        reader, hello = await connect(first, reader_key)
        cursor = hello["groups"][slug]
        writer, _hello = await connect(second, writer_key)
        seen = []

        async def read_until_closed(socket):
            nonlocal cursor
            try:
                async for raw in socket:
                    frame = json.loads(raw)
                    if frame["type"] == "event" and frame["group"] == slug:
                        seen.append(frame["seq"])
                        cursor = frame["seq"]
            except websockets.ConnectionClosed:
                pass

        reading = asyncio.create_task(read_until_closed(reader))
        for number in range(total):
            await writer.send(post_frame(slug, f"burst {number}"))
            await next_frame(writer, "message.accepted")
            await asyncio.sleep(0.11)  # stay under the per-user rate limit
            if number == total // 2:
                first.process.kill()  # the reader's process dies mid-stream
        await asyncio.wait_for(reading, 10)
        # The reader reconnects to the surviving process and catches up from its cursor.
        again, _hello = await connect(second, reader_key)
        await again.send(json.dumps({"type": "sync", "cursors": {slug: cursor}}))
        while True:
            page = await next_frame(again, "sync.page")
            seen.extend(event["seq"] for event in page["events"])
            if not page["limited"]:
                break
        await again.close()
        await writer.close()
        return seen, hello["groups"][slug]

    seen, start = asyncio.run(scenario())
    assert seen == list(range(start + 1, start + total + 1)), "every message once, in order"
