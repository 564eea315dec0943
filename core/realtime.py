"""The one place that rings the doorbell: group events go out through the process-wide
fan-out (core/fanout.py), messages for one user or session through the channel layer.

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


def user_channel(user_id: int) -> str:
    return f"user.{user_id}"


def send_on_commit(channel_group: str | None, message: dict, *, using: str = "default") -> None:
    """After commit, send ``message`` to a channel group (``None``: a group event)."""
    _send_all_on_commit(channel_group, [message], using=using)


def _send_all_on_commit(channel_group: str | None, messages: list[dict], *, using="default"):
    if not messages:
        return

    def after_commit():
        # The commit time, for the fan-out latency metric of the sockets that deliver it.
        committed_at = time.time()
        for message in messages:
            message.setdefault("committed_at", committed_at)
        # Handed to the event loop in commit order; the database thread does not wait.
        publisher.submit_many(channel_group, messages)

    transaction.on_commit(after_commit, using=using, robust=True)


def broadcast_group_events_on_commit(events: list[tuple[int, dict, int | None]]) -> None:
    """Deliver event frames to every socket following their groups, after commit, in this
    order and with one hand-over to the event loop (groups/stream.py is the only caller).

    Each frame is serialised once here rather than once per socket. ``removes`` names
    the user whom the event takes out of the group: their sockets drop the group on
    this very event, in seq order, so no later event can reach them first.
    """
    messages = []
    for group_id, frame, removes in events:
        message = {"type": "cug.event", "group_id": group_id, "seq": frame["seq"]}
        if removes is not None:
            message["removes"] = removes
        message["text"] = json.dumps(frame)
        messages.append(message)
    _send_all_on_commit(None, messages)


def notify_user_on_commit(*, user_id: int, message: dict) -> None:
    """Deliver a control message to every socket of one user, on every process."""
    send_on_commit(user_channel(user_id), message)
