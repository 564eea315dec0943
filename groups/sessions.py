"""Login sessions: idle timeout, absolute lifetime, and ending one from another device.

The idle timeout is Django's own (SESSION_COOKIE_AGE, renewed on every request);
the absolute lifetime counts from the login and no activity extends it. Ending a
session closes that session's websockets on every process (4401).
"""

import datetime
import hashlib
import uuid

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import Action, audit_record
from core.errors import Forbidden
from core.logging import request_ip_var
from core.realtime import notify_user_on_commit, send_on_commit

from .models import PushSubscription, UserSession

LOGIN_AT = "_cencomm_login_at"


def session_channel(session_key: str) -> str:
    """The channel-layer group of one session's sockets (a hash: keys never travel)."""
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:32]


def session_started(*, request, user) -> None:
    request.session[LOGIN_AT] = timezone.now().timestamp()
    request.session.save()
    UserSession.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={
            "user": user,
            "ip": request_ip_var.get(),
            "user_agent": request.headers.get("User-Agent", "")[:300],
            "ended_at": None,
        },
    )


def session_outlived(session_data: dict) -> bool:
    login_at = session_data.get(LOGIN_AT)
    if login_at is None:
        return False
    age = timezone.now().timestamp() - float(login_at)
    return age > settings.SESSION_ABSOLUTE_SECONDS


def session_touch(*, session_key: str) -> None:
    """Seen again: at most one write a minute."""
    threshold = timezone.now() - datetime.timedelta(seconds=60)
    UserSession.objects.filter(session_key=session_key, last_seen__lt=threshold).update(
        last_seen=timezone.now()
    )


def session_extend(*, session_key: str) -> bool:
    """Activity on a websocket counts as activity: push the idle expiry forward."""
    session = Session.objects.filter(
        session_key=session_key, expire_date__gt=timezone.now()
    ).first()
    if session is None or session_outlived(session.get_decoded()):
        return False
    Session.objects.filter(pk=session_key).update(
        expire_date=timezone.now() + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    )
    session_touch(session_key=session_key)
    return True


def current_session_id(request) -> uuid.UUID | None:
    """The public id of the request's own session."""
    key = request.session.session_key
    if not key:
        return None
    return UserSession.objects.filter(session_key=key).values_list("public_id", flat=True).first()


def sessions_of_user(*, user):
    open_keys = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    return UserSession.objects.filter(
        user=user, ended_at__isnull=True, session_key__in=open_keys
    ).order_by("-last_seen")


def _as_uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@transaction.atomic
def session_end(*, user, public_id, by=None) -> bool:
    """End one of ``user``'s sessions, named by its public id; its sockets close with 4401
    and the device wipes its outbox and kept pages when it next comes online. ``by``:
    who ended it when not its owner (staff; only staff may end another's session)."""
    if by is not None and by.pk != user.pk and not by.is_staff:
        raise Forbidden(_("Only staff end another user's sessions."))
    public_id = _as_uuid(public_id)
    if public_id is None:
        return False
    record = (
        UserSession.objects.select_for_update()
        .filter(user=user, public_id=public_id, ended_at__isnull=True)
        .first()
    )
    if record is None:
        return False
    _end(record)
    audit_record(
        actor=by or user,
        action=Action.SESSION_ENDED,
        target=user.username,
        data={"session": str(record.public_id), "installed": record.installed_at is not None},
    )
    return True


def _end(record: UserSession) -> None:
    record.ended_at = timezone.now()
    record.ended_elsewhere = True
    record.save(update_fields=["ended_at", "ended_elsewhere"])
    Session.objects.filter(session_key=record.session_key).delete()
    # Its devices stop receiving pushes with it (groups/notifications.py).
    PushSubscription.objects.filter(session=record).delete()
    send_on_commit(session_channel(record.session_key), {"type": "session.ended"})


@transaction.atomic
def sessions_end_all(*, user) -> int:
    """End every open session of ``user`` (a deactivated account): each device wipes its
    copies when it next comes online, and every socket of the user closes — those of
    its API tokens too — on every process. Returns how many sessions were open."""
    records = list(UserSession.objects.select_for_update().filter(user=user, ended_at__isnull=True))
    for record in records:
        _end(record)
    notify_user_on_commit(user_id=user.pk, message={"type": "session.ended"})
    return len(records)


def account_deactivate(*, user, by) -> None:
    """Staff deactivate an account (the admin's "active" box does the same)."""
    if not by.is_staff:
        raise Forbidden(_("Only staff deactivate accounts."))
    user.is_active = False
    user.cencomm_deactivated_by = by
    user.save(update_fields=["is_active"])


def account_deactivated(*, user, by=None) -> None:
    """A deactivated account holds nothing any more: its sessions end everywhere, its
    sockets close, and the audit trail says so."""
    with transaction.atomic():
        ended = sessions_end_all(user=user)
        audit_record(
            actor=by,
            action=Action.ACCOUNT_DEACTIVATED,
            target=user.username,
            data={"sessions": ended},
        )


def session_mark_installed(*, session_key: str | None) -> bool:
    """The page of this session reported running as the installed app: noted once."""
    if not session_key:
        return False
    UserSession.objects.filter(
        session_key=session_key, ended_at__isnull=True, installed_at__isnull=True
    ).update(installed_at=timezone.now())
    return True


def device_was_ended(*, session_key: str | None) -> bool:
    """Whether this (dead) session key belongs to a session ended from elsewhere: its
    device wipes its copies."""
    if not session_key:
        return False
    return UserSession.objects.filter(session_key=session_key, ended_elsewhere=True).exists()


def session_closed(*, session_key: str | None) -> None:
    if session_key:
        UserSession.objects.filter(session_key=session_key, ended_at__isnull=True).update(
            ended_at=timezone.now()
        )
        PushSubscription.objects.filter(session__session_key=session_key).delete()
