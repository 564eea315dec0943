"""Who is on the other end of a websocket.

Browsers authenticate with the session cookie and must present an allowed
``Origin`` (compared exactly: scheme, host and port), which stops another site
from opening a socket with the user's cookie. Other programs send
``Authorization: Token <key>``; a browser page cannot set that header, so no
origin check is needed for it.

A session socket passes the same gates as a page: a session past its absolute
lifetime, or one that still owes its second factor, is anonymous here.

When the database (or Redis, holding nothing here but the same classifier) cannot be
reached while the credential is being checked, the socket is accepted and closed at
once with 4503: the client reconnects with back-off, as after any other close.
"""

import logging

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from rest_framework.authtoken.models import Token

from core.unavailable import service_unavailable
from groups.sessions import session_outlived
from groups.two_factor import (
    credential_meets_two_factor,
    session_is_verified,
    token_meets_two_factor,
)

logger = logging.getLogger(__name__)

# Accepted and closed at once: a dependency is down; reconnect with back-off.
CLOSE_UNAVAILABLE = 4503


async def close_unavailable(send, error: BaseException) -> None:
    logger.warning("websocket refused, a dependency is unavailable: %s", error)
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": CLOSE_UNAVAILABLE})


@database_sync_to_async
def _user_for_token(key: str):
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active or not token_meets_two_factor(token):
        return AnonymousUser()
    return token.user


def origin_allowed(origin: str | None) -> bool:
    if not origin:
        return False
    return origin.strip().lower() in {o.lower() for o in settings.WEBSOCKET_ALLOWED_ORIGINS}


@database_sync_to_async
def _session_passes_gates(session, user) -> bool:
    if session_outlived(dict(session.items())):
        return False
    return credential_meets_two_factor(user=user, second_factor=session_is_verified(session))


class _SessionGates:
    """Runs after channels has found the session's user."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        user = scope.get("user")
        authenticated = user is not None and user.is_authenticated
        if authenticated and not await _session_passes_gates(scope["session"], user):
            scope = dict(scope, user=AnonymousUser())
        # Authentication is over: what fails from here is the socket's own business.
        scope["auth_state"]["done"] = True
        return await self.inner(scope, receive, send)


class WebsocketAuthMiddleware:
    def __init__(self, inner):
        self.inner = inner
        self.session_stack = AuthMiddlewareStack(_SessionGates(inner))

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", []))
        authorization = headers.get(b"authorization", b"").decode("latin-1").strip()
        if authorization:
            scheme, _space, key = authorization.partition(" ")
            key = key.strip()
            user = AnonymousUser()
            if scheme.lower() == "token" and key:
                try:
                    user = await _user_for_token(key)
                except Exception as error:
                    if not service_unavailable(error):
                        raise
                    return await close_unavailable(send, error)
            scope = dict(scope, user=user, auth_method="token", token_key=key)
            return await self.inner(scope, receive, send)
        origin = headers.get(b"origin", b"").decode("latin-1")
        if not origin_allowed(origin):
            return await WebsocketDenier()(scope, receive, send)
        state = {"done": False}  # shared by the copies of the scope the stack makes
        try:
            return await self.session_stack(
                dict(scope, auth_method="session", auth_state=state), receive, send
            )
        except Exception as error:
            if state["done"] or not service_unavailable(error):
                raise
            return await close_unavailable(send, error)
