"""bulk_insert: the rows written as bulk_create would write them, in one statement."""

import datetime
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.audit import Action, audit_entry
from core.bulk import bulk_insert
from core.models import AuditEntry
from groups.models import GroupEvent
from messaging.models import Message

pytestmark = pytest.mark.django_db


def test_rows_are_stored_with_their_pks_defaults_and_json(world):
    group, author = world.group, world.officer_fr
    client_ids = [uuid.uuid4() for _ in range(3)]
    messages = [
        Message(
            group=group,
            seq=seq,
            author=author,
            kind=Message.Kind.TEXT,
            client_id=client_id,
            body=f"Saisie n° {seq} — «cocaïne» 'quoted' \"double\" \\ back",
            html=f"<p>{seq}</p>",
            render_version=1,
        )
        for seq, client_id in zip((1, 2, 3), client_ids, strict=True)
    ]
    with CaptureQueriesContext(connection) as queries:
        bulk_insert(messages)
    if connection.vendor == "postgresql":
        assert len(queries) == 1
        assert "json_to_recordset" in queries[0]["sql"]

    assert all(message.pk for message in messages)
    assert len({message.pk for message in messages}) == 3
    for message, client_id in zip(messages, client_ids, strict=True):
        stored = Message.objects.get(pk=message.pk)
        assert stored.seq == message.seq
        assert stored.client_id == client_id
        assert stored.body == message.body
        assert stored.author_id == author.pk
        assert stored.reply_to_id is None
        assert stored.retracted_at is None
        # auto_now_add is applied to the object, exactly as stored
        assert message.created_at is not None
        assert stored.created_at == message.created_at


def test_json_fields_and_addresses_round_trip(world):
    group = world.group
    data = {"html": "<p>é</p>", "nested": {"list": [1, 2.5, None, True]}, "n": 10**12}
    events = [GroupEvent(group=group, seq=7, type="message.created", data=data)]
    bulk_insert(events)
    assert GroupEvent.objects.get(pk=events[0].pk).data == data

    actor = world.officer_de
    entry = audit_entry(
        actor=actor, action=Action.MESSAGE_POSTED, group=group, target="#7", data={"k": "v"}
    )
    entry.ip = "2001:db8::1"
    bulk_insert([entry])
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.actor_id, stored.ip, stored.data) == (actor.pk, "2001:db8::1", {"k": "v"})


def test_a_failing_row_writes_nothing(world):
    group = world.group
    GroupEvent.objects.filter(group=group).delete()
    bulk_insert([GroupEvent(group=group, seq=1, type="x", data={})])
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_insert(
            [
                GroupEvent(group=group, seq=2, type="x", data={}),
                GroupEvent(group=group, seq=1, type="x", data={}),
            ]
        )
    assert list(GroupEvent.objects.filter(group=group).values_list("seq", flat=True)) == [1]


def test_nothing_to_insert_runs_no_statement():
    with CaptureQueriesContext(connection) as queries:
        bulk_insert([])
    assert queries.captured_queries == []


def test_several_models_and_an_update_go_in_one_statement(world):
    group, author = world.group, world.officer_fr
    membership = group.memberships.get(user=author)
    before = timezone.now() - datetime.timedelta(minutes=5)
    message = Message(
        group=group,
        seq=900,
        author=author,
        kind=Message.Kind.TEXT,
        client_id=uuid.uuid4(),
        body="x",
        html="<p>x</p>",
        render_version=1,
        created_at=before,
    )
    events = [GroupEvent(group=group, seq=900, type="message.created", data={"seq": 900})]
    entry = audit_entry(actor=author, action=Action.MESSAGE_POSTED, group=group, target="#900")
    table = connection.ops.quote_name(membership._meta.db_table)
    with CaptureQueriesContext(connection) as queries:
        bulk_insert(
            [message],
            events,
            [entry],
            update=(f"UPDATE {table} SET last_read_seq = %s WHERE id = %s", [900, membership.pk]),  # noqa: S608
        )
    if connection.vendor == "postgresql":
        # The audit chain's lock and last hash (core/audit_chain.py), then one
        # statement for everything.
        assert len(queries) == 2
        assert "cencomm_audit_chain_head" in queries[0]["sql"]
        assert queries[1]["sql"].startswith("WITH ")
    assert Message.objects.get(pk=message.pk).body == "x"
    # A time set by the caller is the one stored (the event's payload showed it).
    assert Message.objects.get(pk=message.pk).created_at == before
    assert GroupEvent.objects.get(pk=events[0].pk).data == {"seq": 900}
    assert AuditEntry.objects.get(pk=entry.pk).target == "#900"
    membership.refresh_from_db()
    assert membership.last_read_seq == 900
