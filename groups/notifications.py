"""Notifications that reach people who are not looking: a user chooses, per group, to be
told of alerts, seizure reports and messages that mention them; each device they allow
gets a Web Push (groups/web_push.py) and the open page a system notification.

Three things trigger one:

- an alert (a ``message.created`` event of the alert kind) and a seizure report (a
  ``seizure.reported`` event): the stream (groups/stream.py) hands every event it
  appends to ``notify_from_events``, whichever service wrote it;
- a mention: ``@username`` of someone in a message's text, read by the same hook from
  the ``message.created`` event; ``notify_users`` is the entry point for anything else
  that names people (a request addressed to someone, a mention made some other way).

Nothing is sent from the request: after commit, one task (groups/tasks.py, the
django-tasks worker) finds who is to be told — those who chose that kind in the group,
who may still read it (groups/access.py), never the author — and pushes to their
devices. A push says only which group has something new and how many of each kind,
never what: nothing sensitive passes through a browser vendor's push service. With
``WEB_PUSH_ENABLED`` off no task is queued at all.
"""

import base64
import binascii
import collections
import html as html_module
import re
from enum import StrEnum

from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import OuterRef, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.errors import Conflict, Invalid

from .access import access_group, granted, readable_groups
from .models import ClosedUserGroup, NotificationChoice, PushSubscription, UserSession
from .tasks import deliver_notifications
from .web_push import PushOutcome, endpoint_allowed, push_send, web_push_enabled


class Kind(StrEnum):
    ALERT = "alert"
    SEIZURE = "seizure"
    MENTION = "mention"


# The choice that turns each kind on.
CHOICE_OF: dict[Kind, str] = {
    Kind.ALERT: "alerts",
    Kind.SEIZURE: "seizures",
    Kind.MENTION: "mentions",
}
CHOICES = tuple(CHOICE_OF.values())


# ---- choices ----------------------------------------------------------------------


def notification_choices(*, user) -> dict[str, dict[str, bool]]:
    """The user's choices in every group they may read, by slug (all off by default)."""
    chosen = {
        choice.group_id: choice
        for choice in NotificationChoice.objects.filter(
            user=user.pk, group__in=readable_groups(user=user)
        )
    }
    return {
        group.slug: _choice_payload(chosen.get(group.pk))
        for group in readable_groups(user=user).order_by("slug")
    }


def _choice_payload(choice: NotificationChoice | None) -> dict[str, bool]:
    return {name: bool(choice and getattr(choice, name)) for name in CHOICES}


def notification_choice_get(*, user, slug: str) -> dict[str, bool]:
    access = access_group(user, slug)
    return _choice_payload(
        NotificationChoice.objects.filter(user=user.pk, group=access.group).first()
    )


def notification_choice_set(*, user, slug: str, **chosen: bool) -> dict[str, bool]:
    """Turn kinds on or off in one group the user may read; the others stay as they were."""
    unknown = set(chosen) - set(CHOICES)
    if unknown:
        raise Invalid({name: _("Unknown notification kind.") for name in sorted(unknown)})
    access = access_group(user, slug)
    choice, _created = NotificationChoice.objects.get_or_create(user=user, group=access.group)
    for name, value in chosen.items():
        setattr(choice, name, bool(value))
    choice.save()
    return _choice_payload(choice)


# ---- devices ----------------------------------------------------------------------


def _key(value, *, field: str, length: int) -> str:
    try:
        raw = base64.urlsafe_b64decode(str(value) + "=" * (-len(str(value)) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != length or (field == "p256dh" and raw[0] != 4):
        raise Invalid({field: _("This is not a key the browser made for Web Push.")})
    return str(value).rstrip("=")


def push_subscription_register(*, user, session_key: str | None, endpoint, p256dh, auth):
    """Keep a device's subscription for the user, tied to the login session it came from
    (it goes when that session ends). The same endpoint again moves to this user and
    session: a device belongs to whoever is logged in on it."""
    if not web_push_enabled():
        raise Conflict(_("Web Push is switched off on this server."))
    if not isinstance(endpoint, str) or len(endpoint) > 1000 or not endpoint_allowed(endpoint):
        raise Invalid({"endpoint": _("This is not the address of a known push service.")})
    keys = {
        "p256dh": _key(p256dh, field="p256dh", length=65),
        "auth": _key(auth, field="auth", length=16),
    }
    session = (
        UserSession.objects.filter(session_key=session_key, ended_at__isnull=True).first()
        if session_key
        else None
    )
    subscription, _created = PushSubscription.objects.update_or_create(
        endpoint=endpoint, defaults={"user": user, "session": session, **keys}
    )
    return subscription


def push_subscription_remove(*, user, endpoint) -> bool:
    """Forget one of the user's devices, by its endpoint (a device turning push off)."""
    deleted, _detail = PushSubscription.objects.filter(
        user=user.pk, endpoint=str(endpoint)
    ).delete()
    return deleted > 0


def push_subscriptions_of_user(*, user):
    """The user's devices, newest first; what the API shows of them, never the endpoint."""
    return (
        PushSubscription.objects.filter(user=user.pk)
        .select_related("session")
        .order_by("-created_at")
    )


# ---- triggers ---------------------------------------------------------------------


def notify_users(
    *, group: ClosedUserGroup, kind: str, users=None, usernames=None, author=None, count: int = 1
) -> None:
    """Tell people that ``count`` new things of ``kind`` wait in ``group``: ``users``
    (users or ids) or ``usernames`` if given, otherwise everyone who chose the kind there.

    Only those who chose the kind in the group and may read it are told, never the
    author; after commit, by the task worker. A later feature that names people (a
    mention, a request addressed to someone) calls this.
    """
    if not web_push_enabled():
        return
    notice = {
        "group": group.pk,
        "kind": str(Kind(kind)),
        "author": getattr(author, "pk", author),
        "users": None if users is None else sorted({getattr(u, "pk", u) for u in users}),
        "usernames": None if usernames is None else sorted(set(usernames)),
        "count": count,
    }
    _enqueue_on_commit([notice])


def notify_from_events(events) -> None:
    """The stream's hook: alerts, seizure reports and mentions among events just
    appended (one notice per group, kind and author — and people named — however many
    events a bulk service wrote)."""
    if not web_push_enabled():
        return
    counts: collections.Counter = collections.Counter()
    for event in events:
        author = event.data.get("author")
        kind = _kind_of(event.type, event.data)
        if kind is not None:
            counts[(event.group_id, kind, author, None)] += 1
        if event.type == "message.created":
            named = mentioned_usernames(_text_of(event.data.get("html") or ""))
            if named:
                counts[(event.group_id, Kind.MENTION, author, frozenset(named))] += 1
    if counts:
        _enqueue_on_commit(
            [
                {
                    "group": group_id,
                    "kind": str(kind),
                    "author_name": author,
                    "usernames": None if named is None else sorted(named),
                    "count": count,
                }
                for (group_id, kind, author, named), count in counts.items()
            ]
        )


def _kind_of(type: str, data: dict) -> Kind | None:
    if type == "seizure.reported":
        return Kind.SEIZURE
    if type == "message.created" and data.get("kind") == "alert":
        return Kind.ALERT
    return None


# ``@`` and a username (letters, digits and . @ + - _), not inside a word or an address.
_MENTION = re.compile(r"(?<![\w.@+-])@([\w.@+-]+)")
_TAG = re.compile(r"<[^>]*>")


def mentioned_usernames(text: str) -> set[str]:
    """The usernames a message names with ``@username``; a full stop or comma that ends
    the sentence is not part of the name (static/js/notifications.js reads the same)."""
    return {name.strip(".@+-") for name in _MENTION.findall(text)} - {""}


def _text_of(html: str) -> str:
    """The text of a message as members read it (its HTML is sanitised: tags and
    entities are all there is to take away)."""
    return html_module.unescape(_TAG.sub(" ", html))


def _enqueue_on_commit(notices: list[dict]) -> None:
    transaction.on_commit(lambda: deliver_notifications.enqueue(notices), robust=True)


# ---- delivery (the task) ----------------------------------------------------------


def notices_deliver(notices: list[dict]) -> dict[str, int]:
    """Push to the devices of everyone each notice is for: one push per device and
    group, with the counts of each kind. Subscriptions the push service no longer
    knows, or whose login session ended, are deleted."""
    outcomes: collections.Counter = collections.Counter()
    if not web_push_enabled():
        return dict(outcomes)
    waiting: dict[int, dict[int, collections.Counter]] = collections.defaultdict(
        lambda: collections.defaultdict(collections.Counter)
    )
    for notice in notices:
        for user_id in _recipients(notice):
            waiting[user_id][notice["group"]][notice["kind"]] += notice.get("count", 1)
    if not waiting:
        return dict(outcomes)
    groups = ClosedUserGroup.objects.in_bulk(
        {group_id for per_group in waiting.values() for group_id in per_group}
    )
    for subscription in _live_subscriptions(user_ids=list(waiting)):
        language = getattr(getattr(subscription.user, "profile", None), "language", "") or "en"
        for group_id, counts in waiting[subscription.user_id].items():
            outcome = _push(subscription, groups[group_id], counts, language)
            outcomes[str(outcome)] += 1
            if outcome == PushOutcome.GONE:
                break
    return dict(outcomes)


def _recipients(notice: dict) -> list[int]:
    kind = Kind(notice["kind"])
    # Whoever may read the group now (groups/access.py): the view permission, or staff,
    # who read every group; a deactivated account reads nothing.
    readers = _may_read(notice["group"]) | Q(user__is_staff=True, user__is_active=True)
    choices = NotificationChoice.objects.filter(
        readers, group_id=notice["group"], **{CHOICE_OF[kind]: True}
    )
    if notice.get("author") is not None:
        choices = choices.exclude(user_id=notice["author"])
    if notice.get("author_name"):
        choices = choices.exclude(user__username=notice["author_name"])
    if notice.get("users") is not None:
        choices = choices.filter(user_id__in=notice["users"])
    if notice.get("usernames") is not None:
        choices = choices.filter(user__username__in=notice["usernames"])
    return list(choices.values_list("user_id", flat=True))


def _may_read(group_id: int):
    """Whether the choice's user holds the view permission on the group."""
    return granted("view", user=OuterRef("user_id"), group=group_id)


def _live_subscriptions(*, user_ids: list[int]) -> list[PushSubscription]:
    """The devices of these users whose login session (if any) is still open; the others
    are deleted here, in case their session ended without a logout."""
    open_keys = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    live = Q(session__isnull=True) | Q(
        session__ended_at__isnull=True, session__session_key__in=open_keys
    )
    subscriptions = PushSubscription.objects.filter(user_id__in=user_ids)
    subscriptions.exclude(live).delete()
    return list(subscriptions.filter(live).select_related("user__profile"))


def push_payload(group: ClosedUserGroup, counts: dict[str, int], language: str) -> dict:
    """What a device receives: the group, where to open it, how many of each kind, and a
    title and line in the user's language made of those alone — no message, no name."""
    with translation.override(language):
        parts = [_count_text(Kind(kind), count) for kind, count in sorted(counts.items())]
        return {
            "group": group.slug,
            "url": reverse("groups:group", kwargs={"slug": group.slug}),
            "counts": dict(sorted(counts.items())),
            "title": _("New in %(group)s") % {"group": group.slug},
            "body": ", ".join(parts),
        }


def _count_text(kind: Kind, count: int) -> str:
    if kind == Kind.ALERT:
        text = ngettext("%(count)d new alert", "%(count)d new alerts", count)
    elif kind == Kind.SEIZURE:
        text = ngettext("%(count)d new seizure report", "%(count)d new seizure reports", count)
    else:
        text = ngettext("%(count)d message mentions you", "%(count)d messages mention you", count)
    return text % {"count": count}


def _push(subscription: PushSubscription, group, counts, language: str) -> PushOutcome:
    outcome = push_send(
        endpoint=subscription.endpoint,
        p256dh=subscription.p256dh,
        auth=subscription.auth,
        payload=push_payload(group, counts, language),
        urgent=Kind.ALERT in counts or Kind.MENTION in counts,
    )
    if outcome == PushOutcome.GONE:
        subscription.delete()
    elif outcome == PushOutcome.SENT:
        PushSubscription.objects.filter(pk=subscription.pk).update(last_sent_at=timezone.now())
    return outcome
