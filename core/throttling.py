"""The API's rate limits, keyed on the client's address as core.logging finds it.

DRF's own throttles read X-Forwarded-For from anyone (and whole, when NUM_PROXIES is
unset), so a client that rotates the header is never limited. These key on the same
address as the lockout and the audit trail, and count in the shared cache (Redis
when REDIS_URL is set), so a limit holds across daphne processes.

While Redis cannot be reached they count in the process's memory instead: the limits
then hold per process, and the API keeps answering (docs/deploy.md).
"""

import logging

from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from rest_framework import throttling

from .logging import request_client_ip
from .unavailable import redis_unavailable

logger = logging.getLogger(__name__)


class _SharedOrLocalCache:
    """The shared cache, or this process's memory while the shared one is unreachable."""

    def __init__(self):
        self.local = LocMemCache("cencomm-throttle-fallback", {})
        self.failing = False

    def _call(self, method: str, *args):
        try:
            result = getattr(cache, method)(*args)
        except Exception as error:
            if not redis_unavailable(error):
                raise
            if not self.failing:
                logger.warning("API rate limits count per process: %s", error)
                self.failing = True
            return getattr(self.local, method)(*args)
        if self.failing:
            logger.warning("API rate limits count in the shared cache again")
            self.failing = False
        return result

    def get(self, key, default=None):
        return self._call("get", key, default)

    def set(self, key, value, timeout=None):
        return self._call("set", key, value, timeout)


_cache = _SharedOrLocalCache()


class ClientAddressMixin:
    def get_ident(self, request) -> str:
        return request_client_ip(request) or "unknown"


class AnonRateThrottle(ClientAddressMixin, throttling.AnonRateThrottle):
    cache = _cache


class UserRateThrottle(ClientAddressMixin, throttling.UserRateThrottle):
    cache = _cache
