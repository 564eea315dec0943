"""The group event stream: one registry of types, appends that refuse what it lacks,
and the protocol document that lists the same registry."""

import re
from pathlib import Path

import pytest
from django.db import transaction

from groups.models import GroupEvent
from groups.stream import (
    EVENT_KEYS,
    EventRefused,
    EventType,
    event_append,
    event_new,
    events_append,
    seq_take,
)

PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def documented_events() -> dict[str, set[str]]:
    """``{type: backticked words of its row}`` from the protocol's event-type table."""
    text = PROTOCOL.read_text()
    table = text[text.index("## Event types") :]
    table = table[: table.index("\n## ", 3)]
    rows = {}
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 2 or not cells[0].startswith("`"):
            continue
        words = set(re.findall(r"`([^`]+)`", cells[1]))
        for name in re.findall(r"`([^`]+)`", cells[0]):
            rows[name] = words
    return rows


def test_the_protocol_lists_exactly_the_registered_types_and_their_keys():
    documented = documented_events()
    assert set(documented) == {str(t) for t in EventType}
    for event_type, (required, optional) in EVENT_KEYS.items():
        missing = (required | optional) - documented[str(event_type)]
        assert not missing, f"{event_type}: keys not in docs/protocol.md: {sorted(missing)}"


def test_every_registered_type_has_its_keys():
    assert set(EVENT_KEYS) == set(EventType)


@pytest.mark.django_db
def test_an_unknown_type_is_refused_and_nothing_is_written(world):
    before = world.group.last_seq
    with pytest.raises(EventRefused), transaction.atomic():
        event_append(group=world.group, type="seizures.validated", data={"count": 3})
    world.group.refresh_from_db()
    assert world.group.last_seq == before
    assert not GroupEvent.objects.filter(type="seizures.validated").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [{}, {"status": "open", "colour": "red"}, {"state": "open"}],
    ids=["missing", "extra", "wrong"],
)
def test_data_without_exactly_the_registered_keys_is_refused(world, data):
    with pytest.raises(EventRefused), transaction.atomic():
        event_append(group=world.group, type=EventType.GROUP_STATUS, data=data)
    with pytest.raises(EventRefused):
        event_new(group=world.group, seq=1, type=EventType.GROUP_STATUS, data=data)


@pytest.mark.django_db
def test_an_optional_key_is_accepted(world):
    with transaction.atomic():
        event = event_append(
            group=world.group,
            type=EventType.OPERATION_STATUS,
            data={"status": "active", "reopened": True},
        )
    assert GroupEvent.objects.get(pk=event.pk).data == {"status": "active", "reopened": True}


@pytest.mark.django_db
def test_appends_take_consecutive_seqs_one_or_many_at_once(world):
    start = world.group.last_seq
    with transaction.atomic():
        one = event_append(group=world.group, type=EventType.GROUP_STATUS, data={"status": "open"})
        seq = seq_take(group_id=world.group.pk)
        many = events_append(
            [
                event_new(
                    group=world.group,
                    seq=seq,
                    type=EventType.MESSAGE_RETRACTED,
                    data={"message_seq": 1},
                )
            ]
        )
    assert (one.seq, many[0].seq) == (start + 1, start + 2)
    world.group.refresh_from_db()
    assert world.group.last_seq == start + 2
    assert list(
        GroupEvent.objects.filter(group=world.group, seq__gt=start).values_list("seq", "type")
    ) == [(start + 1, "group.status"), (start + 2, "message.retracted")]


@pytest.mark.django_db(transaction=True)
def test_a_seq_is_taken_only_inside_a_transaction(world):
    with pytest.raises(RuntimeError):
        seq_take(group_id=world.group.pk)
