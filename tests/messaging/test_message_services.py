"""messaging.services: posting, retracting and receipts, against PostgreSQL and Redis."""

import asyncio
import json
import threading
import uuid
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from asgiref.sync import async_to_sync
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction

from core.models import AuditEntry
from core.realtime import user_channel
from groups.access import GroupNotFound
from groups.models import ClosedUserGroup, GroupEvent, Membership, Role
from groups.services import group_create, group_set_status, membership_add, membership_remove
from groups.stream import seq_take
from messaging.history import message_item
from messaging.models import Message, Receipt
from messaging.rendering import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, render_markdown
from messaging.selectors import events_after
from messaging.services import (
    Post,
    message_post,
    message_retract,
    messages_post,
    receipt_acknowledge,
    receipt_mark_read,
)

# ---- helpers ----------------------------------------------------------------------


def group_events(group_id: int) -> tuple[str, int]:
    """For ``emitted``: the group's events, as the process's fan-out hands them to sockets."""
    return ("events", group_id)


@pytest.fixture
def emitted(django_capture_on_commit_callbacks, captured_events):
    """``emitted(action, *sources)`` runs ``action`` with its on-commit callbacks
    executed and returns ``(result, messages)``: exactly what it handed to the
    real-time transport when its transaction committed (tests/conftest.py,
    ``captured_events``), on those channel groups (names) or as those groups' events
    (``group_events``), in order. Nothing sent is an empty list, not a timed silence."""

    def run(action, *sources):
        before = len(captured_events)
        with django_capture_on_commit_callbacks(execute=True):
            result = action()
        channel_groups = {name for name in sources if isinstance(name, str)}
        event_groups = {source[1] for source in sources if isinstance(source, tuple)}
        return result, [
            message
            for channel_group, message in captured_events[before:]
            if (channel_group is None and message["group_id"] in event_groups)
            or channel_group in channel_groups
        ]

    return run


def post(author, group, body="hello", **extra):
    extra.setdefault("client_id", uuid.uuid4())
    message, _created = message_post(author=author, group=group, body=body, **extra)
    return message


def head(group) -> int:
    return ClosedUserGroup.objects.values_list("last_seq", flat=True).get(pk=group.pk)


def event_seqs(group) -> list[int]:
    return list(
        GroupEvent.objects.filter(group=group).order_by("seq").values_list("seq", flat=True)
    )


# ---- message_post -----------------------------------------------------------------


@pytest.mark.django_db
def test_post_stores_the_message_and_its_event_then_broadcasts_it(world, emitted):
    before = head(world.group)
    receipt_mark_read(user=world.officer_fr, group=world.group, up_to_seq=before)
    client_id = uuid.uuid4()
    (message, created), sent = emitted(
        lambda: message_post(
            author=world.officer_fr, group=world.group, body="Seized *40 kg*", client_id=client_id
        ),
        group_events(world.group.pk),
    )
    assert created
    assert message.seq == before + 1 == head(world.group)
    assert (message.kind, message.body, message.client_id) == ("text", "Seized *40 kg*", client_id)
    assert message.html == "<p>Seized <em>40 kg</em></p>\n"
    event = GroupEvent.objects.get(group=world.group, seq=message.seq)
    assert event.type == "message.created"
    assert event.data == {
        "seq": message.seq,
        "kind": "text",
        "author": "officer.fr",
        "author_name": "officer.fr",
        "country": "FR",
        "html": "<p>Seized <em>40 kg</em></p>\n",
        "reply_to": None,
        "client_id": str(client_id),
        "created_at": message.created_at.isoformat(),
        "attachments": [],
        "handling_code": "H0",
        "handling_conditions": "",
        "source_grading": "",
        "information_grading": "",
        "released": False,
    }
    assert len(sent) == 1
    assert (sent[0]["type"], sent[0]["group_id"], sent[0]["seq"]) == (
        "cug.event",
        world.group.pk,
        message.seq,
    )
    assert json.loads(sent[0]["text"]) == {
        "type": "event",
        "group": world.group.slug,
        "seq": message.seq,
        "event": "message.created",
        "data": event.data,
    }
    # The author, who had read everything before, has read their own message too.
    membership = Membership.objects.get(user=world.officer_fr, group=world.group)
    assert membership.last_read_seq == message.seq


@pytest.mark.django_db
def test_posting_does_not_mark_unread_messages_of_others_as_read(world):
    unread = post(world.officer_de, world.group, "urgent", kind="alert")
    post(world.officer_fr, world.group, "sent from my offline queue")
    membership = Membership.objects.get(user=world.officer_fr, group=world.group)
    assert membership.last_read_seq < unread.seq


@pytest.mark.django_db
def test_post_costs_a_few_queries(world, django_assert_max_num_queries):
    post(world.officer_fr, world.group, "warm-up")
    # Idempotency look-up, seq + lock, membership check, one statement for the
    # message, its event, its audit line and the read cursor (on PostgreSQL; one each
    # elsewhere, and the time kept), the audit chain's lock, and the savepoint around them; and the operation's
    # default handling code, for a post that names none; and the search index's entry
    # (the authors' administrations, the attachments' names, one insert).
    with django_assert_max_num_queries(11 if connection.vendor == "postgresql" else 15):
        post(world.officer_fr, world.group, "counted")


# ---- messages_post: several posts at once ---------------------------------------


@pytest.mark.django_db
def test_a_batch_judges_each_post_on_its_own(world, emitted):
    second = group_create(name="Second unit", created_by=world.ocu)
    membership_add(group=second, user=world.officer_fr, role=Role.MEMBER, added_by=world.ocu)
    earlier = post(world.officer_fr, world.group, "sent before")
    receipt_mark_read(user=world.officer_fr, group=world.group, up_to_seq=head(world.group))
    before, before_second = head(world.group), head(second)
    audit_before = AuditEntry.objects.filter(action=AuditEntry.Action.MESSAGE_POSTED).count()
    twice = uuid.uuid4()

    def one(author, group, body, **extra):
        extra.setdefault("client_id", uuid.uuid4())
        return Post(author=author, group=group, body=body, **extra)

    batch = [
        one(world.officer_fr, world.group, "first", client_id=twice),
        one(world.observer, world.group, "observers do not post"),
        one(world.officer_de, world.group, "bad kind", kind="shout"),
        one(world.officer_fr, world.group, "first, sent twice", client_id=twice),
        one(world.outsider, world.group, "not a member"),
        one(world.officer_fr, second, "in the second group"),
        one(world.officer_de, world.group, "second"),
        one(world.officer_fr, world.group, "a resend", client_id=earlier.client_id),
        one(world.officer_de, world.group, "reply to nothing", reply_to_seq=999),
        one(world.officer_de, world.group, "   "),
        one(world.officer_fr, world.group, "third, a reply", reply_to_seq=earlier.seq),
    ]
    outcomes, sent = emitted(lambda: messages_post(batch), group_events(world.group.pk))

    first, observer, bad_kind, again, outsider, other, de, resend, no_target, blank, reply = (
        outcomes
    )
    assert isinstance(observer, PermissionDenied)
    assert isinstance(outsider, GroupNotFound)
    assert "kind" in bad_kind.message_dict
    assert "reply_to" in no_target.message_dict and "body" in blank.message_dict
    # Accepted posts take consecutive seqs, in the batch's order; refused ones take none.
    assert [(m.body, m.seq, created) for m, created in (first, de, reply)] == [
        ("first", before + 1, True),
        ("second", before + 2, True),
        ("third, a reply", before + 3, True),
    ]
    assert reply[0].reply_to == earlier
    assert again == (first[0], False) and resend == (earlier, False)
    assert (other[0].group, other[0].seq, other[1]) == (second, before_second + 1, True)
    assert head(world.group) == before + 3 and head(second) == before_second + 1
    assert event_seqs(world.group)[-3:] == [before + 1, before + 2, before + 3]
    assert Message.objects.filter(group=world.group, seq__gt=before).count() == 3
    assert [json.loads(m["text"])["data"]["html"] for m in sent] == [
        "<p>first</p>\n",
        "<p>second</p>\n",
        "<p>third, a reply</p>\n",
    ]
    posted = AuditEntry.objects.filter(action=AuditEntry.Action.MESSAGE_POSTED)
    assert posted.count() == audit_before + 4
    # officer.fr had read everything: the cursor follows their first post only, since
    # officer.de's post came between it and their next one.
    membership = Membership.objects.get(user=world.officer_fr, group=world.group)
    assert membership.last_read_seq == before + 1


@pytest.mark.django_db
def test_a_client_id_is_the_authors_own_in_a_batch_too(world):
    """The resend look-up matches (author, client_id) pairs: another author's key, or
    one author's key crossed with another's, is not a resend."""
    fr_key, de_key = uuid.uuid4(), uuid.uuid4()
    fr_first = post(world.officer_fr, world.group, "fr first", client_id=fr_key)
    de_first = post(world.officer_de, world.group, "de first", client_id=de_key)
    before = head(world.group)
    outcomes = messages_post(
        [
            Post(author=world.officer_de, group=world.group, body="de, fr's key", client_id=fr_key),
            Post(author=world.officer_fr, group=world.group, body="fr again", client_id=fr_key),
            Post(author=world.officer_fr, group=world.group, body="fr, de's key", client_id=de_key),
            Post(author=world.officer_de, group=world.group, body="de again", client_id=de_key),
        ]
    )
    crossed_de, fr_again, crossed_fr, de_again = outcomes
    assert fr_again == (fr_first, False) and de_again == (de_first, False)
    assert crossed_de[1] and crossed_fr[1]
    assert (crossed_de[0].body, crossed_fr[0].body) == ("de, fr's key", "fr, de's key")
    assert head(world.group) == before + 2


@pytest.mark.django_db
@pytest.mark.parametrize("count", [5, 40])
def test_a_batch_costs_the_same_few_queries_however_many_posts_it_holds(
    world, count, django_assert_max_num_queries
):
    groups = [world.group] + [
        group_create(name=f"Unit {n}", created_by=world.ocu) for n in range(3)
    ]
    for group in groups[1:]:
        membership_add(group=group, user=world.officer_fr, role=Role.MEMBER, added_by=world.ocu)
    batch = [
        Post(author=world.officer_fr, group=groups[n % 4], body=f"post {n}", client_id=uuid.uuid4())
        for n in range(count)
    ]
    # Resend look-up, group locks and seqs, memberships, one statement for messages,
    # events, audit lines and read cursors (on PostgreSQL; one each elsewhere, and
    # the time kept), the audit chain's lock, and the savepoint around them; and the groups' default handling
    # codes, in one query, for posts that name none.
    with django_assert_max_num_queries(11 if connection.vendor == "postgresql" else 16):
        outcomes = messages_post(batch)
    assert all(created for _message, created in outcomes)
    for group in groups:
        seqs = [m.seq for m, _c in outcomes if m.group_id == group.pk]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) and seqs[-1] == head(group)


@pytest.mark.django_db(transaction=True)
def test_posts_that_queue_up_on_a_socket_process_are_written_together(world, monkeypatch):
    """Through the batcher, as sockets post: fewer database calls than posts, each
    post answered with its own outcome."""
    from messaging import batching

    calls = []

    def counted(posts):
        calls.append(len(posts))
        return messages_post(posts)

    monkeypatch.setattr(batching, "messages_post", counted)

    async def scenario():
        tasks = [
            batching.batcher.post(
                Post(
                    author=world.officer_de if n % 3 else world.observer,
                    group=world.group,
                    body=f"queued {n}",
                    client_id=uuid.uuid4(),
                )
            )
            for n in range(30)
        ]
        return await asyncio.gather(*tasks, return_exceptions=True)

    before = head(world.group)
    outcomes = async_to_sync(scenario)()
    refused = [o for n, o in enumerate(outcomes) if n % 3 == 0]
    accepted = [o for n, o in enumerate(outcomes) if n % 3]
    assert all(isinstance(o, PermissionDenied) for o in refused)
    assert sorted(m.seq for m, _created in accepted) == list(range(before + 1, before + 21))
    assert sum(calls) == 30 and len(calls) < 30


@pytest.mark.django_db
def test_same_client_id_twice_stores_one_message(world, emitted):
    client_id = uuid.uuid4()
    first, created = message_post(
        author=world.officer_fr, group=world.group, body="once", client_id=client_id
    )
    assert created
    before = head(world.group)
    (again, created_again), sent = emitted(
        lambda: message_post(
            author=world.officer_fr,
            group=world.group,
            body="once, edited?",
            client_id=str(client_id).upper(),
        ),
        group_events(world.group.pk),
    )
    assert not created_again and again.pk == first.pk and again.body == "once"
    assert Message.objects.filter(author=world.officer_fr, client_id=client_id).count() == 1
    assert head(world.group) == before
    assert sent == []


@pytest.mark.django_db
def test_client_id_is_per_author(world):
    client_id = uuid.uuid4()
    mine = post(world.officer_fr, world.group, client_id=client_id)
    theirs = post(world.officer_de, world.group, client_id=client_id)
    assert mine.pk != theirs.pk and theirs.seq == mine.seq + 1


@pytest.mark.django_db
def test_a_client_id_used_in_another_group_is_refused(world):
    other = group_create(name="Second unit", created_by=world.ocu)
    membership_add(group=other, user=world.officer_fr, role=Role.MEMBER, added_by=world.ocu)
    client_id = uuid.uuid4()
    post(world.officer_fr, world.group, client_id=client_id)
    with pytest.raises(ValidationError) as refused:
        post(world.officer_fr, other, client_id=client_id)
    assert "client_id" in refused.value.message_dict


@pytest.mark.django_db
def test_observer_is_refused_and_no_seq_is_used(world, emitted):
    before = head(world.group)

    def observer_posts():
        with pytest.raises(PermissionDenied):
            post(world.observer, world.group, "I only read")

    _result, sent = emitted(observer_posts, group_events(world.group.pk))
    assert head(world.group) == before
    assert event_seqs(world.group)[-1] == before
    assert sent == []
    assert not Message.objects.filter(author=world.observer).exists()


@pytest.mark.django_db
def test_read_only_group_is_refused(world):
    group_set_status(group=world.group, status=ClosedUserGroup.Status.READ_ONLY)
    before = head(world.group)
    with pytest.raises(PermissionDenied):
        post(world.officer_fr, world.group)
    assert head(world.group) == before


@pytest.mark.django_db
def test_non_member_gets_group_not_found(world):
    before = head(world.group)
    with pytest.raises(GroupNotFound):
        post(world.outsider, world.group)
    assert head(world.group) == before


@pytest.mark.django_db
def test_removed_member_gets_group_not_found(world):
    membership_remove(group=world.group, user=world.officer_fr, removed_by=world.ocu)
    with pytest.raises(GroupNotFound):
        post(world.officer_fr, world.group)


@pytest.mark.django_db
def test_deactivated_member_cannot_post_with_a_stale_user_object(world):
    """A socket loads its user once, at connect: the service reads the account's state."""
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(pk=world.officer_fr.pk).update(is_active=False)
    assert world.officer_fr.is_active  # the object the socket holds
    with pytest.raises(GroupNotFound):
        post(world.officer_fr, world.group)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "  \n\t"}, "body"),
        ({"body": None}, "body"),
        ({"body": ["list"]}, "body"),
        ({"client_id": "not-a-uuid"}, "client_id"),
        ({"client_id": None}, "client_id"),
        ({"client_id": ""}, "client_id"),
        ({"kind": "seizure"}, "kind"),
        ({"kind": "shout"}, "kind"),
        ({"kind": ["text"]}, "kind"),
        ({"kind": None}, "kind"),
        ({"reply_to_seq": 999_999}, "reply_to"),
        ({"attachment_tokens": ["no-such-token"]}, "attachments"),
    ],
)
def test_invalid_post_is_refused_and_uses_no_seq(world, changes, field):
    before = head(world.group)
    arguments = {"body": "hello", "client_id": uuid.uuid4(), **changes}
    with pytest.raises(ValidationError) as refused:
        message_post(author=world.officer_fr, group=world.group, **arguments)
    assert field in refused.value.message_dict
    assert head(world.group) == before
    assert not Message.objects.filter(author=world.officer_fr).exists()


@pytest.mark.django_db
def test_body_length_limit(world, settings):
    settings.MESSAGE_MAX_LENGTH = 20
    post(world.officer_fr, world.group, "x" * 20)
    with pytest.raises(ValidationError) as refused:
        post(world.officer_fr, world.group, "x" * 21)
    assert "20" in refused.value.message_dict["body"][0]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["text", "alert", "request", "reply", "notice"])
def test_every_postable_kind(world, kind):
    assert post(world.officer_fr, world.group, kind=kind).kind == kind


@pytest.mark.django_db
def test_reply_to_points_at_the_message_with_that_seq(world):
    question = post(world.officer_fr, world.group, "Anyone seen MSKU1234567?", kind="request")
    answer = post(world.officer_de, world.group, "Yes, Hamburg", reply_to_seq=question.seq)
    assert answer.reply_to == question
    event = GroupEvent.objects.get(group=world.group, seq=answer.seq)
    assert event.data["reply_to"] == question.seq


@pytest.mark.django_db
def test_reply_to_an_event_that_is_not_a_message_is_refused(world):
    member_added = GroupEvent.objects.filter(group=world.group, type="member.added").first()
    with pytest.raises(ValidationError) as refused:
        post(world.officer_de, world.group, "?", reply_to_seq=member_added.seq)
    assert "reply_to" in refused.value.message_dict


@pytest.mark.django_db
def test_reply_to_a_message_of_another_group_is_refused(world):
    other = group_create(name="Second unit", created_by=world.ocu)
    elsewhere = post(world.ocu, other, "elsewhere")
    # The same seq number may exist in this group too: make sure it does not.
    assert not Message.objects.filter(group=world.group, seq=elsewhere.seq).exists()
    with pytest.raises(ValidationError):
        post(world.ocu, world.group, "?", reply_to_seq=elsewhere.seq)


# ---- Markdown ---------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.test/x.js></SCRIPT>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](  javascript:alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    "![x](javascript:alert(1))",
    "![x](https://evil.test/pixel.gif)",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="https://evil.test" onclick="alert(1)">x</a>',
    "<iframe src=https://evil.test></iframe>",
    "<svg onload=alert(1)>",
    "<style>body{display:none}</style>",
    '[x](https://example.org "t\\" onmouseover=\\"alert(1))',
    "<javascript:alert(1)>",
    "**bold <b onmouseover=alert(1)>x</b>**",
    "```\n<script>alert(1)</script>\n```",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_markdown_renders_inert(source):
    html = render_markdown(source)
    for tag, attributes in _tags(html):
        assert tag in ALLOWED_TAGS, html
        assert set(attributes) <= ALLOWED_ATTRIBUTES.get(tag, set()) | {"rel"}, html
        assert not any(name.startswith("on") for name in attributes), html
        if tag == "a":
            # A relative link (no scheme) is harmless; any scheme must be a safe one.
            assert urlsplit(attributes["href"]).scheme in {"", "http", "https", "mailto"}, html
            assert attributes["rel"] == "noopener noreferrer nofollow", html
    lowered = html.lower()
    for dangerous in ("<script", "<img", "<iframe", "<svg", "<style"):
        assert dangerous not in lowered, html


@pytest.mark.django_db
def test_hostile_post_is_stored_and_broadcast_sanitised(world):
    message = post(
        world.officer_fr,
        world.group,
        "<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>",
    )
    assert "<script" not in message.html and "<img" not in message.html
    assert "&lt;script&gt;" in message.html
    assert 'href="javascript' not in message.html
    event = GroupEvent.objects.get(group=world.group, seq=message.seq)
    assert event.data["html"] == message.html
    assert message.body.startswith("<script>")  # the source is kept as written


@pytest.mark.parametrize(
    ("source", "html"),
    [
        (
            "[the manifest](https://example.org/m?id=1)",
            '<p><a href="https://example.org/m?id=1" rel="noopener noreferrer nofollow">'
            "the manifest</a></p>\n",
        ),
        (
            "<https://example.org>",
            '<p><a href="https://example.org" rel="noopener noreferrer nofollow">'
            "https://example.org</a></p>\n",
        ),
        (
            "[ocu](mailto:ocu@example.org)",
            '<p><a href="mailto:ocu@example.org" rel="noopener noreferrer nofollow">ocu</a></p>\n',
        ),
        (
            "**40 kg** of ~~sugar~~ cocaine",
            "<p><strong>40 kg</strong> of <s>sugar</s> cocaine</p>\n",
        ),
        ("a < b & c > d", "<p>a &lt; b &amp; c &gt; d</p>\n"),
    ],
)
def test_markdown_renders_links_and_emphasis(source, html):
    assert render_markdown(source) == html


# ---- message_retract --------------------------------------------------------------


@pytest.mark.django_db
def test_retract_hides_the_content_for_everyone_and_scrubs_the_replay(world, emitted):
    message = post(world.officer_fr, world.group, "wrong container number")
    (retracted, sent) = emitted(
        lambda: message_retract(author=world.officer_fr, group=world.group, seq=message.seq),
        group_events(world.group.pk),
    )
    assert retracted.is_retracted
    message.refresh_from_db()
    assert message.retracted_at is not None
    assert message.body == "wrong container number"  # the record is kept
    retraction = GroupEvent.objects.get(group=world.group, seq=message.seq + 1)
    assert (retraction.type, retraction.data) == ("message.retracted", {"message_seq": message.seq})
    assert [json.loads(m["text"])["event"] for m in sent] == ["message.retracted"]
    # The stream is never rewritten: the original event is as it was ...
    created = GroupEvent.objects.get(group=world.group, seq=message.seq)
    assert "wrong container" in created.data["html"] and "retracted" not in created.data
    # ... and catch-up replays it without the content.
    [replayed] = events_after(
        group_id=world.group.pk,
        user_id=world.officer_de.pk,
        after=message.seq - 1,
        until=message.seq,
        limit=10,
    )
    assert replayed["data"]["html"] == "" and replayed["data"]["retracted"] is True
    assert replayed["data"]["attachments"] == []
    assert "wrong container" not in json.dumps(replayed)
    # History and the API show it retracted too.
    item = message_item(message)
    assert item["html"] == "" and item["retracted"] is True


@pytest.mark.django_db
def test_retracting_twice_changes_nothing(world, emitted):
    message = post(world.officer_fr, world.group)
    message_retract(author=world.officer_fr, group=world.group, seq=message.seq)
    before = head(world.group)
    _again, sent = emitted(
        lambda: message_retract(author=world.officer_fr, group=world.group, seq=message.seq),
        group_events(world.group.pk),
    )
    assert head(world.group) == before
    assert sent == []


@pytest.mark.django_db
def test_only_the_author_retracts(world):
    message = post(world.officer_fr, world.group)
    before = head(world.group)
    with pytest.raises(PermissionDenied):
        message_retract(author=world.ocu, group=world.group, seq=message.seq)
    with pytest.raises(GroupNotFound):
        message_retract(author=world.outsider, group=world.group, seq=message.seq)
    with pytest.raises(ValidationError):
        message_retract(author=world.officer_fr, group=world.group, seq=10_000)
    assert head(world.group) == before
    message.refresh_from_db()
    assert not message.is_retracted


@pytest.mark.django_db
def test_a_read_only_group_keeps_its_messages(world, emitted):
    message = post(world.officer_fr, world.group)
    group_set_status(group=world.group, status=ClosedUserGroup.Status.READ_ONLY)
    before = head(world.group)

    def retract():
        with pytest.raises(PermissionDenied):
            message_retract(author=world.officer_fr, group=world.group, seq=message.seq)

    _result, sent = emitted(retract, group_events(world.group.pk))
    assert sent == []
    assert head(world.group) == before
    message.refresh_from_db()
    assert not message.is_retracted
    created = GroupEvent.objects.get(group=world.group, seq=message.seq)
    assert created.data["html"] != "" and "retracted" not in created.data


@pytest.mark.django_db
def test_a_seizure_report_is_not_retracted(world):
    with transaction.atomic():
        seq = seq_take(group_id=world.group.pk)
        report = Message.objects.create(
            group=world.group,
            seq=seq,
            author=world.officer_fr,
            kind=Message.Kind.SEIZURE,
            client_id=uuid.uuid4(),
            body="40 kg cocaine",
            html="<p>40 kg cocaine</p>",
            render_version=1,
        )
    with pytest.raises(ValidationError):
        message_retract(author=world.officer_fr, group=world.group, seq=report.seq)
    assert head(world.group) == seq


# ---- receipts ---------------------------------------------------------------------


@pytest.mark.django_db
def test_marking_read_tells_each_author_and_the_coordinators_once(world, emitted):
    first = post(world.officer_fr, world.group, "one")
    second = post(world.officer_fr, world.group, "two")
    own = post(world.officer_de, world.group, "mine")
    cursor, sent = emitted(
        lambda: receipt_mark_read(user=world.officer_de, group=world.group, up_to_seq=own.seq),
        user_channel(world.officer_fr.pk),
        user_channel(world.ocu.pk),
        user_channel(world.officer_de.pk),
    )
    assert cursor == own.seq
    assert Membership.objects.get(user=world.officer_de, group=world.group).last_read_seq == own.seq
    # One channel message per person (author, coordinator), each with every receipt.
    assert len(sent) == 2
    frames = [frame for message in sent for frame in message["frames"]]
    assert {(f["seq"], f["user"], f["acknowledged"]) for f in frames} == {
        (first.seq, "officer.de", False),
        (second.seq, "officer.de", False),
    }
    assert all(m["type"] == "receipt.update" and m["group_id"] == world.group.pk for m in sent)


@pytest.mark.django_db
def test_the_read_cursor_never_moves_back_nor_past_the_head(world, emitted):
    message = post(world.officer_fr, world.group)
    assert receipt_mark_read(user=world.officer_de, group=world.group, up_to_seq=10**30) == (
        message.seq
    )
    cursor, sent = emitted(
        lambda: receipt_mark_read(user=world.officer_de, group=world.group, up_to_seq=1),
        user_channel(world.officer_fr.pk),
    )
    assert cursor == message.seq and sent == []


@pytest.mark.django_db
@pytest.mark.parametrize("seq", [-1, "3", None, True, 1.5])
def test_marking_read_needs_a_seq(world, seq):
    with pytest.raises(ValidationError):
        receipt_mark_read(user=world.officer_de, group=world.group, up_to_seq=seq)


@pytest.mark.django_db
def test_only_members_mark_read(world):
    with pytest.raises(GroupNotFound):
        receipt_mark_read(user=world.outsider, group=world.group, up_to_seq=1)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["alert", "request"])
def test_acknowledging_an_alert_records_it_and_tells_the_author(world, emitted, kind):
    alert = post(world.officer_fr, world.group, "Stop truck AB-123-CD", kind=kind)
    receipt, sent = emitted(
        lambda: receipt_acknowledge(user=world.officer_de, group=world.group, seq=alert.seq),
        user_channel(world.officer_fr.pk),
    )
    assert receipt.acknowledged_at is not None and receipt.read_at is not None
    assert Membership.objects.get(user=world.officer_de, group=world.group).last_read_seq >= (
        alert.seq
    )
    assert [m["frames"] for m in sent] == [
        [
            {
                "type": "receipt",
                "group": world.group.slug,
                "seq": alert.seq,
                "user": "officer.de",
                "read": True,
                "acknowledged": True,
            }
        ]
    ]
    # A second acknowledgement changes nothing and tells no one.
    again, sent = emitted(
        lambda: receipt_acknowledge(user=world.officer_de, group=world.group, seq=alert.seq),
        user_channel(world.officer_fr.pk),
    )
    assert again.acknowledged_at == receipt.acknowledged_at and sent == []
    assert Receipt.objects.filter(message=alert).count() == 1


@pytest.mark.django_db
def test_acknowledging_marks_read_what_it_passes_over_and_says_so(world, emitted):
    earlier = post(world.ocu, world.group, "Container MSKU 123 on its way")
    post(world.officer_de, world.group, "mine")
    alert = post(world.officer_fr, world.group, "Stop truck AB-123-CD", kind="alert")
    _receipt, sent = emitted(
        lambda: receipt_acknowledge(user=world.officer_de, group=world.group, seq=alert.seq),
        user_channel(world.officer_fr.pk),
        user_channel(world.ocu.pk),
        user_channel(world.officer_de.pk),
    )
    membership = Membership.objects.get(user=world.officer_de, group=world.group)
    assert membership.last_read_seq == alert.seq
    received = sorted([(f["seq"], f["acknowledged"]) for f in m["frames"]] for m in sent)
    # The alert's author hears of the acknowledgement; the coordinator (who wrote the
    # earlier message) of both, in seq order; the reader's own message owes nothing.
    assert received == [
        [(earlier.seq, False), (alert.seq, True)],
        [(alert.seq, True)],
    ]


@pytest.mark.django_db
def test_acknowledging_a_text_message_or_nothing_is_refused(world):
    text = post(world.officer_fr, world.group, "chatting")
    with pytest.raises(ValidationError):
        receipt_acknowledge(user=world.officer_de, group=world.group, seq=text.seq)
    with pytest.raises(ValidationError):
        receipt_acknowledge(user=world.officer_de, group=world.group, seq=10_000)
    with pytest.raises(GroupNotFound):
        receipt_acknowledge(user=world.outsider, group=world.group, seq=text.seq)
    assert not Receipt.objects.exists()


# ---- concurrency (real threads, real PostgreSQL) ----------------------------------


def _in_threads(workers, *, reader=None):
    """Start ``workers`` (and ``reader``) together; return the errors they raised."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(workers) + (1 if reader else 0))
    done = threading.Event()

    def run(work):
        try:
            barrier.wait()
            work()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    def read():
        try:
            barrier.wait()
            while not done.is_set():
                reader()
            reader()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(work,)) for work in workers]
    reading = threading.Thread(target=read) if reader else None
    for thread in threads + ([reading] if reading else []):
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    done.set()
    if reading:
        reading.join(timeout=120)
    return errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_get_gap_free_seqs_that_commit_in_order(world):
    start = head(world.group)
    authors = [world.ocu, world.officer_fr, world.officer_de]
    per_author = 20
    snapshots: list[list[int]] = []

    def writer(author):
        def work():
            for n in range(per_author):
                post(author, world.group, f"{author.username} #{n}")

        return work

    def reader():
        snapshots.append(
            list(
                GroupEvent.objects.filter(group=world.group, seq__gt=start)
                .order_by("seq")
                .values_list("seq", flat=True)
            )
        )

    errors = _in_threads([writer(author) for author in authors], reader=reader)
    assert errors == []
    total = len(authors) * per_author
    expected = list(range(start + 1, start + total + 1))
    messages = Message.objects.filter(group=world.group).order_by("seq")
    assert [m.seq for m in messages] == expected
    assert event_seqs(world.group)[-total:] == expected
    assert head(world.group) == start + total
    # Every moment a reader looked, what had committed was 1..k with nothing missing:
    # a later seq never becomes visible before an earlier one (commit order = seq order).
    assert snapshots and snapshots[-1] == expected
    for seen in snapshots:
        assert seen == expected[: len(seen)]
    # Each author's messages carry increasing seqs in the order they were posted.
    for author in authors:
        bodies = [m.body for m in messages if m.author_id == author.pk]
        assert bodies == [f"{author.username} #{n}" for n in range(per_author)]
    # The stream is exactly the messages, each event pointing at its message.
    data_seqs = [
        e.data["seq"]
        for e in GroupEvent.objects.filter(group=world.group, seq__gt=start).order_by("seq")
    ]
    assert data_seqs == expected


@pytest.mark.django_db(transaction=True)
def test_concurrent_resends_of_one_client_id_store_one_message(world):
    start = head(world.group)
    rounds = 8
    results: list[tuple[int, uuid.UUID, int, bool]] = []

    for round_number in range(rounds):
        client_id = uuid.uuid4()

        def resend(client_id=client_id, round_number=round_number):
            message, created = message_post(
                author=world.officer_fr,
                group=world.group,
                body=f"round {round_number}",
                client_id=client_id,
            )
            results.append((round_number, client_id, message.pk, created))

        assert _in_threads([resend, resend, resend]) == []

    assert Message.objects.filter(author=world.officer_fr).count() == rounds
    for round_number in range(rounds):
        answers = [r for r in results if r[0] == round_number]
        assert len(answers) == 3
        assert len({pk for _r, _c, pk, _created in answers}) == 1
        assert sorted(created for *_rest, created in answers) == [False, False, True]
    assert head(world.group) == start + rounds
    assert event_seqs(world.group)[-rounds:] == list(range(start + 1, start + rounds + 1))


@pytest.mark.django_db(transaction=True)
def test_concurrent_use_of_one_client_id_in_two_groups_stores_one(world):
    other = group_create(name="Second unit", created_by=world.ocu)
    membership_add(group=other, user=world.officer_fr, role=Role.MEMBER, added_by=world.ocu)
    outcomes: list[str] = []
    for _round in range(5):
        client_id = uuid.uuid4()

        def attempt(group, client_id=client_id):
            try:
                post(world.officer_fr, group, client_id=client_id)
                outcomes.append("stored")
            except ValidationError as error:
                assert "client_id" in error.message_dict
                outcomes.append("refused")

        assert _in_threads([lambda: attempt(world.group), lambda: attempt(other)]) == []
        assert Message.objects.filter(client_id=client_id).count() == 1
    assert sorted(outcomes) == ["refused"] * 5 + ["stored"] * 5
    # Neither group's stream has a hole.
    for group in (world.group, other):
        seqs = event_seqs(group)
        assert seqs == list(range(1, len(seqs) + 1))


@pytest.mark.django_db(transaction=True)
def test_a_removal_committed_first_stops_the_next_post(world):
    """The post re-checks membership after the group lock: a removal that commits
    while the post waits for the lock is seen."""
    locked = threading.Event()
    release = threading.Event()
    outcome: list[object] = []

    def remove_slowly():
        with transaction.atomic():
            ClosedUserGroup.objects.select_for_update().get(pk=world.group.pk)
            locked.set()
            release.wait(timeout=10)
            membership_remove(group=world.group, user=world.officer_fr, removed_by=world.ocu)

    def try_to_post():
        locked.wait(timeout=10)
        try:
            post(world.officer_fr, world.group, "slipping in?")
            outcome.append("posted")
        except GroupNotFound:
            outcome.append("not found")

    def let_go():
        locked.wait(timeout=10)
        threading.Event().wait(0.3)  # the post is now waiting for the lock
        release.set()

    assert _in_threads([remove_slowly, try_to_post, let_go]) == []
    assert outcome == ["not found"]
    assert not Message.objects.filter(author=world.officer_fr).exists()
