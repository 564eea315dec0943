"""Web Push: one request to a browser vendor's push service, signed with the server's
VAPID key and encrypted (aes128gcm) for the device that subscribed.

What is pushed never carries a message, a seizure or a name: only which group has
something new, of which kinds, and how many (groups/notifications.py builds it). The
push service sees an encrypted blob, the device learns where to look.

``WEB_PUSH_ENABLED`` off (the default, and on networks without internet): nothing here
is called and no request leaves the server.
"""

import base64
import fnmatch
import functools
import json
import logging
from enum import StrEnum
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

logger = logging.getLogger(__name__)

# Long enough for a phone switched off over a night shift; a later push replaces it.
TIME_TO_LIVE_SECONDS = 12 * 60 * 60


class PushOutcome(StrEnum):
    SENT = "sent"
    GONE = "gone"  # the push service no longer knows the subscription (404, 410)
    FAILED = "failed"  # anything else: tried again with the next notification


def web_push_enabled() -> bool:
    return bool(settings.WEB_PUSH_ENABLED and settings.WEB_PUSH_VAPID_PRIVATE_KEY)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def vapid_key_pair() -> tuple[str, str]:
    """A new VAPID key pair: (private key, public key), both base64url without padding —
    the private one for ``WEB_PUSH_VAPID_PRIVATE_KEY``, the public one what browsers get."""
    vapid = Vapid()
    vapid.generate_keys()
    private = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    return _b64url(private), _public_key_of(vapid)


def _public_key_of(vapid: Vapid) -> str:
    return _b64url(
        vapid.public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )


@functools.cache
def _vapid(private_key: str) -> Vapid:
    return Vapid.from_string(private_key=private_key)


def vapid_public_key() -> str | None:
    """The key a browser subscribes with (``applicationServerKey``); None when off."""
    if not web_push_enabled():
        return None
    return _public_key_of(_vapid(settings.WEB_PUSH_VAPID_PRIVATE_KEY))


def endpoint_allowed(endpoint: str) -> bool:
    """Whether the server may send to this endpoint: one of the push services named in
    ``WEB_PUSH_ALLOWED_ORIGINS``, so that a subscription cannot make the server post to
    an address of the operator's own network."""
    parts = urlsplit(endpoint)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.username:
        return False
    port = parts.port or (443 if parts.scheme == "https" else 80)
    origin = f"{parts.scheme}://{parts.hostname}:{port}"
    return any(
        fnmatch.fnmatchcase(origin, pattern if pattern.count(":") == 2 else f"{pattern}:443")
        for pattern in settings.WEB_PUSH_ALLOWED_ORIGINS
    )


def push_send(*, endpoint: str, p256dh: str, auth: str, payload: dict, urgent: bool) -> PushOutcome:
    """Send one encrypted push; what the push service answered, as an outcome."""
    if not web_push_enabled() or not endpoint_allowed(endpoint):
        return PushOutcome.FAILED
    try:
        webpush(
            subscription_info={"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
            data=json.dumps(payload, separators=(",", ":")),
            vapid_private_key=_vapid(settings.WEB_PUSH_VAPID_PRIVATE_KEY),
            # A fresh dict each time: the library writes the audience and expiry into it.
            vapid_claims={"sub": settings.WEB_PUSH_CONTACT},
            timeout=settings.WEB_PUSH_TIMEOUT_SECONDS,
            ttl=TIME_TO_LIVE_SECONDS,
            headers={"Urgency": "high" if urgent else "normal"},
        )
    except WebPushException as error:
        status = getattr(error.response, "status_code", None)
        if status in {404, 410}:
            return PushOutcome.GONE
        logger.warning("push to %s refused: %s", urlsplit(endpoint).hostname, status)
        return PushOutcome.FAILED
    except (requests.RequestException, ValueError) as error:
        logger.warning("push to %s failed: %s", urlsplit(endpoint).hostname, type(error).__name__)
        return PushOutcome.FAILED
    return PushOutcome.SENT
