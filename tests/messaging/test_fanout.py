"""core.fanout: one subscription per process, one inbox per socket."""

import asyncio
import json
import os

import pytest
import redis
from django.conf import settings

from core.fanout import LISTENER_NAME, Inbox, decode, encode, fanout


def event(group_id: int, seq: int, **extra) -> dict:
    frame = {"type": "event", "group": "g", "seq": seq, "data": {"html": '<p>"x"</p>\n'}}
    return {
        "type": "cug.event",
        "group_id": group_id,
        "seq": seq,
        **extra,
        "text": json.dumps(frame),
    }


def test_events_survive_the_wire_unchanged():
    messages = [
        event(7, 3, removes=12, committed_at=1.5),
        event(7, 4),
        {**event(8, 1), "text": '{"type":"event","data":{"html":"<p>é ☃ 𝄞 \\n</p>"}}'},
    ]
    assert decode(encode(messages).encode()) == messages
    assert decode(encode(messages[:1])) == messages[:1]
    # The frames' texts travel as they are, back to back after one header line.
    assert encode(messages).split("\n", 1)[1] == "".join(m["text"] for m in messages)


async def test_an_inbox_hands_over_everything_waiting_in_one_batch():
    inbox = Inbox(limit=10)
    waiting = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    assert not waiting.done()
    inbox.put(event(1, 1))
    inbox.put(event(1, 2))
    batch = await asyncio.wait_for(waiting, 1)
    assert [e["seq"] for e in batch["events"]] == [1, 2] and batch["behind"] is False
    inbox.put(event(1, 3))
    assert [e["seq"] for e in (await inbox.get())["events"]] == [3]


async def test_a_full_inbox_stops_queueing_and_says_the_socket_is_behind():
    from prometheus_client import REGISTRY

    overflows = REGISTRY.get_sample_value("cencomm_socket_inbox_overflows_total") or 0
    inbox = Inbox(limit=2)
    for seq in range(1, 6):
        inbox.put(event(1, seq))
    # Counted once per overflow, not once per event left out.
    assert REGISTRY.get_sample_value("cencomm_socket_inbox_overflows_total") == overflows + 1
    batch = await asyncio.wait_for(inbox.get(), 1)
    assert [e["seq"] for e in batch["events"]] == [1, 2]
    assert batch["behind"] is True
    # Once read, the inbox takes events again and is no longer behind.
    inbox.put(event(1, 6))
    batch = await asyncio.wait_for(inbox.get(), 1)
    assert ([e["seq"] for e in batch["events"]], batch["behind"]) == ([6], False)


async def test_events_reach_only_the_inboxes_that_follow_their_group():
    mine, other = Inbox(), Inbox()
    await fanout.follow(mine, [101, 102])
    await fanout.follow(other, [103])
    try:
        await fanout.publish([event(101, 1), event(103, 1), event(102, 1)])
        batch = await asyncio.wait_for(mine.get(), 2)
        while len(batch["events"]) < 2:
            batch["events"] += (await asyncio.wait_for(mine.get(), 2))["events"]
        assert [(e["group_id"], e["seq"]) for e in batch["events"]] == [(101, 1), (102, 1)]
        assert [e["group_id"] for e in (await asyncio.wait_for(other.get(), 2))["events"]] == [103]
        fanout.unfollow(mine, [101])
        await fanout.publish([event(101, 2), event(102, 2)])
        assert [e["group_id"] for e in (await asyncio.wait_for(mine.get(), 2))["events"]] == [102]
    finally:
        fanout.unfollow(mine)
        fanout.unfollow(other)


def listener_ids(client: redis.Redis) -> list[int]:
    name = LISTENER_NAME % os.getpid()
    return [c["id"] for c in client.client_list() if c.get("name") == name]


async def test_when_the_subscription_breaks_every_inbox_is_told_it_is_behind():
    inbox = Inbox()
    await fanout.follow(inbox, [201])
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        before = listener_ids(client)
        assert len(before) == 1
        client.client_kill_filter(_id=before[0])
        # Told to rejoin its channel groups (Redis may have restarted empty), and to
        # catch up from the database.
        assert await asyncio.wait_for(inbox.get(), 5) == {"type": "socket.rejoin"}
        batch = await asyncio.wait_for(inbox.get(), 1)
        assert batch == {"type": "cug.events", "events": [], "behind": True}
        after = listener_ids(client)
        assert len(after) == 1 and after != before
        # And events flow again on the new subscription.
        await fanout.publish([event(201, 1)])
        assert [e["seq"] for e in (await asyncio.wait_for(inbox.get(), 2))["events"]] == [1]
    finally:
        fanout.unfollow(inbox)
        client.close()


@pytest.mark.parametrize("count", [1, 3])
def test_outside_an_event_loop_events_are_published_synchronously(count):
    received = []

    async def scenario():
        inbox = Inbox()
        await fanout.follow(inbox, [301])
        try:
            await asyncio.to_thread(
                fanout.publish_sync, [event(301, s) for s in range(1, count + 1)]
            )
            while len(received) < count:
                received.extend((await asyncio.wait_for(inbox.get(), 2))["events"])
        finally:
            fanout.unfollow(inbox)

    asyncio.run(scenario())
    assert [e["seq"] for e in received] == list(range(1, count + 1))


async def test_other_messages_keep_their_place_among_events_and_are_never_left_out():
    inbox = Inbox(limit=3)
    inbox.put(event(1, 1))
    inbox.put_message({"type": "websocket.receive", "text": "a frame"})
    inbox.put(event(1, 2))
    inbox.put(event(1, 3))
    inbox.put(event(1, 4))  # over the limit: left out, the socket is behind
    inbox.put_message({"type": "access.revoked", "group_id": 1})
    # The first batch of events says the socket is behind: it catches up at once.
    first = await asyncio.wait_for(inbox.get(), 1)
    assert [e["seq"] for e in first["events"]] == [1] and first["behind"] is True
    assert (await inbox.get())["type"] == "websocket.receive"
    events = await inbox.get()
    assert [e["seq"] for e in events["events"]] == [2, 3] and events["behind"] is False
    assert (await inbox.get())["type"] == "access.revoked"
