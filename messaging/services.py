"""Everything that changes messages and receipts, whatever door it came in by."""

import collections
import dataclasses
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import Action, audit_entry, audit_record
from core.metrics import MESSAGES_POSTED
from core.realtime import notify_user_on_commit
from groups.models import ClosedUserGroup, Membership, Role
from groups.selectors import GroupNotFound
from groups.stream import (
    EventType,
    event_append,
    event_new,
    events_append,
    seq_take,
    seqs_give_back,
    seqs_take,
)

from .models import Attachment, Message, Receipt
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


def _already_posted(*, author, client_id: uuid.UUID, group: ClosedUserGroup) -> Message | None:
    found = _posted_before([(author.pk, client_id)])
    if not found:
        return None
    message_id, group_id = found[(author.pk, client_id)]
    if group_id != group.pk:
        raise ValidationError({"client_id": _("This client_id was already used in another group.")})
    return Message.objects.get(pk=message_id)


def _posted_before(keys: list[tuple[int, uuid.UUID]]) -> dict[tuple[int, uuid.UUID], tuple]:
    """(author id, client_id) → (message id, group id) for the keys already used.

    Asked before every batch of posts, and almost always answered "no". The pairs
    are looked up as pairs, each one probe of the (author, client_id) index: an
    author filter and a client_id filter side by side read every message the
    batch's authors ever wrote (16 ms for 20 posts with 2,000 messages an author,
    and growing with the operation; docs/performance.md).
    """
    if not keys:
        return {}
    field = Message._meta.get_field("client_id")
    params = []
    for author_id, client_id in keys:
        params += [author_id, field.get_db_prep_value(client_id, connection)]
    pairs = ", ".join(["(%s, %s)"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(_POSTED_SQL % pairs, params)
        rows = cursor.fetchall()
    return {
        (author_id, field.to_python(client_id)): (pk, group_id)
        for pk, author_id, client_id, group_id in rows
    }


# Table name from the model; the pairs are parameters.
_POSTED_SQL = (
    f"SELECT id, author_id, client_id, group_id FROM {Message._meta.db_table} "  # noqa: S608
    "WHERE (author_id, client_id) IN (%s)"
)


@dataclasses.dataclass
class Post:
    """One message to post, as it came in: every field is checked by ``messages_post``."""

    author: object
    group: ClosedUserGroup
    body: object
    client_id: object
    kind: object = Message.Kind.TEXT
    reply_to_seq: object = None
    attachment_tokens: list[str] | tuple[str, ...] = ()


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
    post = Post(author, group, body, client_id, kind, reply_to_seq, attachment_tokens)
    (outcome,) = messages_post([post])
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def messages_post(posts: list[Post]) -> list[tuple[Message, bool] | Exception]:
    """Post several messages in one transaction; one outcome per post, in order.

    Each post is judged on its own, exactly as if it came alone: its outcome is
    ``(message, created)`` or the error that refused it (``ValidationError``,
    ``PermissionDenied``, ``GroupNotFound``), and a refused post changes nothing.
    The accepted ones take their seqs under their groups' locks, and are stored,
    broadcast and audited together: a busy process writes many posts with one
    commit and a few statements (docs/performance.md).
    """
    try:
        return _post_together(posts)
    except IntegrityError:
        # A resend raced the first copy (two tabs, a retry on a slow line): the unique
        # (author, client_id) constraint stopped it and the rollback gave the seqs back.
        if len(posts) > 1:
            return [messages_post([post])[0] for post in posts]
        post = posts[0]
        client_id = _parse_client_id(post.client_id)
        existing = _already_posted(author=post.author, client_id=client_id, group=post.group)
        if existing is None:
            raise
        return [(existing, False)]


def _post_together(posts: list[Post]) -> list:
    outcomes: list = [None] * len(posts)
    keys: dict[int, tuple[int, uuid.UUID]] = {}
    for index, post in enumerate(posts):
        try:
            keys[index] = (post.author.pk, _parse_client_id(post.client_id))
        except ValidationError as error:
            outcomes[index] = error

    # A client_id already used is a resend: the first message is the answer.
    used = _posted_before(list(dict.fromkeys(keys.values())))
    first_of: dict[tuple, int] = {}
    resends: dict[int, object] = {}
    for index, key in keys.items():
        if key in used:
            message_id, group_id = used[key]
            if group_id != posts[index].group.pk:
                outcomes[index] = ValidationError(
                    {"client_id": _("This client_id was already used in another group.")}
                )
            else:
                resends[index] = message_id
        elif key in first_of:
            resends[index] = ("batch", first_of[key])  # the same post twice in one batch
        else:
            first_of[key] = index

    contents: dict[int, tuple[str, str, str]] = {}
    for index in first_of.values():
        post = posts[index]
        try:
            if not isinstance(post.kind, str) or post.kind not in POSTABLE_KINDS:
                raise ValidationError({"kind": _("Unknown message kind.")})
            body = _check_body(post.body)
            contents[index] = (post.kind, body, render_markdown(body))
        except ValidationError as error:
            outcomes[index] = error

    created: dict[int, Message] = {}
    if contents:
        with transaction.atomic():
            created = _store(posts, keys, contents, outcomes)

    for index, message in created.items():
        outcomes[index] = (message, True)
        MESSAGES_POSTED.labels(kind=message.kind).inc()
    earlier = Message.objects.in_bulk([m for m in resends.values() if not isinstance(m, tuple)])
    for index, source in resends.items():
        if isinstance(source, tuple):
            first = outcomes[source[1]]
            outcomes[index] = first if isinstance(first, Exception) else (first[0], False)
        else:
            outcomes[index] = (earlier[source], False)
    return outcomes


def _store(posts, keys, contents, outcomes) -> dict[int, Message]:
    """Inside the transaction: lock, check, then write everything that passed."""
    # Take as many seqs as there are posts for each group; the UPDATE locks the group's
    # row until commit, in id order (no deadlock between batches). A removal, a
    # deactivation or a closing that committed first is seen by the checks below.
    wanted = collections.Counter(posts[index].group.pk for index in contents)
    group_ids = sorted(wanted)
    heads, statuses = {}, {}
    for group_id, last_seq, status in seqs_take(wanted):
        heads[group_id], statuses[group_id] = last_seq - wanted[group_id], status
    author_ids = {posts[index].author.pk for index in contents}
    memberships = {
        (group_id, user_id): (pk, role)
        for pk, group_id, user_id, role in Membership.objects.filter(
            group_id__in=group_ids, user_id__in=author_ids, removed_at__isnull=True
        )
        .filter(user__is_active=True)
        .values_list("pk", "group_id", "user_id", "role")
    }
    replies = [(posts[i].group.pk, posts[i].reply_to_seq) for i in contents]
    reply_targets = _messages_by_seq([r for r in replies if r[1] is not None])

    accepted: list[int] = []
    membership_of: dict[int, int] = {}
    reply_of: dict[int, Message | None] = {}
    attachments_of: dict[int, list[Attachment]] = {}
    for index in contents:
        post = posts[index]
        try:
            membership = memberships.get((post.group.pk, post.author.pk))
            if membership is None or post.group.pk not in statuses:
                raise GroupNotFound
            if membership[1] not in POSTING_ROLES:
                raise PermissionDenied(_("Observers read the group; they do not post."))
            if statuses[post.group.pk] == ClosedUserGroup.Status.READ_ONLY:
                raise PermissionDenied(_("This group is read-only: the operation is closed."))
            if post.reply_to_seq is not None:
                reply_of[index] = reply_targets.get((post.group.pk, post.reply_to_seq))
                if reply_of[index] is None:
                    raise ValidationError({"reply_to": _("There is no such message to reply to.")})
            attachments_of[index] = _unclaimed_attachments(
                tokens=post.attachment_tokens, author=post.author, group=post.group
            )
        except (ValidationError, PermissionDenied, GroupNotFound) as error:
            outcomes[index] = error
            continue
        accepted.append(index)
        membership_of[index] = membership[0]

    # The accepted posts take the first seqs; what refused posts took is given back.
    seqs: dict[int, int] = {}
    for group_id, head in heads.items():
        mine = [index for index in accepted if posts[index].group.pk == group_id]
        seqs.update(zip(mine, range(head + 1, head + 1 + len(mine)), strict=True))
        if len(mine) < wanted[group_id]:
            seqs_give_back(group_id=group_id, last_seq=head + len(mine))
    if not accepted:
        return {}
    now = timezone.now()
    messages = {}
    for index in accepted:
        post, (kind, body, html) = posts[index], contents[index]
        messages[index] = Message(
            group=post.group,
            seq=seqs[index],
            author=post.author,
            kind=kind,
            reply_to=reply_of.get(index),
            client_id=keys[index][1],
            body=body,
            html=html,
            render_version=RENDER_VERSION,
            created_at=now,
        )
    events = [
        event_new(
            group=message.group,
            seq=message.seq,
            type=EventType.MESSAGE_CREATED,
            data=message_data(message, author=message.author, attachments=attachments_of[i]),
        )
        for i, message in messages.items()
    ]
    audit = [
        audit_entry(
            actor=message.author,
            action=Action.MESSAGE_POSTED,
            group=message.group,
            target=f"#{message.seq}",
            data={"kind": message.kind},
        )
        for message in messages.values()
    ]
    # Events, messages, audit lines and the authors' read cursors: one statement.
    events_append(
        events,
        list(messages.values()),
        audit,
        update=_read_own(
            _group_seqs((membership_of[i], message.seq) for i, message in messages.items())
        ),
    )
    for index, attachments in attachments_of.items():
        if attachments and index in messages:
            Attachment.objects.filter(pk__in=[a.pk for a in attachments]).update(
                message=messages[index]
            )
    return messages


def _group_seqs(pairs) -> dict[int, list[int]]:
    grouped: dict[int, list[int]] = collections.defaultdict(list)
    for key, seq in pairs:
        grouped[key].append(seq)
    return grouped


def _read_own(seqs_of: dict[int, list[int]]) -> tuple[str, list]:
    """The UPDATE that marks the authors' own messages read (run with the inserts).

    The cursor moves only if nothing before it is unread, so posting never marks
    others' messages as read. ``seqs_of``: membership id → the seqs its author just
    posted in that group; the cursor moves from just before the first over the run
    of consecutive ones.
    """
    moves = []
    for membership_id, seqs in seqs_of.items():
        seqs = sorted(seqs)
        end = seqs[0]
        while end + 1 in seqs:
            end += 1
        moves.append((membership_id, seqs[0] - 1, end))
    cases = " ".join(["WHEN %s THEN %s"] * len(moves))
    matches = " OR ".join(["(id = %s AND last_read_seq = %s)"] * len(moves))
    return (
        f"UPDATE {_MEMBERSHIP} SET last_read_seq = CASE id {cases} END WHERE {matches}",  # noqa: S608
        [v for membership_id, _before, end in moves for v in (membership_id, end)]
        + [v for membership_id, before, _end in moves for v in (membership_id, before)],
    )


def _messages_by_seq(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], Message]:
    pairs = [(g, s) for g, s in pairs if isinstance(s, int) and not isinstance(s, bool)]
    if not pairs:
        return {}
    matches = Q()
    for group_id, seq in pairs:
        matches |= Q(group_id=group_id, seq=seq)
    return {(m.group_id, m.seq): m for m in Message.objects.filter(matches)}


def _unclaimed_attachments(*, tokens, author, group: ClosedUserGroup) -> list[Attachment]:
    """The post's attachments, locked until commit: unused, uploaded by the author here."""
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
            token__in=tokens, uploaded_by=author, group_id=group.pk, message__isnull=True
        )
    )
    if len(attachments) != len(tokens):
        raise ValidationError({"attachments": _("An attachment is unknown or already used.")})
    return attachments


def message_retract(*, author, group: ClosedUserGroup, seq: int) -> Message:
    """Hide a message's content for everyone; the record is kept.

    A read-only group is the closed operation's record: nothing in it changes any more.
    """
    with transaction.atomic():
        event_seq = seq_take(group_id=group.pk)
        status = (
            Membership.objects.filter(
                group=group, user=author, removed_at__isnull=True, user__is_active=True
            )
            .values_list("group__status", flat=True)
            .first()
        )
        if status is None:
            raise GroupNotFound
        if status == ClosedUserGroup.Status.READ_ONLY:
            raise PermissionDenied(_("This group is read-only: the operation is closed."))
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
        # The original event is not rewritten: catch-up leaves out a retracted
        # message's content when it replays it (messaging.selectors.events_after).
        event_append(
            group=group,
            seq=event_seq,
            type=EventType.MESSAGE_RETRACTED,
            data={"message_seq": seq},
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
        if up_to_seq <= membership.last_read_seq:
            return membership.last_read_seq
        newly_read = _advance_read_cursor(membership=membership, group=group, up_to_seq=up_to_seq)
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


def _advance_read_cursor(*, membership: Membership, group: ClosedUserGroup, up_to_seq: int):
    """Move the (locked) membership's read cursor to ``up_to_seq``; the messages of
    others that this newly marks read, whose authors are owed a receipt."""
    previous = membership.last_read_seq
    Membership.objects.filter(pk=membership.pk).update(last_read_seq=up_to_seq)
    membership.last_read_seq = up_to_seq
    return list(
        Message.objects.filter(group=group, seq__gt=previous, seq__lte=up_to_seq)
        .exclude(author_id=membership.user_id)
        .only("id", "seq", "author_id")
    )


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
        receipts = [(message, _receipt_frame(group=group, seq=seq, user=user, acknowledged=True))]
        if membership.last_read_seq < seq:
            # Acknowledging marks read everything up to the message, like reading does:
            # the authors of the messages it passes over get their receipts too.
            receipts += [
                (
                    earlier,
                    _receipt_frame(group=group, seq=earlier.seq, user=user, acknowledged=False),
                )
                for earlier in _advance_read_cursor(
                    membership=membership, group=group, up_to_seq=seq
                )
                if earlier.seq != seq
            ]
        _notify_receipts(
            group=group,
            receipts=sorted(receipts, key=lambda pair: pair[0].seq),
            coordinators=_coordinator_ids(group),
            reader=user,
        )
    return receipt


def check_poster(*, group: ClosedUserGroup, author) -> int:
    """For services that post into a group (seizure alerts): lock, re-check, return the seq.

    Checking after the lock means a removal, a deactivation or a closing that commits
    first is always seen: no post can slip in after the author lost the right to post.
    """
    seq = seq_take(group_id=group.pk)
    check_may_post(group=group, author=author)
    return seq
