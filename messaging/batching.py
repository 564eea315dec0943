"""Posts from every socket of a process reach the database together.

Each post alone cost a transaction with its durable commit and half a dozen
statements, on the process's few database threads. When posts arrive faster than
that, the ones that queue up meanwhile are written by one call of
``services.messages_post``: one commit and a few statements for all of them
(docs/performance.md). A post that arrives alone is written alone, at once: batching
adds no delay, it only collects what would have waited anyway.

Each post still gets its own outcome; a socket handles its frames one at a time, so
its own posts keep their order.
"""

import asyncio
import logging
import weakref

from core.unavailable import service_unavailable

from .database import in_database_thread
from .services import Post, messages_post

logger = logging.getLogger(__name__)

# Posts written by one call at most, and calls under way at once per process. One
# at a time measured best: while a batch commits the next one gathers, whereas two
# batches at once fought over the interpreter and the group locks and each came out
# smaller (at 400 posts/s, p99 82 ms against 202 ms; docs/performance.md).
BATCH_SIZE = 100
IN_FLIGHT = 1


class _LoopState:
    def __init__(self):
        self.waiting: list[tuple[Post, asyncio.Future]] = []
        self.in_flight = 0
        self.tasks: set[asyncio.Task] = set()  # held, so that none is collected mid-write


class PostBatcher:
    def __init__(self):
        self._states: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    async def post(self, post: Post):
        """Post one message; returns ``(message, created)`` or raises its refusal."""
        loop = asyncio.get_running_loop()
        state = self._states.setdefault(loop, _LoopState())
        future = loop.create_future()
        state.waiting.append((post, future))
        if state.in_flight < IN_FLIGHT:
            state.in_flight += 1
            task = loop.create_task(self._write(state))
            state.tasks.add(task)
            task.add_done_callback(state.tasks.discard)
        return await future

    async def _write(self, state: _LoopState) -> None:
        try:
            while state.waiting:
                batch, state.waiting = state.waiting[:BATCH_SIZE], state.waiting[BATCH_SIZE:]
                try:
                    outcomes = await in_database_thread(messages_post)([p for p, _f in batch])
                except Exception as error:
                    if len(batch) == 1 or service_unavailable(error):
                        # The database is not there: every post of the batch gets the
                        # same answer (`unavailable`), without trying each again.
                        outcomes = [error] * len(batch)
                    else:
                        # One post broke the batch: write each alone so that only it fails.
                        logger.warning("a batch of posts failed; writing them one by one")
                        outcomes = [await self._alone(post) for post, _future in batch]
                for (_post, future), outcome in zip(batch, outcomes, strict=True):
                    if future.done():
                        continue  # the socket went away meanwhile
                    if isinstance(outcome, Exception):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
        finally:
            state.in_flight -= 1

    @staticmethod
    async def _alone(post: Post):
        try:
            return (await in_database_thread(messages_post)([post]))[0]
        except Exception as error:
            return error


batcher = PostBatcher()
