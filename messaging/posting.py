"""Posting: one message or a batch of them, from every door (the socket batches what
queues up), and the checks that services posting into a group share (seizure alerts).

A batch takes its groups' seqs under their locks, checks every post there (the
author's rights, groups/access.py; replies; attachments), gives back the seqs of the
refused, and writes messages, events, audit lines and read cursors in one statement.
A client_id already used is a resend: the first message is the answer.
"""

import collections
import dataclasses
import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import Action, audit_entry
from core.errors import Invalid
from core.handling import Handling, handling_clean
from core.metrics import MESSAGES_POSTED
from groups.access import (
    GroupNotFound,
    PostRight,
    post_refusal,
    post_rights,
)
from groups.models import ClosedUserGroup, Membership
from groups.stream import (
    EventType,
    event_new,
    events_append,
    seq_take,
    seqs_give_back,
    seqs_take,
)

from .handling import handling_defaults
from .models import Attachment, Message
from .rendering import RENDER_VERSION, render_markdown
from .search import search_entries_write

POSTABLE_KINDS = {
    Message.Kind.TEXT,
    Message.Kind.ALERT,
    Message.Kind.REQUEST,
    Message.Kind.REPLY,
    Message.Kind.NOTICE,
}


def _parse_client_id(client_id) -> uuid.UUID:
    try:
        return uuid.UUID(str(client_id))
    except (TypeError, ValueError, AttributeError):
        raise Invalid({"client_id": _("client_id must be a UUID made by the client.")}) from None


def _check_body(body) -> str:
    if not isinstance(body, str) or not body.strip():
        raise Invalid({"body": _("Write something before sending.")})
    if len(body) > settings.MESSAGE_MAX_LENGTH:
        raise Invalid(
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
        "attachments": [attachment_data(attachment) for attachment in attachments],
        "handling_code": message.handling_code,
        "handling_conditions": message.handling_conditions,
        "source_grading": message.source_grading,
        "information_grading": message.information_grading,
        "released": message.released_at is not None,
    }


def attachment_data(attachment: Attachment) -> dict:
    return {
        "token": attachment.token,
        "name": attachment.original_name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "handling_code": attachment.handling_code,
        "handling_conditions": attachment.handling_conditions,
    }


def check_may_post(*, group: ClosedUserGroup, author) -> PostRight:
    """The author may post in the group now (groups/access.py: the permission, an open
    group); raises the refusal otherwise.

    The permissions and the account's state are read here, not taken from ``author``:
    a socket loads its user once, when it connects, and keeps it for hours.
    """
    status = ClosedUserGroup.objects.values_list("status", flat=True).filter(pk=group.pk).first()
    right = post_rights(group_ids=[group.pk], user_ids=[author.pk]).get((group.pk, author.pk))
    refusal = GroupNotFound() if status is None else post_refusal(right, status=status)
    if refusal is not None:
        raise refusal
    return right


_MEMBERSHIP = Membership._meta.db_table


def _already_posted(*, author, client_id: uuid.UUID, group: ClosedUserGroup) -> Message | None:
    found = _posted_before([(author.pk, client_id)])
    if not found:
        return None
    message_id, group_id = found[(author.pk, client_id)]
    if group_id != group.pk:
        raise Invalid({"client_id": _("This client_id was already used in another group.")})
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
    # The author's choice (core/handling.py); what is left out is the operation's default.
    handling: dict = dataclasses.field(default_factory=dict)


def message_post(
    *,
    author,
    group: ClosedUserGroup,
    body: str,
    client_id,
    kind: str = Message.Kind.TEXT,
    reply_to_seq: int | None = None,
    attachment_tokens: list[str] | tuple[str, ...] = (),
    handling: dict | None = None,
) -> tuple[Message, bool]:
    """Post a message; returns ``(message, created)``.

    The same ``client_id`` twice from the same author stores one message: the
    second call returns the first message with ``created=False``. ``handling``: the
    author's ``handling_code``, ``handling_conditions``, ``source_grading`` and
    ``information_grading``, as given (checked here).
    """
    post = Post(
        author, group, body, client_id, kind, reply_to_seq, attachment_tokens, handling or {}
    )
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
                outcomes[index] = Invalid(
                    {"client_id": _("This client_id was already used in another group.")}
                )
            else:
                resends[index] = message_id
        elif key in first_of:
            resends[index] = ("batch", first_of[key])  # the same post twice in one batch
        else:
            first_of[key] = index

    contents = _contents(posts, list(first_of.values()), outcomes)

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


def _contents(posts, indexes: list[int], outcomes) -> dict[int, tuple[str, str, str, Handling]]:
    """Each new post's kind, body, rendered HTML and handling, checked; a refused
    post's outcome is its error."""
    # The operations' default codes, read only for posts that name no code.
    defaults = handling_defaults(
        {
            posts[index].group.pk
            for index in indexes
            if not (
                isinstance(posts[index].handling, dict)
                and posts[index].handling.get("handling_code")
            )
        }
    )
    contents = {}
    for index in indexes:
        post = posts[index]
        try:
            if not isinstance(post.kind, str) or post.kind not in POSTABLE_KINDS:
                raise Invalid({"kind": _("Unknown message kind.")})
            body = _check_body(post.body)
            handling = post_handling(post, default=defaults.get(post.group.pk))
            contents[index] = (post.kind, body, render_markdown(body), handling)
        except ValidationError as error:
            outcomes[index] = error
    return contents


def post_handling(post: Post, *, default: Handling | None) -> Handling:
    """The post's handling code and grading, checked; the operation's default code."""
    given = post.handling if isinstance(post.handling, dict) else {}
    return handling_clean(
        code=given.get("handling_code"),
        conditions=given.get("handling_conditions"),
        source=given.get("source_grading"),
        information=given.get("information_grading"),
        default=default,
        graded=True,
    )


@dataclasses.dataclass
class _Checked:
    """What the checks under the lock let through, by the post's index in the batch."""

    accepted: list[int] = dataclasses.field(default_factory=list)
    membership_of: dict[int, int] = dataclasses.field(default_factory=dict)
    reply_of: dict[int, Message | None] = dataclasses.field(default_factory=dict)
    attachments_of: dict[int, list[Attachment]] = dataclasses.field(default_factory=dict)


def _store(posts, keys, contents, outcomes) -> dict[int, Message]:
    """Inside the transaction: lock, check, then write everything that passed."""
    # Take as many seqs as there are posts for each group; the UPDATE locks the group's
    # row until commit, in id order (no deadlock between batches). A removal, a
    # deactivation or a closing that committed first is seen by the checks below.
    wanted = collections.Counter(posts[index].group.pk for index in contents)
    heads, statuses = {}, {}
    for group_id, last_seq, status in seqs_take(wanted):
        heads[group_id], statuses[group_id] = last_seq - wanted[group_id], status
    checked = _check_posts(posts, contents, statuses, outcomes)
    # The accepted posts take the first seqs; what refused posts took is given back.
    seqs: dict[int, int] = {}
    for group_id, head in heads.items():
        mine = [index for index in checked.accepted if posts[index].group.pk == group_id]
        seqs.update(zip(mine, range(head + 1, head + 1 + len(mine)), strict=True))
        if len(mine) < wanted[group_id]:
            seqs_give_back(group_id=group_id, last_seq=head + len(mine))
    if not checked.accepted:
        return {}
    messages = _new_messages(posts, keys, contents, checked, seqs)
    _write(messages, checked)
    return messages


def _check_posts(posts, contents, statuses, outcomes) -> _Checked:
    """The batch's checks under the groups' locks: the authors' rights (groups/access.py),
    the replies, the attachments. A refused post's outcome is its error."""
    rights = post_rights(
        group_ids=sorted(statuses), user_ids={posts[index].author.pk for index in contents}
    )
    replies = [(posts[i].group.pk, posts[i].reply_to_seq) for i in contents]
    reply_targets = _messages_by_seq([r for r in replies if r[1] is not None])
    checked = _Checked()
    for index in contents:
        post = posts[index]
        try:
            right = rights.get((post.group.pk, post.author.pk))
            refusal = (
                GroupNotFound()
                if post.group.pk not in statuses
                else post_refusal(right, status=statuses[post.group.pk])
            )
            if refusal is not None:
                raise refusal
            if post.reply_to_seq is not None:
                checked.reply_of[index] = reply_targets.get((post.group.pk, post.reply_to_seq))
                if checked.reply_of[index] is None:
                    raise Invalid({"reply_to": _("There is no such message to reply to.")})
            checked.attachments_of[index] = _unclaimed_attachments(
                tokens=post.attachment_tokens, author=post.author, group=post.group
            )
        except (ValidationError, PermissionDenied, GroupNotFound) as error:
            outcomes[index] = error
            continue
        checked.accepted.append(index)
        if right.membership_id is not None:
            checked.membership_of[index] = right.membership_id
    return checked


def _new_messages(posts, keys, contents, checked: _Checked, seqs) -> dict[int, Message]:
    now = timezone.now()
    messages = {}
    for index in checked.accepted:
        post, (kind, body, html, handling) = posts[index], contents[index]
        messages[index] = Message(
            group=post.group,
            seq=seqs[index],
            author=post.author,
            kind=kind,
            reply_to=checked.reply_of.get(index),
            client_id=keys[index][1],
            body=body,
            html=html,
            render_version=RENDER_VERSION,
            created_at=now,
            handling_code=handling.code,
            handling_conditions=handling.conditions,
            source_grading=handling.source,
            information_grading=handling.information,
        )
    return messages


def _write(messages: dict[int, Message], checked: _Checked) -> None:
    """Events, messages, audit lines and the authors' read cursors: one statement."""
    events = [
        event_new(
            group=message.group,
            seq=message.seq,
            type=EventType.MESSAGE_CREATED,
            data=message_data(
                message, author=message.author, attachments=checked.attachments_of[i]
            ),
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
    events_append(
        events,
        list(messages.values()),
        audit,
        update=_read_own(
            _group_seqs(
                (checked.membership_of[i], message.seq)
                for i, message in messages.items()
                if i in checked.membership_of
            )
        ),
    )
    for index, attachments in checked.attachments_of.items():
        if attachments and index in messages:
            Attachment.objects.filter(pk__in=[a.pk for a in attachments]).update(
                message=messages[index]
            )
    search_entries_write(messages.values())


def _group_seqs(pairs) -> dict[int, list[int]]:
    grouped: dict[int, list[int]] = collections.defaultdict(list)
    for key, seq in pairs:
        grouped[key].append(seq)
    return grouped


def _read_own(seqs_of: dict[int, list[int]]) -> tuple[str, list] | None:
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
    if not moves:
        return None  # posted by holders of the permission who are not members
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
        raise Invalid(
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
        raise Invalid({"attachments": _("An attachment is unknown or already used.")})
    return attachments


def check_poster(*, group: ClosedUserGroup, author) -> int:
    """For services that post into a group (seizure alerts): lock, re-check, return the seq.

    Checking after the lock means a removal, a deactivation or a closing that commits
    first is always seen: no post can slip in after the author lost the right to post.
    """
    seq = seq_take(group_id=group.pk)
    check_may_post(group=group, author=author)
    return seq
