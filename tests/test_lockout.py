"""Brute-force lockout on every way in (the login page, the two-factor code, the admin, the
API token), keyed so that nobody can lock a user out of the places they log in from."""

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from groups.two_factor import current_code
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.66"
OFFICE = "198.51.100.20"


@pytest.fixture(autouse=True)
def lockout_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.LOCKOUT_ADDRESS_FAILURE_LIMIT = 6
    settings.LOCKOUT_ACCOUNT_FAILURE_LIMIT = 9


def fail(client, username, times, url=None, address="127.0.0.1", **headers):
    for _attempt in range(times):
        client.post(
            url or reverse("login"),
            {"username": username, "password": "not-the-password"},
            REMOTE_ADDR=address,
            **headers,
        )


def log_in(client, username, address="127.0.0.1", url=None):
    return client.post(
        url or reverse("login"),
        {"username": username, "password": PASSWORD},
        REMOTE_ADDR=address,
    )


def test_the_login_page_locks_a_username_at_an_address_after_repeated_failures(client, world):
    fail(client, "officer.fr", 3)
    response = log_in(client, "officer.fr")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed logins" in page
    assert "logging in to this account from your address is paused for 15 minutes" in page
    assert client.get(reverse("groups:my_groups")).status_code == 302


def test_an_attacker_elsewhere_does_not_lock_the_user_out(client, world):
    fail(client, "officer.fr", 5, address=ATTACKER)
    assert log_in(client, "officer.fr", address=OFFICE).status_code == 302


def test_the_attackers_own_pair_stays_locked_even_after_the_user_logs_in(client, world):
    fail(client, "officer.fr", 5, address=ATTACKER)
    assert log_in(client, "officer.fr", address=ATTACKER).status_code == 429
    assert log_in(client, "officer.fr", address=OFFICE).status_code == 302
    client.logout()
    assert log_in(client, "officer.fr", address=ATTACKER).status_code == 429


def test_other_users_at_the_same_address_are_not_locked_by_one_users_typos(client, world):
    fail(client, "officer.fr", 3, address=OFFICE)
    assert log_in(client, "officer.de", address=OFFICE).status_code == 302


def test_many_usernames_from_one_address_lock_that_address_only(client, world):
    for username in ["officer.fr", "observer", "staff"]:
        fail(client, username, 2, address=ATTACKER)
    response = log_in(client, "officer.de", address=ATTACKER)
    assert response.status_code == 429
    assert "Too many failed attempts from your address" in response.content.decode()
    assert log_in(client, "officer.de", address=OFFICE).status_code == 302


def test_rotating_the_forwarded_header_does_not_evade_the_lockout(client, world):
    for attempt in range(3):
        fail(
            client,
            "officer.fr",
            1,
            address=ATTACKER,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt + 1}",
        )
    response = client.post(
        reverse("login"),
        {"username": "officer.fr", "password": PASSWORD},
        REMOTE_ADDR=ATTACKER,
        HTTP_X_FORWARDED_FOR="192.0.2.99",
    )
    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}


def test_guessing_from_many_addresses_pauses_new_addresses_but_not_known_ones(client, world):
    assert log_in(client, "officer.fr", address=OFFICE).status_code == 302
    client.logout()
    for bot in range(5):
        fail(client, "officer.fr", 2, address=f"192.0.2.{bot + 1}")
    response = log_in(client, "officer.fr", address="192.0.2.200")
    assert response.status_code == 429
    assert "from an address it has not used before" in response.content.decode()
    assert log_in(client, "officer.fr", address=OFFICE).status_code == 302


def test_the_two_factor_code_step_is_locked_as_well(client, world):
    device = TOTPDevice.objects.create(user=world.ocu, name="phone", confirmed=True)
    assert log_in(client, "ocu", address=ATTACKER).url == reverse("login_verify")
    for _attempt in range(3):
        client.post(reverse("login_verify"), {"code": "000000"}, REMOTE_ADDR=ATTACKER)
    refused = client.post(
        reverse("login_verify"), {"code": current_code(device)}, REMOTE_ADDR=ATTACKER
    )
    assert refused.status_code in {302, 429}
    assert client.get(reverse("groups:my_groups"), REMOTE_ADDR=ATTACKER).status_code == 302
    assert log_in(client, "ocu", address=ATTACKER).status_code == 429

    elsewhere = type(client)()
    assert log_in(elsewhere, "ocu", address=OFFICE).url == reverse("login_verify")


def test_the_admin_login_is_locked_as_well(client, world):
    fail(client, "staff", 3, url="/admin/login/")
    assert log_in(client, "staff", url="/admin/login/").status_code == 429


def test_the_api_token_endpoint_is_locked_as_well(world):
    api = APIClient()
    for _attempt in range(2):
        assert (
            api.post(
                "/api/v1/auth/token/", {"username": "officer.fr", "password": "x"}, format="json"
            ).status_code
            == 400
        )
    third = api.post(
        "/api/v1/auth/token/", {"username": "officer.fr", "password": "x"}, format="json"
    )
    assert third.status_code == 429
    response = api.post(
        "/api/v1/auth/token/", {"username": "officer.fr", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"
    assert "paused for 15 minutes" in response.json()["error"]["detail"]

    elsewhere = APIClient(REMOTE_ADDR=OFFICE)
    response = elsewhere.post(
        "/api/v1/auth/token/", {"username": "officer.fr", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200


def test_staff_lift_a_lockout(client, world):
    fail(client, "officer.fr", 3)
    call_command("axes_reset")
    assert log_in(client, "officer.fr").status_code == 302


def test_the_token_endpoint_gives_a_token_for_good_credentials(world):
    api = APIClient()
    response = api.post(
        "/api/v1/auth/token/", {"username": "officer.fr", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/groups/").status_code == 200


def test_a_coordinator_needs_a_second_factor_for_a_token(world):
    api = APIClient()
    response = api.post(
        "/api/v1/auth/token/", {"username": "ocu", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 403
