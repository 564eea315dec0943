"""The API's rate limits, keyed on the client's address as cencomm.logging finds it.

DRF's own throttles read X-Forwarded-For from anyone (and whole, when NUM_PROXIES is
unset), so a client that rotates the header is never limited. These key on the same
address as the lockout and the audit trail, and count in the shared cache (Redis
when REDIS_URL is set), so a limit holds across daphne processes.
"""

from rest_framework import throttling

from .logging import request_client_ip


class ClientAddressMixin:
    def get_ident(self, request) -> str:
        return request_client_ip(request) or "unknown"


class AnonRateThrottle(ClientAddressMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(ClientAddressMixin, throttling.UserRateThrottle):
    pass
