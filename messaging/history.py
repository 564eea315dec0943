"""What the pages and the API show of a group's messages: history, unread counts, receipts."""

from django.db.models import Count, F, Q, QuerySet

from core.handling import may_leave_group
from core.vocabularies import HandlingCode
from groups.models import ClosedUserGroup, Membership, Role

from .models import Message, Receipt
from .services import message_data

HISTORY_PAGE_SIZE = 50


def message_item(message: Message) -> dict:
    """A message as the client renders it: the event payload, plus its current state."""
    data = message_data(message, attachments=list(message.attachments.all()))
    seizure = getattr(message, "seizure", None) if message.kind == Message.Kind.SEIZURE else None
    if seizure is not None:
        data["seizure"] = seizure.as_card()
    if message.is_retracted:
        data.update(html="", attachments=[], retracted=True)
    return data


def message_leaving_group(message: Message) -> dict:
    """A message as it leaves the group (exports, national systems): its attachments
    marked H2 are left out until the message is released."""
    data = message_item(message)
    released = message.released_at is not None
    data["attachments"] = [
        attachment
        for attachment in data["attachments"]
        if may_leave_group(attachment["handling_code"], released)
    ]
    return data


def messages_leaving_group(queryset: QuerySet[Message]) -> QuerySet[Message]:
    """The messages that may leave the group: all but the unreleased H2 ones."""
    return queryset.exclude(handling_code=HandlingCode.H2, released_at__isnull=True)


def message_page(*, group: ClosedUserGroup, before_seq: int | None = None) -> dict:
    """One page of history, newest last; ``more`` says whether older messages exist."""
    queryset = (
        Message.objects.filter(group=group)
        .select_related("author__profile__administration", "reply_to", "seizure")
        .prefetch_related("attachments")
        .order_by("-seq")
    )
    if before_seq is not None:
        queryset = queryset.filter(seq__lt=before_seq)
    rows = list(queryset[: HISTORY_PAGE_SIZE + 1])
    more = len(rows) > HISTORY_PAGE_SIZE
    return {"messages": [message_item(m) for m in reversed(rows[:HISTORY_PAGE_SIZE])], "more": more}


def unread_counts(*, user) -> dict[str, int]:
    """Messages by others after the member's read cursor, per group slug."""
    rows = (
        Membership.objects.filter(user=user, removed_at__isnull=True)
        .annotate(
            unread=Count(
                "group__messages",
                filter=Q(group__messages__seq__gt=F("last_read_seq"))
                & ~Q(group__messages__author=user),
            )
        )
        .values_list("group__slug", "unread")
    )
    return dict(rows)


def can_see_receipts(*, user, message: Message, role: str | None) -> bool:
    return message.author_id == user.pk or role == Role.COORDINATOR


def message_receipts(*, group: ClosedUserGroup, message: Message) -> dict:
    """Who has read and who has acknowledged one message."""
    readers = list(
        Membership.objects.filter(
            group=group, removed_at__isnull=True, last_read_seq__gte=message.seq
        )
        .exclude(user_id=message.author_id)
        .order_by("user__username")
        .values_list("user__username", flat=True)
    )
    acknowledged = list(
        Receipt.objects.filter(message=message, acknowledged_at__isnull=False)
        .order_by("acknowledged_at")
        .values_list("user__username", "acknowledged_at")
    )
    waiting = list(
        Membership.objects.filter(
            group=group, removed_at__isnull=True, last_read_seq__lt=message.seq
        )
        .exclude(user_id=message.author_id)
        .order_by("user__username")
        .values_list("user__username", flat=True)
    )
    return {
        "seq": message.seq,
        "read_by": readers,
        "not_read_by": waiting,
        "acknowledged_by": [
            {"user": username, "at": at.isoformat()} for username, at in acknowledged
        ],
    }


def acknowledged_seqs(*, user, group: ClosedUserGroup) -> list[int]:
    return list(
        Receipt.objects.filter(
            user=user, message__group=group, acknowledged_at__isnull=False
        ).values_list("message__seq", flat=True)
    )
