"""Brute-force lockout on every way in: the login page, the admin, the API token."""

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def lockout_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3


def fail(client, username, times, url=None):
    for _attempt in range(times):
        client.post(url or reverse("login"), {"username": username, "password": "not-the-password"})


def test_the_login_page_locks_a_username_after_repeated_failures(client, world):
    fail(client, "officer.fr", 3)
    response = client.post(reverse("login"), {"username": "officer.fr", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert client.get(reverse("groups:my_groups")).status_code == 302


def test_the_lock_follows_the_address_too(client, world):
    fail(client, "someone", 3)
    response = client.post(reverse("login"), {"username": "officer.de", "password": PASSWORD})
    assert response.status_code == 429


def test_the_admin_login_is_locked_as_well(client, world):
    fail(client, "staff", 3, url="/admin/login/")
    response = client.post("/admin/login/", {"username": "staff", "password": PASSWORD})
    assert response.status_code == 429


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
    assert "locked for 15 minutes" in response.json()["error"]["detail"]


def test_staff_lift_a_lockout(client, world):
    fail(client, "officer.fr", 3)
    call_command("axes_reset")
    response = client.post(reverse("login"), {"username": "officer.fr", "password": PASSWORD})
    assert response.status_code == 302


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
