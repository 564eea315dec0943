import json

from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.models import Session
from django.db.models import OuterRef
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django_otp import DEVICE_ID_SESSION_KEY
from rest_framework.authtoken.models import Token

from groups.access import granted, readable_groups
from groups.models import ClosedUserGroup, GroupEvent
from groups.sessions import session_outlived
from groups.stream import EventType
from groups.two_factor import credential_meets_two_factor, token_meets_two_factor

from .models import Message


def socket_groups(*, user) -> dict[int, tuple[str, int]]:
    """The groups a socket follows, those the user may read (groups/access.py):
    ``{group_id: (slug, last_seq)}`` in one query."""
    return {
        group_id: (slug, last_seq)
        for group_id, slug, last_seq in readable_groups(user=user).values_list(
            "id", "slug", "last_seq"
        )
    }


def socket_group(*, user, group_id: int) -> tuple[str, int] | None:
    return readable_groups(user=user).filter(pk=group_id).values_list("slug", "last_seq").first()


def group_heads(*, group_ids) -> dict[int, int]:
    """The last seq of each group, ``{group_id: last_seq}``, in one query."""
    return dict(
        ClosedUserGroup.objects.filter(pk__in=list(group_ids)).values_list("id", "last_seq")
    )


def events_after(*, group_id: int, user_id: int, after: int, until: int, limit: int) -> list[dict]:
    """Events with ``after < seq <= until``, oldest first, as frame parts.

    Empty unless ``user_id`` may read the group now (its permission, groups/access.py):
    permission and events are read in one statement, so a removal (or a permission
    withdrawn) that commits first hides every later event even if the socket has not
    heard of it yet.
    """
    events = [
        {"seq": seq, "event": type, "data": data}
        for seq, type, data in GroupEvent.objects.filter(
            granted("view", user=user_id, group=OuterRef("group_id")),
            group_id=group_id,
            seq__gt=after,
            seq__lte=until,
        )
        .order_by("seq")
        .values_list("seq", "type", "data")[:limit]
    ]
    _hide_retracted(group_id=group_id, events=events)
    return events


def _hide_retracted(*, group_id: int, events: list[dict]) -> None:
    """A retracted message's event is replayed without its content.

    The stream is never rewritten: the retraction is an event of its own, and the
    message row says whether it was retracted; replays take the content out here.
    """
    created = {e["seq"]: e for e in events if e["event"] == EventType.MESSAGE_CREATED}
    if not created:
        return
    for seq in Message.objects.filter(
        group_id=group_id, seq__in=list(created), retracted_at__isnull=False
    ).values_list("seq", flat=True):
        event = created[seq]
        event["data"] = {**event["data"], "html": "", "attachments": [], "retracted": True}


def event_frames_text(*, slug: str, events: list[dict]) -> list[str]:
    return [json.dumps({"type": "event", "group": slug, **event}) for event in events]


def session_is_valid(*, session_key: str | None, user_id: int) -> bool:
    """Whether a socket's login session still stands.

    The same tests as a page request: not logged out or expired, not past its
    absolute lifetime, the password not changed since (Django's session hash),
    the account still active, and a second factor if the user's role now needs one.
    """
    if not session_key:
        return False
    session = Session.objects.filter(
        session_key=session_key, expire_date__gt=timezone.now()
    ).first()
    if session is None:
        return False
    data = session.get_decoded()
    if str(data.get(SESSION_KEY)) != str(user_id) or session_outlived(data):
        return False
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    session_hash = data.get(HASH_SESSION_KEY) or ""
    if not any(
        constant_time_compare(session_hash, known)
        for known in (user.get_session_auth_hash(), *user.get_session_auth_fallback_hash())
    ):
        return False
    return credential_meets_two_factor(
        user=user, second_factor=bool(data.get(DEVICE_ID_SESSION_KEY))
    )


def token_is_valid(*, key: str, user_id: int) -> bool:
    """Whether a socket's API token still exists, its account is active, and it carries
    a second factor if the user's role now needs one."""
    token = (
        Token.objects.select_related("user")
        .filter(key=key, user_id=user_id, user__is_active=True)
        .first()
    )
    return token is not None and token_meets_two_factor(token)
