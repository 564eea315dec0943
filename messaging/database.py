"""Where the websocket's database work runs: a small pool of threads, not one.

Channels runs every consumer's database work on a single thread per process. Each post
waits there for PostgreSQL to make its commit durable (about 2.5 ms on this kind of
machine), so at a few hundred posts a second every socket queued behind those waits
(docs/performance.md). A pool lets commits overlap while each call still runs as one
short transaction; the order within a group is kept by the lock on its row, and
sockets that see events out of order fill the gap from the database.

While the database is down, a call waits DATABASE_POOL_TIMEOUT seconds for a
connection before it fails, holding one of the few threads: hundreds of sockets would
queue behind those waits for minutes. So once a call has failed because the database
could not be reached, one call at a time tries again (at most every PROBE_SECONDS) and
the others fail at once with ``DatabaseKnownDown``, which the socket answers with its
`unavailable` error frame. The first call that gets through closes the breaker.
"""

import functools
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from channels.db import DatabaseSyncToAsync
from django.conf import settings

from core.unavailable import DatabaseKnownDown, database_unavailable

logger = logging.getLogger(__name__)

_pool: ThreadPoolExecutor | None = None

# While the database is down: how often one call may try it again.
PROBE_SECONDS = 0.5


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(
            max_workers=settings.WEBSOCKET_DATABASE_THREADS, thread_name_prefix="cencomm-db"
        )
    return _pool


class Breaker:
    """Whether the database is known to be down, for this process's event loop(s)."""

    def __init__(self):
        self.down_since: float | None = None
        self.probing = False
        self.next_probe = 0.0

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def enter(self) -> bool:
        """Before a call: raises while down, unless this call is the next probe (True)."""
        if self.down_since is None:
            return False
        now = time.monotonic()
        if self.probing or now < self.next_probe:
            raise DatabaseKnownDown("the database is unavailable")
        self.probing = True
        return True

    def leave(self, probe: bool, error: BaseException | None) -> None:
        if probe:
            self.probing = False
        if error is not None and database_unavailable(error):
            if self.down_since is None:
                logger.warning("database unavailable for the sockets: %s", error.__cause__ or error)
                self.down_since = time.monotonic()
            self.next_probe = time.monotonic() + PROBE_SECONDS
        elif self.down_since is not None:
            logger.warning(
                "database available again after %.1f s", time.monotonic() - self.down_since
            )
            self.down_since = None


breaker = Breaker()


def in_database_thread(function):
    """Like channels' database_sync_to_async, on the pool; stale connections are closed
    around each call. Fails at once with DatabaseKnownDown while the database is down."""
    call = DatabaseSyncToAsync(function, thread_sensitive=False, executor=_executor())

    @functools.wraps(function)
    async def guarded(*args, **kwargs):
        probe = breaker.enter()
        try:
            result = await call(*args, **kwargs)
        except Exception as error:
            breaker.leave(probe, error)
            raise
        except BaseException:  # cancelled: it says nothing about the database
            if probe:
                breaker.probing = False
            raise
        breaker.leave(probe, None)
        return result

    return guarded
