"""What keeps a socket honest after its handshake: its credential, checked again while
it lives, and the rate of the frames its user sends.

Logout, deactivation and ending a session close a socket at once through the channel
layer; the periodic watch here catches what sends no notice (an expired session, a
changed password, a deleted token) and, after Redis was lost, what a lost notice
would have said. A failed check closes the socket with 4401. A person's own frames on
a session socket renew the session's idle timeout, as a page request would.
"""

import asyncio
import time
from typing import Protocol

from django.conf import settings

from core.unavailable import service_unavailable
from groups.sessions import session_extend

from . import selectors
from .database import in_database_thread

CLOSE_UNAUTHENTICATED = 4401
CLOSE_RATE_LIMITED = 4429

# Frames that are the person's own doing: they count as activity for the session's
# idle timeout. Pings and syncs are sent by the client program on its own.
ACTIVITY_FRAMES = {"message.post", "message.retract", "receipt.read", "receipt.ack"}


class GuardedSocket(Protocol):
    scope: dict
    user: object
    closing: bool

    async def close(self, code: int) -> None: ...


class RateLimiter:
    """A token bucket per user, shared by that user's sockets in this process; a socket
    that keeps sending once it is refused is closed (4429)."""

    buckets: dict[int, list[float]] = {}

    def __init__(self, user_id: int):
        self.user_id = user_id
        self.rejected_in_a_row = 0

    @classmethod
    def allow(cls, user_id: int) -> bool:
        now = time.monotonic()
        burst, rate = settings.WEBSOCKET_RATE_BURST, settings.WEBSOCKET_RATE_PER_SECOND
        tokens, stamp = cls.buckets.get(user_id, (burst, now))
        tokens = min(burst, tokens + (now - stamp) * rate)
        if tokens < 1:
            cls.buckets[user_id] = [tokens, now]
            return False
        cls.buckets[user_id] = [tokens - 1, now]
        return True

    def frame_allowed(self) -> bool:
        """Take a token for one frame of this socket; False when there is none left."""
        if not self.allow(self.user_id):
            self.rejected_in_a_row += 1
            return False
        self.rejected_in_a_row = 0
        return True

    @property
    def flooding(self) -> bool:
        """More frames refused in a row than three bursts: the socket is to be closed."""
        return self.rejected_in_a_row > settings.WEBSOCKET_RATE_BURST * 3


def _credentials_valid(*, auth_method, session_key, token_key, user_id) -> bool:
    if auth_method == "session":
        return selectors.session_is_valid(session_key=session_key, user_id=user_id)
    return selectors.token_is_valid(key=token_key, user_id=user_id)


def _recheck(*, user, auth_method, session_key, token_key):
    """After Redis was lost, in one trip: is the credential still valid, and which
    groups does the user hold now (a removal or an addition may have gone unheard)."""
    valid = _credentials_valid(
        auth_method=auth_method, session_key=session_key, token_key=token_key, user_id=user.pk
    )
    return valid, (selectors.socket_groups(user=user) if valid else {})


class CredentialGuard:
    """The session or token one socket was opened with, checked again while it lives."""

    def __init__(self, socket: GuardedSocket):
        self.socket = socket
        self.active = False  # a person's own frame arrived since the last check

    def credential(self) -> dict:
        scope = self.socket.scope
        return {
            "auth_method": scope.get("auth_method"),
            "session_key": getattr(scope.get("session"), "session_key", None),
            "token_key": scope.get("token_key"),
            "user_id": self.socket.user.pk,
        }

    def start(self) -> asyncio.Task:
        """Watch the credential every WEBSOCKET_SESSION_CHECK_SECONDS; cancel the task
        returned to stop."""
        return asyncio.create_task(self._watch_credentials())

    async def _watch_credentials(self):
        while not self.socket.closing:
            await asyncio.sleep(settings.WEBSOCKET_SESSION_CHECK_SECONDS)
            active, self.active = self.active, False
            try:
                if not await self.still_valid(extend=active):
                    return
            except Exception as error:
                if not service_unavailable(error):
                    raise
                # The database is down: checked again at the next turn.
                self.active = self.active or active

    async def still_valid(self, *, extend: bool = False) -> bool:
        """Check the credential now; close the socket (4401) if it fails. ``extend``:
        renew a session's idle timeout."""
        credential = self.credential()
        valid = await in_database_thread(_credentials_valid)(**credential)
        if valid and extend and credential["auth_method"] == "session":
            valid = await in_database_thread(session_extend)(session_key=credential["session_key"])
        if not valid and not self.socket.closing:
            await self.socket.close(CLOSE_UNAUTHENTICATED)
        return valid

    async def recheck(self) -> dict | None:
        """The user's groups now ({group_id: (slug, head)}), or None (and the socket
        closed with 4401) when the credential is no longer valid."""
        credential = self.credential()
        del credential["user_id"]
        valid, groups = await in_database_thread(_recheck)(user=self.socket.user, **credential)
        if not valid:
            if not self.socket.closing:
                await self.socket.close(CLOSE_UNAUTHENTICATED)
            return None
        return groups
