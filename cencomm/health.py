"""Health: can this process reach both databases and Redis, and how full are its pools?"""

import time

import redis
from django.conf import settings
from django.db import DatabaseError, connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache


def _check_database(alias: str) -> None:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_redis() -> None:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


def health_checks() -> dict[str, dict]:
    checks = {
        "database": lambda: _check_database("default"),
        "cen_database": lambda: _check_database("cen"),
    }
    if settings.REDIS_URL:
        checks["redis"] = _check_redis
    results = {}
    for name, check in checks.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as error:
            # Django wraps the driver's errors in its own; the driver's says more
            # (PoolTimeout: every connection of this process is taken).
            cause = error.__cause__ if isinstance(error, DatabaseError) else None
            results[name] = {"ok": False, "error": (cause or error).__class__.__name__}
        else:
            results[name] = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}
    for name, alias in (("database", "default"), ("cen_database", "cen")):
        if pool := _pool(alias):
            stats = pool.get_stats()
            results[name]["pool"] = {
                "size": stats["pool_size"],
                "idle": stats["pool_available"],
                "waiting": stats["requests_waiting"],
                "max": pool.max_size,
            }
    return results


def _pool(alias: str):
    """This process's connection pool for the alias, when there is one."""
    return getattr(connections[alias], "pool", None)


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """200 when every dependency answers, 503 otherwise. No authentication: it says nothing secret."""
    results = health_checks()
    healthy = all(result["ok"] for result in results.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": results},
        status=200 if healthy else 503,
    )
