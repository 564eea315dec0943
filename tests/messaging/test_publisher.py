"""core.publisher: a message submitted from synchronous code reaches the channel layer."""

import asyncio

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from core.publisher import publisher


def test_a_synchronous_caller_inside_a_foreign_event_loop_still_sends():
    # A script that drives a browser runs synchronous code while its own loop runs in
    # the same thread: the layer cannot be blocked on from there.
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("publisher.test", channel)
    try:

        async def synchronous_code_in_a_loop():
            publisher.submit_many("publisher.test", [{"type": "probe", "n": 1}])

        asyncio.run(synchronous_code_in_a_loop())

        async def receive():
            return await asyncio.wait_for(layer.receive(channel), 5)

        received = async_to_sync(receive)()
        assert received == {"type": "probe", "n": 1}
    finally:
        async_to_sync(layer.group_discard)("publisher.test", channel)
