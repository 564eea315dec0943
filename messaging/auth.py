"""Who is on the other end of a websocket.

Browsers authenticate with the session cookie and must present an allowed
``Origin`` (compared exactly: scheme, host and port), which stops another site
from opening a socket with the user's cookie. Other programs send
``Authorization: Token <key>``; a browser page cannot set that header, so no
origin check is needed for it.
"""

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from rest_framework.authtoken.models import Token


@database_sync_to_async
def _user_for_token(key: str):
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return AnonymousUser()
    return token.user


def origin_allowed(origin: str | None) -> bool:
    if not origin:
        return False
    return origin.strip().lower() in {o.lower() for o in settings.WEBSOCKET_ALLOWED_ORIGINS}


class WebsocketAuthMiddleware:
    def __init__(self, inner):
        self.inner = inner
        self.session_stack = AuthMiddlewareStack(inner)

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", []))
        authorization = headers.get(b"authorization", b"").decode("latin-1").strip()
        if authorization:
            scheme, _space, key = authorization.partition(" ")
            user = AnonymousUser()
            if scheme.lower() == "token" and key.strip():
                user = await _user_for_token(key.strip())
            return await self.inner(dict(scope, user=user, auth_method="token"), receive, send)
        origin = headers.get(b"origin", b"").decode("latin-1")
        if not origin_allowed(origin):
            return await WebsocketDenier()(scope, receive, send)
        return await self.session_stack(dict(scope, auth_method="session"), receive, send)
