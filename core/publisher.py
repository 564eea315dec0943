"""Sending real-time messages without holding up the database thread, in order.

A service's on-commit broadcast used to wait on the database thread (async_to_sync)
for Redis to answer, so every other socket's database work queued behind it. Now the
message is handed to the process's event loop and sent by a single task, in the order
the commits happened; the thread moves on at once. Outside an event loop (a command,
a test, a worker) it is sent synchronously.

Group events go through the process-wide fan-out (core/fanout.py), several at a
time when they queue up; control messages to one user or session go through the
channel layer.

While Redis is down the sends fail and are dropped, with one warning when the outage
starts and one when it ends: what they announced is in the database, and the sockets
re-read it when Redis is back (fanout.py, ``socket.rejoin``).
"""

import asyncio
import itertools
import logging
import os
import threading

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer

from core.unavailable import redis_unavailable

from .fanout import fanout

logger = logging.getLogger(__name__)

BATCH = 200


class OrderedPublisher:
    def __init__(self):
        self._queues: dict[asyncio.AbstractEventLoop, asyncio.Queue] = {}
        self.failing = False  # the last send failed because Redis was unreachable

    def _failed(self, group: str | None, error: Exception) -> None:
        if redis_unavailable(error):
            if not self.failing:
                logger.warning("real-time sends fail, Redis is unreachable: %s", error)
            self.failing = True
        else:
            logger.exception("real-time send failed for %s", group or "events")

    def _succeeded(self) -> None:
        if self.failing:
            logger.warning("real-time sends reach Redis again")
            self.failing = False

    def submit_many(self, group: str | None, messages: list[dict]) -> None:
        """Send messages to a channel group, or (``group=None``) group events to the
        fan-out: in this order, with one hand-over to the event loop."""
        loop = self._main_loop()
        if loop is None:
            self._send_now(group, messages)
            return
        loop.call_soon_threadsafe(self._enqueue, loop, group, messages)

    def _send_now(self, group: str | None, messages: list[dict]) -> None:
        if _loop_runs_here():
            # A synchronous caller inside a foreign event loop (a script driving a
            # browser, say) cannot block on the layer from this thread.
            sender = threading.Thread(target=self._send_now, args=(group, messages))
            sender.start()
            sender.join()
            return
        try:
            if group is None:
                fanout.publish_sync(messages)
            else:
                layer = get_channel_layer()
                if layer is not None:
                    for message in messages:
                        async_to_sync(layer.group_send)(group, message)
        except Exception as error:
            # The event is in the database: sockets fill the gap with the next one.
            self._failed(group, error)
        else:
            self._succeeded()

    @staticmethod
    def _main_loop() -> asyncio.AbstractEventLoop | None:
        threadlocal = SyncToAsync.threadlocal
        loop = getattr(threadlocal, "main_event_loop", None)
        if loop is None or getattr(threadlocal, "main_event_loop_pid", None) != os.getpid():
            return None
        return loop if loop.is_running() else None

    def _enqueue(
        self, loop: asyncio.AbstractEventLoop, group: str | None, messages: list[dict]
    ) -> None:
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = asyncio.Queue()
            loop.create_task(self._drain(queue))
        for message in messages:
            queue.put_nowait((group, message))

    async def _drain(self, queue: asyncio.Queue) -> None:
        layer = get_channel_layer()
        # Redis's clients sometimes swallow a cancellation (the loop is closing): the
        # task ends then rather than wait for ever.
        while not asyncio.current_task().cancelling():
            waiting = [await queue.get()]
            while len(waiting) < BATCH and not queue.empty():
                waiting.append(queue.get_nowait())
            # Events that queued up meanwhile leave together, still in commit order.
            for group, run in itertools.groupby(waiting, key=lambda item: item[0]):
                messages = [message for _group, message in run]
                try:
                    if group is None:
                        await fanout.publish(messages)
                    else:
                        for message in messages:
                            await layer.group_send(group, message)
                except Exception as error:
                    if asyncio.current_task().cancelling():
                        # The loop is closing and Redis's client turned the
                        # cancellation into an error: let the task end.
                        raise asyncio.CancelledError from None
                    # The event is in the database: sockets fill the gap with the next one.
                    self._failed(group, error)
                else:
                    self._succeeded()


def _loop_runs_here() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


publisher = OrderedPublisher()
