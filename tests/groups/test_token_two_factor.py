"""The two-factor rule holds for every credential when it is used, not when it was made."""

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from groups.models import Role
from groups.services import membership_change_role
from tests.conftest import PASSWORD
from tests.groups.test_two_factor import code_for, enrol

pytestmark = pytest.mark.django_db


def token_from_api(user, code: str = "") -> str:
    payload = {"username": user.username, "password": PASSWORD}
    if code:
        payload["code"] = code
    response = APIClient().post("/api/v1/auth/token/", payload, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


def as_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def promote(world, user):
    membership_change_role(
        group=world.group, user=user, role=Role.COORDINATOR, changed_by=world.ocu
    )


def test_a_token_made_before_a_promotion_stops_working(world, make_user):
    key = token_from_api(world.officer_fr)
    member_list = f"/api/v1/groups/{world.group.slug}/members/"
    assert as_token(key).get(member_list).status_code == 200
    promote(world, world.officer_fr)
    newcomer = make_user("officer.it", country="IT")
    for response in (
        as_token(key).get(member_list),
        as_token(key).post(
            member_list, {"username": newcomer.username, "role": "member"}, format="json"
        ),
        as_token(key).get("/api/v1/groups/"),
    ):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "two_factor_required"
    assert not world.group.memberships.filter(user=newcomer).exists()


def test_an_operator_made_token_of_a_coordinator_is_refused(world):
    key = Token.objects.create(user=world.ocu).key
    response = as_token(key).get("/api/v1/groups/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "two_factor_required"


def test_after_enrolment_a_token_issued_with_the_code_works_and_replaces_the_old(world):
    old_key = token_from_api(world.officer_fr)
    promote(world, world.officer_fr)
    # Without a second factor, no token at all.
    response = APIClient().post(
        "/api/v1/auth/token/",
        {"username": "officer.fr", "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 403
    enrol(world.officer_fr)
    device = world.officer_fr.totpdevice_set.get(confirmed=True)
    new_key = token_from_api(world.officer_fr, code=code_for(device, offset=1))
    assert new_key != old_key
    assert not Token.objects.filter(key=old_key).exists()
    assert as_token(new_key).get("/api/v1/groups/").status_code == 200


def test_a_member_token_keeps_working_for_a_member(world):
    key = token_from_api(world.officer_de)
    assert as_token(key).get("/api/v1/groups/").status_code == 200


def test_a_promoted_user_is_told_at_the_next_page(world):
    client = Client()
    assert client.login(username="officer.fr", password=PASSWORD)
    assert client.get(reverse("groups:my_groups")).status_code == 200
    promote(world, world.officer_fr)
    response = client.get(reverse("groups:my_groups"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("account_two_factor")
    assert "Your role requires two-factor login: set it up to continue." in (
        response.content.decode()
    )


@pytest.mark.django_db(transaction=True)
async def test_an_open_token_socket_is_closed_when_its_user_is_promoted(world):
    from channels.testing import WebsocketCommunicator

    from cencomm.asgi import application

    key = await database_sync_to_async(token_from_api)(world.officer_fr)
    communicator = WebsocketCommunicator(
        application, "/ws/", headers=[(b"authorization", f"Token {key}".encode())]
    )
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from(timeout=3))["type"] == "hello"
    await database_sync_to_async(promote)(world, world.officer_fr)
    frames = []
    while True:
        message = await communicator.receive_output(timeout=3)
        if message["type"] == "websocket.close":
            assert message["code"] == 4401
            break
        frames.append(message)
    await communicator.wait(timeout=3)
    # A new socket with the same token is refused outright.
    again = WebsocketCommunicator(
        application, "/ws/", headers=[(b"authorization", f"Token {key}".encode())]
    )
    connected, code = await again.connect()
    if connected:
        closing = await again.receive_output(timeout=3)
        assert closing == {"type": "websocket.close", "code": 4401}
    else:
        assert code == 4401
    await again.wait()


@pytest.mark.django_db(transaction=True)
async def test_an_unverified_session_socket_is_closed_when_its_user_is_promoted(world, settings):
    from channels.testing import WebsocketCommunicator

    from cencomm.asgi import application

    client = Client()
    assert await database_sync_to_async(client.login)(username="officer.fr", password=PASSWORD)
    origin = settings.WEBSOCKET_ALLOWED_ORIGINS[0].encode()
    communicator = WebsocketCommunicator(
        application,
        "/ws/",
        headers=[
            (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()),
            (b"origin", origin),
        ],
    )
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from(timeout=3))["type"] == "hello"
    await database_sync_to_async(promote)(world, world.officer_fr)
    while True:
        message = await communicator.receive_output(timeout=3)
        if message["type"] == "websocket.close":
            assert message["code"] == 4401
            break
    await communicator.wait(timeout=3)


def test_the_admin_never_shows_a_token_key(client, world):
    from tests.conftest import sign_in

    key = token_from_api(world.officer_fr)
    world.staff.is_superuser = True
    world.staff.save()
    sign_in(client, world.staff)
    for url in (
        reverse("admin:groups_apitoken_changelist"),
        reverse("admin:groups_apitoken_change", args=[world.officer_fr.pk]),
        reverse("admin:groups_apitoken_delete", args=[world.officer_fr.pk]),
        reverse("admin:groups_tokenissue_changelist"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert key not in response.content.decode()
