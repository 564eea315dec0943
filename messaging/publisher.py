"""Sending channel-layer messages without holding up the database thread, in order.

All consumers of a daphne process share one database thread. A service's on-commit
broadcast used to wait there (async_to_sync) for Redis to answer, so every other
socket's database work queued behind it. Now the message is handed to the process's
event loop and sent by a single task, in the order the commits happened; the thread
moves on at once. Outside an event loop (a command, a test, a worker) it is sent
synchronously as before.
"""

import asyncio
import logging
import os

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


class OrderedPublisher:
    def __init__(self):
        self._queues: dict[asyncio.AbstractEventLoop, asyncio.Queue] = {}

    def submit(self, group: str, message: dict) -> None:
        loop = self._main_loop()
        if loop is None:
            layer = get_channel_layer()
            if layer is not None:
                async_to_sync(layer.group_send)(group, message)
            return
        loop.call_soon_threadsafe(self._enqueue, loop, group, message)

    @staticmethod
    def _main_loop() -> asyncio.AbstractEventLoop | None:
        threadlocal = SyncToAsync.threadlocal
        loop = getattr(threadlocal, "main_event_loop", None)
        if loop is None or getattr(threadlocal, "main_event_loop_pid", None) != os.getpid():
            return None
        return loop if loop.is_running() else None

    def _enqueue(self, loop: asyncio.AbstractEventLoop, group: str, message: dict) -> None:
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = asyncio.Queue()
            loop.create_task(self._drain(queue))
        queue.put_nowait((group, message))

    async def _drain(self, queue: asyncio.Queue) -> None:
        layer = get_channel_layer()
        while True:
            group, message = await queue.get()
            try:
                await layer.group_send(group, message)
            except Exception:
                # The event is in the database: sockets fill the gap with the next one.
                logger.exception("channel layer send failed for %s", group)


publisher = OrderedPublisher()
