"""Everything that changes messages and receipts, whatever door it came in by."""

import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cencomm.audit import Action, audit_record
from cencomm.metrics import MESSAGES_POSTED
from groups.models import ClosedUserGroup, Membership, Role
from groups.selectors import GroupNotFound

from .events import allocate_seq, event_record
from .models import Attachment, GroupEvent, Message, Receipt
from .realtime import notify_user_on_commit
from .rendering import RENDER_VERSION, render_markdown

POSTABLE_KINDS = {
    Message.Kind.TEXT,
    Message.Kind.ALERT,
    Message.Kind.REQUEST,
    Message.Kind.REPLY,
    Message.Kind.NOTICE,
}
POSTING_ROLES = (Role.MEMBER, Role.COORDINATOR)


def _parse_client_id(client_id) -> uuid.UUID:
    try:
        return uuid.UUID(str(client_id))
    except (TypeError, ValueError, AttributeError):
        raise ValidationError(
            {"client_id": _("client_id must be a UUID made by the client.")}
        ) from None


def _check_body(body) -> str:
    if not isinstance(body, str) or not body.strip():
        raise ValidationError({"body": _("Write something before sending.")})
    if len(body) > settings.MESSAGE_MAX_LENGTH:
        raise ValidationError(
            {
                "body": _("A message holds at most %(max)d characters.")
                % {"max": settings.MESSAGE_MAX_LENGTH}
            }
        )
    return body


def message_data(message: Message, *, author=None, attachments=()) -> dict:
    """The event payload of a message: what every member's client shows."""
    author = author or message.author
    profile = getattr(author, "profile", None) if author else None
    administration = profile.administration if profile else None
    return {
        "seq": message.seq,
        "kind": message.kind,
        "author": author.username if author else None,
        "author_name": (author.get_full_name() or author.username) if author else None,
        "country": administration.country if administration else None,
        "html": message.html,
        "reply_to": message.reply_to.seq if message.reply_to_id else None,
        "client_id": str(message.client_id),
        "created_at": message.created_at.isoformat(),
        "attachments": [
            {
                "token": attachment.token,
                "name": attachment.original_name,
                "content_type": attachment.content_type,
                "size": attachment.size,
            }
            for attachment in attachments
        ],
    }


def check_may_post(*, group: ClosedUserGroup, author) -> Membership:
    """The author may post in the group now: an active member, not an observer, group open.

    The account's state is read here, in the same query, not taken from ``author``:
    a socket loads its user once, when it connects, and keeps it for hours. Every
    post runs this, so it is one plain statement rather than a compiled queryset.
    """
    with connection.cursor() as cursor:
        cursor.execute(_MAY_POST_SQL, [group.pk, author.pk])
        row = cursor.fetchone()
    if row is None:
        raise GroupNotFound
    membership_id, role, status = row
    if role not in POSTING_ROLES:
        raise PermissionDenied(_("Observers read the group; they do not post."))
    if status == ClosedUserGroup.Status.READ_ONLY:
        raise PermissionDenied(_("This group is read-only: the operation is closed."))
    return Membership(pk=membership_id, group_id=group.pk, user_id=author.pk, role=role)


_MEMBERSHIP, _GROUP = Membership._meta.db_table, ClosedUserGroup._meta.db_table
_USER = get_user_model()._meta.db_table
# Table names from the models; values are parameters.
_MAY_POST_SQL = f"""
    SELECT m.id, m.role, g.status
    FROM {_MEMBERSHIP} m
    JOIN {_GROUP} g ON g.id = m.group_id
    JOIN {_USER} u ON u.id = m.user_id
    WHERE m.group_id = %s AND m.user_id = %s AND m.removed_at IS NULL AND u.is_active
"""  # noqa: S608


def _lock_and_check_poster(*, group: ClosedUserGroup, author) -> tuple[int, Membership]:
    """Take the group's next seq (which locks its row), then re-check the author.

    Checking after the lock means a removal, a deactivation or a closing that
    commits first is always seen: no post can slip in after the author lost the
    right to post.
    """
    seq = allocate_seq(group_id=group.pk)
    return seq, check_may_post(group=group, author=author)


def _already_posted(*, author, client_id: uuid.UUID, group: ClosedUserGroup) -> Message | None:
    # Asked before every post, and almost always answered "no": a plain statement.
    with connection.cursor() as cursor:
        value = Message._meta.get_field("client_id").get_db_prep_value(client_id, connection)
        cursor.execute(_POSTED_SQL, [author.pk, value])
        row = cursor.fetchone()
    if row is None:
        return None
    if row[1] != group.pk:
        raise ValidationError({"client_id": _("This client_id was already used in another group.")})
    return Message.objects.get(pk=row[0])


_POSTED_SQL = (
    f"SELECT id, group_id FROM {Message._meta.db_table} WHERE author_id = %s AND client_id = %s"  # noqa: S608
)


def message_post(
    *,
    author,
    group: ClosedUserGroup,
    body: str,
    client_id,
    kind: str = Message.Kind.TEXT,
    reply_to_seq: int | None = None,
    attachment_tokens: list[str] | tuple[str, ...] = (),
) -> tuple[Message, bool]:
    """Post a message; returns ``(message, created)``.

    The same ``client_id`` twice from the same author stores one message: the
    second call returns the first message with ``created=False``.
    """
    client_id = _parse_client_id(client_id)
    existing = _already_posted(author=author, client_id=client_id, group=group)
    if existing is not None:
        return existing, False
    if not isinstance(kind, str) or kind not in POSTABLE_KINDS:
        raise ValidationError({"kind": _("Unknown message kind.")})
    body = _check_body(body)
    html = render_markdown(body)
    try:
        with transaction.atomic():
            seq, membership = _lock_and_check_poster(group=group, author=author)
            reply_to = None
            if reply_to_seq is not None:
                reply_to = Message.objects.filter(group=group, seq=reply_to_seq).first()
                if reply_to is None:
                    raise ValidationError({"reply_to": _("There is no such message to reply to.")})
            message = Message.objects.create(
                group=group,
                seq=seq,
                author=author,
                kind=kind,
                reply_to=reply_to,
                client_id=client_id,
                body=body,
                html=html,
                render_version=RENDER_VERSION,
            )
            attachments = _claim_attachments(
                message=message, tokens=attachment_tokens, author=author
            )
            event_record(
                group=group,
                seq=seq,
                type="message.created",
                data=message_data(message, author=author, attachments=attachments),
            )
            audit_record(
                actor=author,
                action=Action.MESSAGE_POSTED,
                group=group,
                target=f"#{seq}",
                data={"kind": kind},
            )
            # The author has read their own message; the cursor moves only if nothing
            # before it is unread, so posting never marks others' messages as read.
            Membership.objects.filter(pk=membership.pk, last_read_seq=seq - 1).update(
                last_read_seq=seq
            )
    except IntegrityError:
        # A resend raced the first copy (two tabs, a retry on a slow line): the unique
        # (author, client_id) constraint stopped it and the rollback gave the seq back.
        existing = _already_posted(author=author, client_id=client_id, group=group)
        if existing is None:
            raise
        return existing, False
    MESSAGES_POSTED.labels(kind=kind).inc()
    return message, True


def _claim_attachments(*, message: Message, tokens, author) -> list[Attachment]:
    tokens = list(dict.fromkeys(tokens or ()))
    if not tokens:
        return []
    if len(tokens) > settings.ATTACHMENTS_PER_MESSAGE:
        raise ValidationError(
            {
                "attachments": _("At most %(max)d attachments per message.")
                % {"max": settings.ATTACHMENTS_PER_MESSAGE}
            }
        )
    attachments = list(
        Attachment.objects.select_for_update().filter(
            token__in=tokens, uploaded_by=author, group=message.group, message__isnull=True
        )
    )
    if len(attachments) != len(tokens):
        raise ValidationError({"attachments": _("An attachment is unknown or already used.")})
    Attachment.objects.filter(pk__in=[a.pk for a in attachments]).update(message=message)
    return attachments


def message_retract(*, author, group: ClosedUserGroup, seq: int) -> Message:
    """Hide a message's content for everyone; the record is kept."""
    with transaction.atomic():
        event_seq = allocate_seq(group_id=group.pk)
        if not Membership.objects.filter(
            group=group, user=author, removed_at__isnull=True, user__is_active=True
        ).exists():
            raise GroupNotFound
        message = Message.objects.filter(group=group, seq=seq).first()
        if message is None:
            raise ValidationError({"seq": _("There is no such message.")})
        if message.author_id != author.pk:
            raise PermissionDenied(_("Only the author may retract a message."))
        if message.kind == Message.Kind.SEIZURE:
            # The seizure itself stays on record (and goes to the CEN database);
            # hiding its announcement would leave the group blind to it.
            raise ValidationError(
                {"seq": _("A seizure report is not retracted: ask a coordinator to reject it.")}
            )
        if message.is_retracted:
            # Nothing changes: roll back the seq taken above.
            transaction.set_rollback(True)
            return message
        message.retracted_at = timezone.now()
        message.save(update_fields=["retracted_at"])
        # Catch-up replays the stream: the original event must not carry the content.
        created = GroupEvent.objects.select_for_update().get(group=group, seq=seq)
        created.data = {**created.data, "html": "", "attachments": [], "retracted": True}
        created.save(update_fields=["data"])
        event_record(
            group=group, seq=event_seq, type="message.retracted", data={"message_seq": seq}
        )
        audit_record(actor=author, action=Action.MESSAGE_RETRACTED, group=group, target=f"#{seq}")
    return message


def _receipt_frame(*, group: ClosedUserGroup, seq: int, user, acknowledged: bool) -> dict:
    return {
        "type": "receipt",
        "group": group.slug,
        "seq": seq,
        "user": user.username,
        "read": True,
        "acknowledged": acknowledged,
    }


def _notify_receipts(
    *, group: ClosedUserGroup, receipts: list[tuple[Message, dict]], coordinators: set[int], reader
) -> None:
    """Receipts go live to each message's author and to the group's coordinators.

    One channel message per person, however many messages were read at once.
    """
    frames_for: dict[int, list[dict]] = {}
    for message, frame in receipts:
        for watcher in (coordinators | {message.author_id}) - {reader.pk, None}:
            frames_for.setdefault(watcher, []).append(frame)
    for watcher, frames in frames_for.items():
        notify_user_on_commit(
            user_id=watcher,
            message={"type": "receipt.update", "group_id": group.pk, "frames": frames},
        )


def _coordinator_ids(group: ClosedUserGroup) -> set[int]:
    return set(
        Membership.objects.filter(
            group=group, role=Role.COORDINATOR, removed_at__isnull=True
        ).values_list("user_id", flat=True)
    )


def receipt_mark_read(*, user, group: ClosedUserGroup, up_to_seq: int) -> int:
    """Move the member's read cursor forward to ``up_to_seq``; returns the cursor."""
    if not isinstance(up_to_seq, int) or isinstance(up_to_seq, bool) or up_to_seq < 0:
        raise ValidationError({"seq": _("seq must be a whole number.")})
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update()
            .filter(group=group, user=user, removed_at__isnull=True)
            .first()
        )
        if membership is None:
            raise GroupNotFound
        last_seq = ClosedUserGroup.objects.values_list("last_seq", flat=True).get(pk=group.pk)
        up_to_seq = min(up_to_seq, last_seq)
        previous = membership.last_read_seq
        if up_to_seq <= previous:
            return previous
        Membership.objects.filter(pk=membership.pk).update(last_read_seq=up_to_seq)
        newly_read = list(
            Message.objects.filter(group=group, seq__gt=previous, seq__lte=up_to_seq)
            .exclude(author=user)
            .only("id", "seq", "author_id")
        )
        if newly_read:
            _notify_receipts(
                group=group,
                receipts=[
                    (
                        message,
                        _receipt_frame(group=group, seq=message.seq, user=user, acknowledged=False),
                    )
                    for message in newly_read
                ],
                coordinators=_coordinator_ids(group),
                reader=user,
            )
    return up_to_seq


def receipt_acknowledge(*, user, group: ClosedUserGroup, seq: int) -> Receipt:
    """Acknowledge an alert or a request (which also marks it read)."""
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update()
            .filter(group=group, user=user, removed_at__isnull=True)
            .first()
        )
        if membership is None:
            raise GroupNotFound
        message = Message.objects.filter(group=group, seq=seq).first()
        if message is None:
            raise ValidationError({"seq": _("There is no such message.")})
        if not message.needs_acknowledgement:
            raise ValidationError({"seq": _("Only alerts and requests are acknowledged.")})
        receipt, _created = Receipt.objects.get_or_create(message=message, user=user)
        if receipt.acknowledged_at is not None:
            return receipt
        now = timezone.now()
        receipt.acknowledged_at = now
        receipt.read_at = receipt.read_at or now
        receipt.save(update_fields=["acknowledged_at", "read_at"])
        if membership.last_read_seq < seq:
            Membership.objects.filter(pk=membership.pk).update(last_read_seq=seq)
        _notify_receipts(
            group=group,
            receipts=[
                (message, _receipt_frame(group=group, seq=seq, user=user, acknowledged=True))
            ],
            coordinators=_coordinator_ids(group),
            reader=user,
        )
    return receipt


def check_poster(*, group: ClosedUserGroup, author) -> int:
    """For services that post into a group (seizure alerts): lock, re-check, return the seq."""
    seq, _membership = _lock_and_check_poster(group=group, author=author)
    return seq
