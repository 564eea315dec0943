"""The one place that rings the doorbell: events go out through the channel layer.

Services are the only callers, and only after commit: a client never hears of
something that was rolled back. The database is the record; a client that
misses a notification catches up by ``seq``.
"""

import json
import logging
import time

from django.db import transaction

from .publisher import publisher

logger = logging.getLogger(__name__)


def group_channel(group_id: int) -> str:
    return f"cug.{group_id}"


def user_channel(user_id: int) -> str:
    return f"user.{user_id}"


def _send(channel_group: str, message: dict) -> None:
    # Handed to the event loop in commit order; the database thread does not wait.
    publisher.submit(channel_group, message)


def send_on_commit(channel_group: str, message: dict, *, using: str = "default") -> None:
    def after_commit():
        # The commit time, for the fan-out latency metric of the sockets that deliver it.
        message.setdefault("committed_at", time.time())
        _send(channel_group, message)

    transaction.on_commit(after_commit, using=using, robust=True)


def broadcast_group_event_on_commit(*, group_id: int, frame: dict) -> None:
    """Deliver an event frame to every socket following the group.

    The frame is serialised once here rather than once per socket.
    """
    send_on_commit(
        group_channel(group_id),
        {"type": "cug.event", "group_id": group_id, "seq": frame["seq"], "text": json.dumps(frame)},
    )


def notify_user_on_commit(*, user_id: int, message: dict) -> None:
    """Deliver a control message to every socket of one user, on every process."""
    send_on_commit(user_channel(user_id), message)
