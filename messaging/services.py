"""Everything that changes messages and receipts, whatever door it came in by: the
app's services, one module each (posting, retraction, receipts)."""

from .handling import (
    attachment_set_handling,
    handling_default,
    message_release,
    message_set_handling,
)
from .posting import (
    POSTABLE_KINDS,
    Post,
    attachment_data,
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
    "attachment_data",
    "attachment_set_handling",
    "check_may_post",
    "check_poster",
    "handling_default",
    "message_data",
    "message_post",
    "message_release",
    "message_retract",
    "message_set_handling",
    "messages_post",
    "receipt_acknowledge",
    "receipt_mark_read",
]
