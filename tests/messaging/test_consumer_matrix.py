"""The websocket's part of the authorization matrix: every role by every action.

Inside a group, someone who is not a member gets `not_found`, exactly as for a group
that does not exist; a member whose role does not allow the action gets `forbidden`.
"""

import json
import uuid

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Permission

from cencomm.asgi import application
from messaging.services import message_post
from tests.conftest import api_token

ROLES = [
    "anonymous",
    "outsider",
    "observer",
    "member",
    "coordinator",
    "other_coordinator",
    "staff",
    "analyst",
]
NOT_MEMBER = {
    "outsider": "error:not_found",
    "other_coordinator": "error:not_found",
    "staff": "error:not_found",
    "analyst": "error:not_found",
}

# action -> role -> the first frame type answered (or "closed:<code>")
EXPECT = {
    "sync": {
        "observer": "sync.page",
        "member": "sync.page",
        "coordinator": "sync.page",
        **NOT_MEMBER,
    },
    "message.post": {
        "observer": "error:forbidden",
        "member": "message.accepted",
        "coordinator": "message.accepted",
        **NOT_MEMBER,
    },
    "message.retract": {
        "observer": "error:forbidden",
        "member": "message.retracted.ok",
        "coordinator": "error:forbidden",
        **NOT_MEMBER,
    },
    # The alert's author (the member) or a coordinator changes its handling code; the
    # alert is H0, so a release is refused as bad input.
    "message.handling": {
        "observer": "error:forbidden",
        "member": "message.handling.ok",
        "coordinator": "message.handling.ok",
        **NOT_MEMBER,
    },
    "message.release": {
        "observer": "error:forbidden",
        "member": "error:invalid",
        "coordinator": "error:invalid",
        **NOT_MEMBER,
    },
    "receipt.read": {
        "observer": "receipt.read.ok",
        "member": "receipt.read.ok",
        "coordinator": "receipt.read.ok",
        **NOT_MEMBER,
    },
    "receipt.ack": {
        "observer": "receipt.ack.ok",
        "member": "receipt.ack.ok",
        "coordinator": "receipt.ack.ok",
        **NOT_MEMBER,
    },
}
for table in EXPECT.values():
    table["anonymous"] = "closed:4401"


def frame_for(action: str, slug: str, seq: int) -> dict:
    if action == "sync":
        return {"type": "sync", "cursors": {slug: 0}}
    if action == "message.post":
        return {
            "type": "message.post",
            "group": slug,
            "client_id": str(uuid.uuid4()),
            "body": "hello",
        }
    if action == "message.handling":
        return {"type": action, "group": slug, "seq": seq, "handling_code": "H1"}
    return {"type": action, "group": slug, "seq": seq}


def cases():
    for action, table in EXPECT.items():
        assert set(table) == set(ROLES), action
        for role in ROLES:
            yield pytest.param(action, role, table[role], id=f"{action} as {role}")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("action", "role", "expected"), list(cases()))
async def test_websocket_authorization_matrix(action, role, expected, world, make_user):
    from asgiref.sync import sync_to_async

    @sync_to_async
    def prepare():
        other = make_user("other.coordinator", country="JP")
        from groups.services import group_create

        group_create(name="Another group", created_by=other)
        analyst = make_user("analyst", country="DE")
        analyst.user_permissions.add(*Permission.objects.filter(content_type__app_label="cen"))
        alert, _ = message_post(
            author=world.officer_fr,
            group=world.group,
            body="Watch AF401",
            client_id=uuid.uuid4(),
            kind="alert",
        )
        users = {
            "outsider": world.outsider,
            "observer": world.observer,
            "member": world.officer_fr,
            "coordinator": world.ocu,
            "other_coordinator": other,
            "staff": world.staff,
            "analyst": analyst,
        }
        key = api_token(users[role]) if role in users else "not-a-token"
        return key, alert.seq

    key, seq = await prepare()
    communicator = WebsocketCommunicator(
        application, "/ws/", headers=[(b"authorization", f"Token {key}".encode())]
    )
    connected, _subprotocol = await communicator.connect()
    assert connected
    if role == "anonymous":
        close = await communicator.receive_output(timeout=5)
        assert f"closed:{close.get('code')}" == expected
        return
    hello = await communicator.receive_json_from(timeout=5)
    assert hello["type"] == "hello"
    assert (world.group.slug in hello["groups"]) == (role in {"observer", "member", "coordinator"})
    await communicator.send_json_to(frame_for(action, world.group.slug, seq))
    while True:
        frame = await communicator.receive_json_from(timeout=5)
        if frame["type"] == "event":
            continue
        break
    answer = frame["type"] if frame["type"] != "error" else f"error:{frame['code']}"
    assert answer == expected, json.dumps(frame)
    await communicator.disconnect()
