"""Every refusal on group data is in the audit trail — who, what, when, from where — for
the pages, the REST API and the websocket; one line per request or frame, and none for
what is allowed. The outsider's answer stays that of a missing group."""

import uuid

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from rest_framework.test import APIClient

from cencomm.asgi import application
from core.models import AuditEntry
from groups.models import ClosedUserGroup
from groups.services import group_set_status
from tests.conftest import api_token, sign_in

REFUSED = AuditEntry.Action.ACCESS_REFUSED


def _refusals():
    return list(AuditEntry.objects.filter(action=REFUSED).order_by("pk"))


@pytest.mark.django_db
def test_an_outsider_on_a_group_page_is_recorded_and_answered_as_missing(world):
    client = sign_in(Client(), world.outsider)
    hidden = client.get(f"/groups/{world.group.slug}/", REMOTE_ADDR="192.0.2.44")
    missing = client.get("/groups/no-such-group/", REMOTE_ADDR="192.0.2.44")
    assert hidden.status_code == missing.status_code == 404
    first, second = _refusals()
    assert (first.actor, first.actor_name, first.group, first.target, first.ip) == (
        world.outsider,
        "outsider",
        world.group,
        world.group.slug,
        "192.0.2.44",
    )
    assert first.data == {
        "door": "page",
        "need": "view",
        "code": "not_found",
        "path": f"/groups/{world.group.slug}/",
    }
    # A group that does not exist: the name asked for, no group.
    assert (second.group, second.target, second.data["code"]) == (
        None,
        "no-such-group",
        "not_found",
    )


@pytest.mark.django_db
def test_the_address_behind_a_trusted_proxy_is_the_clients(world, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    client = sign_in(Client(), world.outsider)
    client.get(
        f"/groups/{world.group.slug}/",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    [entry] = _refusals()
    assert entry.ip == "198.51.100.7"


@pytest.mark.django_db
def test_an_observer_posting_through_the_api_is_recorded(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(world.observer)}")
    response = client.post(
        f"/api/v1/groups/{world.group.slug}/messages/",
        {"client_id": str(uuid.uuid4()), "body": "I only read"},
        format="json",
    )
    assert response.status_code == 403
    [entry] = _refusals()
    assert (entry.actor, entry.group, entry.ip) == (world.observer, world.group, "127.0.0.1")
    assert entry.data == {
        "door": "api",
        "need": "post",
        "code": "forbidden",
        "path": f"/api/v1/groups/{world.group.slug}/messages/",
    }


@pytest.mark.django_db
def test_what_is_allowed_and_what_is_only_read_only_is_not_a_refusal(world):
    client = sign_in(Client(), world.officer_fr)
    assert client.get(f"/groups/{world.group.slug}/").status_code == 200
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token(world.officer_fr)}")
    assert api.get(f"/api/v1/groups/{world.group.slug}/messages/").status_code == 200
    # A 404 that is not about access (no such page) is not recorded either.
    assert client.get("/no-such-page/").status_code == 404
    assert _refusals() == []


@pytest.mark.django_db
def test_one_line_per_request(world):
    client = sign_in(Client(), world.outsider)
    for _ in range(3):
        client.get(f"/groups/{world.group.slug}/")
    assert len(_refusals()) == 3


@pytest.mark.django_db
def test_the_refusals_are_in_the_hash_chain(world):
    from django.core.management import call_command

    sign_in(Client(), world.outsider).get(f"/groups/{world.group.slug}/")
    call_command("audit_verify")


# ---- the websocket ----------------------------------------------------------------


async def _socket(user) -> WebsocketCommunicator:
    key = await database_sync_to_async(api_token)(user)
    communicator = WebsocketCommunicator(
        application,
        "/ws/",
        headers=[(b"authorization", f"Token {key}".encode())],
    )
    # The peer the server sees (the test communicator names none).
    communicator.scope["client"] = ("192.0.2.9", 50000)
    connected, _ = await communicator.connect()
    assert connected
    hello = await communicator.receive_json_from(3)
    assert hello["type"] == "hello"
    return communicator


@pytest.mark.django_db(transaction=True)
async def test_a_refused_socket_frame_is_recorded_once(world):
    socket = await _socket(world.observer)
    try:
        await socket.send_json_to(
            {"type": "message.post", "group": world.group.slug, "client_id": str(uuid.uuid4())}
            | {"body": "I only read"}
        )
        error = await socket.receive_json_from(3)
        assert (error["type"], error["code"]) == ("error", "forbidden")
        await socket.send_json_to(
            {"type": "message.post", "group": "no-such-group", "client_id": str(uuid.uuid4())}
            | {"body": "hello?"}
        )
        error = await socket.receive_json_from(3)
        assert (error["type"], error["code"]) == ("error", "not_found")
        await socket.send_json_to({"type": "ping", "id": "x"})
        assert (await socket.receive_json_from(3))["type"] == "pong"
    finally:
        await socket.disconnect()
    first, second = await database_sync_to_async(_refusals)()
    assert (first.actor_id, first.group_id, first.target) == (
        world.observer.pk,
        world.group.pk,
        world.group.slug,
    )
    assert first.data == {"door": "socket", "need": "message.post", "code": "forbidden"}
    assert first.ip == "192.0.2.9"
    assert (second.group_id, second.target, second.data["code"]) == (
        None,
        "no-such-group",
        "not_found",
    )


@pytest.mark.django_db(transaction=True)
async def test_a_read_only_group_is_not_a_refusal_of_rights(world):
    socket = await _socket(world.officer_fr)
    try:
        await database_sync_to_async(group_set_status)(
            group=world.group, status=ClosedUserGroup.Status.READ_ONLY
        )
        await socket.send_json_to(
            {"type": "message.post", "group": world.group.slug, "client_id": str(uuid.uuid4())}
            | {"body": "too late"}
        )
        while (frame := await socket.receive_json_from(3))["type"] != "error":
            pass
        assert frame["reason"] == "read_only"
    finally:
        await socket.disconnect()
    assert await database_sync_to_async(_refusals)() == []
