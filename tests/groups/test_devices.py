"""Sessions that staff and users can end: staff end anyone's sessions from the admin, a
deactivated account loses every session and socket, an installed app is listed as
one, and a device ended from elsewhere is told to wipe its copies when it comes back."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from cencomm.asgi import application
from core.errors import Forbidden
from core.models import AuditEntry
from groups.middleware import DEVICE_ENDED_COOKIE
from groups.models import UserSession
from groups.sessions import account_deactivate, session_end
from tests.conftest import PASSWORD, api_token, sign_in

ORIGIN = b"http://testserver"


def logged_in(user, agent="Test browser") -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    return client


def record_of(client) -> UserSession:
    return UserSession.objects.get(session_key=client.session.session_key)


def forgets(response) -> bool:
    return 'data-forget="true"' in response.content.decode()


@pytest.mark.django_db
def test_staff_end_anyones_session_from_the_admin(world):
    phone = logged_in(world.officer_fr, agent="Phone")
    desktop = logged_in(world.officer_fr, agent="Desktop")
    admin = sign_in(Client(), world.staff)
    world.staff.is_superuser = True
    world.staff.save()
    response = admin.post(
        reverse("admin:groups_usersession_changelist"),
        {"action": "end_sessions", "_selected_action": [record_of(phone).pk]},
        follow=True,
    )
    assert "Sessions ended: 1." in response.content.decode()
    ended = UserSession.objects.get(user_agent="Phone")
    assert ended.ended_at is not None and ended.ended_elsewhere
    assert not Session.objects.filter(session_key=ended.session_key).exists()
    # Its next request is logged out; the other session is untouched.
    assert phone.get(reverse("groups:my_groups")).status_code == 302
    assert desktop.get(reverse("groups:my_groups")).status_code == 200
    entry = AuditEntry.objects.filter(action="session_ended").latest("pk")
    assert (entry.actor, entry.target, entry.data["session"]) == (
        world.staff,
        "officer.fr",
        str(ended.public_id),
    )


@pytest.mark.django_db
def test_only_staff_end_another_users_session(world):
    phone = logged_in(world.officer_fr)
    with pytest.raises(Forbidden):
        session_end(user=world.officer_fr, public_id=record_of(phone).public_id, by=world.ocu)
    assert record_of(phone).ended_at is None


@pytest.mark.django_db
def test_an_ended_device_is_told_to_wipe_its_copies_and_an_expired_one_is_not(world):
    phone = logged_in(world.officer_fr, agent="Phone")
    desktop = logged_in(world.officer_fr, agent="Desktop")
    session_end(user=world.officer_fr, public_id=record_of(phone).public_id)
    # The page asks (device.js): ended; the next page it is sent to wipes the device.
    status = phone.get(reverse("account_device"))
    assert status.json() == {"ended": True, "login": reverse("login")}
    assert phone.cookies[DEVICE_ENDED_COOKIE].value == "1"
    login_page = phone.get(reverse("login"))
    assert forgets(login_page)
    assert phone.cookies[DEVICE_ENDED_COOKIE].value == ""  # said once
    assert not forgets(phone.get(reverse("login")))
    # A session that merely ended (logged out here) wipes nothing more than logout does.
    desktop.post(reverse("logout"))
    assert desktop.get(reverse("account_device")).json() == {"ended": False, "login": None}


@pytest.mark.django_db
def test_an_ended_device_redirected_from_a_page_wipes_on_the_login_page(world):
    phone = logged_in(world.officer_fr, agent="Phone")
    session_end(user=world.officer_fr, public_id=record_of(phone).public_id)
    response = phone.get(reverse("groups:my_groups"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("login"))
    assert forgets(response)


@pytest.mark.django_db
def test_a_signed_in_device_is_never_told_to_wipe(world):
    phone = logged_in(world.officer_fr)
    phone.cookies[DEVICE_ENDED_COOKIE] = "1"
    assert not forgets(phone.get(reverse("groups:my_groups")))
    assert phone.get(reverse("account_device")).json()["ended"] is False


@pytest.mark.django_db
def test_an_installed_app_is_listed_as_one(world):
    phone = logged_in(world.officer_fr, agent="Phone")
    assert "Installed app" not in phone.get(reverse("account_sessions")).content.decode()
    assert phone.post(reverse("account_device_installed")).status_code == 204
    first = record_of(phone).installed_at
    assert first is not None
    phone.post(reverse("account_device_installed"))
    assert record_of(phone).installed_at == first
    assert "Installed app" in phone.get(reverse("account_sessions")).content.decode()


@pytest.mark.django_db
def test_deactivating_an_account_ends_its_sessions_and_is_audited(world):
    phone = logged_in(world.officer_fr, agent="Phone")
    desktop = logged_in(world.officer_fr, agent="Desktop")
    account_deactivate(user=world.officer_fr, by=world.staff)
    assert not UserSession.objects.filter(user=world.officer_fr, ended_at__isnull=True).exists()
    assert not Session.objects.filter(
        session_key__in=[phone.session.session_key, desktop.session.session_key]
    ).exists()
    assert forgets(phone.get(reverse("groups:my_groups"), follow=True))
    entry = AuditEntry.objects.get(action="account_deactivated")
    assert (entry.actor, entry.target, entry.data) == (world.staff, "officer.fr", {"sessions": 2})
    # Saving the inactive account again is not a second deactivation.
    world.officer_fr.save()
    assert AuditEntry.objects.filter(action="account_deactivated").count() == 1
    with pytest.raises(Forbidden):
        account_deactivate(user=world.officer_de, by=world.ocu)


@pytest.mark.django_db
def test_the_admins_active_box_deactivates_the_same_way(world):
    logged_in(world.officer_fr)
    world.officer_fr.is_active = False
    world.officer_fr.save()
    assert not UserSession.objects.filter(user=world.officer_fr, ended_at__isnull=True).exists()
    assert AuditEntry.objects.filter(action="account_deactivated", target="officer.fr").exists()


# ---- sockets close at once ----------------------------------------------------------


async def _socket(headers) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from(3))["type"] == "hello"
    return communicator


async def _closed_with(communicator) -> int:
    while True:
        output = await communicator.receive_output(3)
        if output["type"] == "websocket.close":
            return output["code"]


@pytest.mark.django_db(transaction=True)
async def test_staff_ending_a_session_closes_its_socket_at_once(world):
    phone = await database_sync_to_async(logged_in)(world.officer_fr)
    cookie = f"sessionid={phone.cookies['sessionid'].value}".encode()
    socket = await _socket([(b"cookie", cookie), (b"origin", ORIGIN)])

    def end():
        return session_end(
            user=world.officer_fr, public_id=record_of(phone).public_id, by=world.staff
        )

    assert await database_sync_to_async(end)()
    assert await _closed_with(socket) == 4401


@pytest.mark.django_db(transaction=True)
async def test_deactivation_closes_session_and_token_sockets_everywhere(world):
    phone = await database_sync_to_async(logged_in)(world.officer_fr)
    cookie = f"sessionid={phone.cookies['sessionid'].value}".encode()
    by_session = await _socket([(b"cookie", cookie), (b"origin", ORIGIN)])
    key = await database_sync_to_async(api_token)(world.officer_fr)
    by_token = await _socket([(b"authorization", f"Token {key}".encode())])
    await database_sync_to_async(account_deactivate)(user=world.officer_fr, by=world.staff)
    assert await _closed_with(by_session) == 4401
    assert await _closed_with(by_token) == 4401
