"""Everything that changes messages and receipts, whatever door it came in by: the
app's services, one module each (posting, retraction, receipts)."""

from .posting import (
    POSTABLE_KINDS,
    Post,
    check_may_post,
    check_poster,
    message_data,
    message_post,
    messages_post,
)
from .receipts import receipt_acknowledge, receipt_mark_read
from .retraction import message_retract

__all__ = [
    "POSTABLE_KINDS",
    "Post",
    "check_may_post",
    "check_poster",
    "message_data",
    "message_post",
    "message_retract",
    "messages_post",
    "receipt_acknowledge",
    "receipt_mark_read",
]
