"""Where the websocket's database work runs: a small pool of threads, not one.

Channels runs every consumer's database work on a single thread per process. Each post
waits there for PostgreSQL to make its commit durable (about 2.5 ms on this kind of
machine), so at a few hundred posts a second every socket queued behind those waits
(docs/performance.md). A pool lets commits overlap while each call still runs as one
short transaction; the order within a group is kept by the lock on its row, and
sockets that see events out of order fill the gap from the database.
"""

from concurrent.futures import ThreadPoolExecutor

from channels.db import DatabaseSyncToAsync
from django.conf import settings

_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(
            max_workers=settings.WEBSOCKET_DATABASE_THREADS, thread_name_prefix="cencomm-db"
        )
    return _pool


def in_database_thread(function):
    """Like channels' database_sync_to_async, on the pool; stale connections are closed around each call."""
    return DatabaseSyncToAsync(function, thread_sensitive=False, executor=_executor())
