"""503, not 500 and not a hang, when the database cannot be reached or has no connection free.

Each process holds a bounded pool of connections (settings DATABASES). Under a load
larger than the pool, a request waits up to DATABASE_POOL_TIMEOUT seconds for one, and
then psycopg_pool raises PoolTimeout (Django wraps it in its OperationalError).

The middleware takes the request's `default` connection before anything else touches
the database: the session, the user and the two-factor check all do, in middleware
whose errors Django turns into 500 pages before an outer middleware could see them.
Taken here, the wait for the pool happens in one place, and the connection is the one
the rest of the request uses (Django gives it back when the response is finished).
What fails later, in a view (the CEN database, a connection lost mid-request), comes
through process_exception.

Redis is a dependency too: the API's rate limits count in it. A request that finds Redis
down gets the same 503 (`service_unavailable`), and the websocket maps both kinds of
outage to its `unavailable` error frame with the same classifier
(messaging/socket_errors.py).
"""

import logging

import psycopg
import psycopg_pool
import psycopg_pool.base
import psycopg_pool.pool
import redis.exceptions
from django.contrib.auth.models import AnonymousUser
from django.db import OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from .errors import json_error

logger = logging.getLogger(__name__)

# The client may try again after this many seconds.
RETRY_AFTER_SECONDS = 5

# SQLSTATE classes that mean "the database is not there for us now", not "this query
# is wrong": connection exceptions, insufficient resources (too many clients), and
# operator intervention (shutdown, starting up). A deadlock or a cancelled statement
# is a fault of the request and stays a 500.
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P")


class DatabaseKnownDown(Exception):
    """Raised without trying while the database is known to be down (messaging/database.py)."""


class _CappedBackoff(psycopg_pool.base.AttemptWithBackoff):
    """psycopg_pool waits 1, 2, 4, 8, 16 … s between attempts to reconnect: after an
    outage of a minute, the pool would come back half a minute after PostgreSQL. Here
    the wait stops growing at RECONNECT_MAX_DELAY seconds (still with its jitter)."""

    def update_delay(self, now: float) -> None:
        super().update_delay(now)
        self.delay = min(self.delay, RECONNECT_MAX_DELAY)


# The pools retry a lost database at least this often (one connection attempt per pool).
RECONNECT_MAX_DELAY = 2.0
psycopg_pool.pool.AttemptWithBackoff = _CappedBackoff


def database_unavailable(error: BaseException) -> bool:
    """Whether this error says the database could not serve us, rather than a fault in the query."""
    if isinstance(error, DatabaseKnownDown):
        return True
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    if isinstance(cause, psycopg_pool.PoolTimeout | psycopg_pool.TooManyRequests):
        return True
    if isinstance(cause, psycopg.OperationalError):
        # A client-side failure (refused, lost, closed) carries no SQLSTATE.
        return cause.sqlstate is None or cause.sqlstate.startswith(_UNAVAILABLE_SQLSTATES)
    return False


def redis_unavailable(error: BaseException) -> bool:
    """Whether this error says Redis could not be reached (refused, lost, timed out, loading)."""
    return isinstance(error, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError)


def service_unavailable(error: BaseException) -> bool:
    """A dependency (a database or Redis) is not there for us now: try again shortly."""
    return database_unavailable(error) or redis_unavailable(error)


def unavailable_response(request: HttpRequest) -> HttpResponse:
    detail = _("The service is busy or its database is unreachable. Please try again shortly.")
    if request.path.startswith("/api/"):
        response = json_error(503, "unavailable", detail)
    else:
        # The page must not reach for the database itself: an anonymous user and no
        # messages, so that neither the session nor the user is loaded to render it.
        response = render(
            request,
            "unavailable.html",
            {"detail": detail, "user": AnonymousUser(), "messages": []},
            status=503,
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        # These report on the database themselves, or do not use it.
        self.exempt_paths = {reverse("health"), reverse("metrics")}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path not in self.exempt_paths:
            try:
                connections["default"].ensure_connection()
            except OperationalError as error:
                logger.warning("database unavailable: %s", error.__cause__ or error)
                return unavailable_response(request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if database_unavailable(exception):
            logger.warning("database unavailable: %s", exception.__cause__ or exception)
            return unavailable_response(request)
        if redis_unavailable(exception):
            logger.warning("redis unavailable: %s", exception)
            return unavailable_response(request)
        return None
