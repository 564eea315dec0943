import json

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db.models import Q
from django.utils import timezone

from groups.models import ClosedUserGroup, Membership

from .models import GroupEvent, Message


def socket_groups(*, user) -> dict[int, tuple[str, int]]:
    """The groups a socket follows: ``{group_id: (slug, last_seq)}`` in one query."""
    return {
        group_id: (slug, last_seq)
        for group_id, slug, last_seq in ClosedUserGroup.objects.filter(
            memberships__user=user, memberships__removed_at__isnull=True
        ).values_list("id", "slug", "last_seq")
    }


def socket_group(*, user, group_id: int) -> tuple[str, int] | None:
    row = (
        ClosedUserGroup.objects.filter(
            pk=group_id, memberships__user=user, memberships__removed_at__isnull=True
        )
        .values_list("slug", "last_seq")
        .first()
    )
    return row


def group_head(*, group_id: int) -> int:
    return ClosedUserGroup.objects.values_list("last_seq", flat=True).get(pk=group_id)


def events_after(*, group_id: int, after: int, limit: int, until: int | None = None) -> list[dict]:
    """Events with seq > ``after`` (and <= ``until``), oldest first, as frame parts."""
    filters = Q(group_id=group_id, seq__gt=after)
    if until is not None:
        filters &= Q(seq__lte=until)
    return [
        {"seq": seq, "event": type, "data": data}
        for seq, type, data in GroupEvent.objects.filter(filters)
        .order_by("seq")
        .values_list("seq", "type", "data")[:limit]
    ]


def event_frames_text(*, slug: str, events: list[dict]) -> list[str]:
    return [json.dumps({"type": "event", "group": slug, **event}) for event in events]


def member_may_read(*, user, group_id: int) -> bool:
    return Membership.objects.filter(user=user, group_id=group_id, removed_at__isnull=True).exists()


def session_is_valid(*, session_key: str | None, user_id: int) -> bool:
    """Whether a socket's login session still stands (not logged out, not expired)."""
    if not session_key:
        return False
    session = Session.objects.filter(
        session_key=session_key, expire_date__gt=timezone.now()
    ).first()
    if session is None:
        return False
    data = session.get_decoded()
    if str(data.get("_auth_user_id")) != str(user_id):
        return False
    return get_user_model().objects.filter(pk=user_id, is_active=True).exists()


def message_history(*, group: ClosedUserGroup, before_seq: int | None, limit: int) -> list[Message]:
    queryset = (
        Message.objects.filter(group=group)
        .select_related("author__profile__administration", "reply_to")
        .prefetch_related("attachments")
    )
    if before_seq is not None:
        queryset = queryset.filter(seq__lt=before_seq)
    return list(reversed(queryset.order_by("-seq")[:limit]))
