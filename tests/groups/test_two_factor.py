import re

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from groups.two_factor import enrolment_confirm, enrolment_start
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def code_for(device: TOTPDevice, *, offset: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def enrol(user) -> list[str]:
    device = enrolment_start(user=user)
    return enrolment_confirm(user=user, token=code_for(device))


def password_step(client, user, next_url=""):
    return client.post(
        reverse("login"), {"username": user.username, "password": PASSWORD, "next": next_url}
    )


def test_a_coordinator_without_a_second_factor_must_set_one_up(client, world):
    password_step(client, world.ocu)
    response = client.get(reverse("groups:my_groups"))
    assert response.status_code == 302 and response.url == reverse("account_two_factor")
    api = client.get("/api/v1/groups/")
    assert api.status_code == 403 and api.json()["error"]["code"] == "two_factor_required"
    assert client.get("/admin/").status_code == 302


def test_members_are_not_forced(client, world):
    password_step(client, world.officer_fr)
    assert client.get(reverse("groups:my_groups")).status_code == 200


def test_everyone_is_forced_when_the_setting_says_so(client, world, settings):
    settings.TWO_FACTOR_REQUIRED_FOR_ALL = True
    password_step(client, world.officer_fr)
    assert client.get(reverse("groups:my_groups")).url == reverse("account_two_factor")


def test_enrolment_shows_a_key_and_confirms_with_a_code(client, world):
    password_step(client, world.ocu)
    page = client.get(reverse("account_two_factor")).content.decode()
    assert "<svg" in page and re.search(r'class="secret">[A-Z2-7 ]{20,}<', page)
    device = TOTPDevice.objects.get(user=world.ocu, confirmed=False)
    done = client.post(
        reverse("account_two_factor"), {"action": "confirm", "code": code_for(device)}, follow=True
    )
    text = done.content.decode()
    assert "Two-factor login is on." in text
    assert len(re.findall(r"<li><code>[a-z0-9]+</code></li>", text)) == 10
    # The session that enrolled is verified: the coordinator can work.
    assert client.get(reverse("groups:my_groups")).status_code == 200
    # The codes are shown once.
    assert "<code>" not in client.get(reverse("account_two_factor")).content.decode()


def test_a_wrong_code_at_enrolment_is_refused(client, world):
    password_step(client, world.ocu)
    client.get(reverse("account_two_factor"))
    wrong = client.post(
        reverse("account_two_factor"), {"action": "confirm", "code": "000000"}, follow=True
    )
    assert "not right" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=world.ocu, confirmed=True).exists()


def test_a_wrong_code_at_login_is_refused(client, world):
    enrol(world.ocu)
    password_step(client, world.ocu)
    bad = client.post(reverse("login_verify"), {"code": "123456"})
    assert bad.status_code == 400 and "not right" in bad.content.decode()
    assert client.get(reverse("groups:my_groups")).status_code == 302


def test_login_asks_for_the_code_and_accepts_a_good_one(client, world):
    enrol(world.ocu)
    response = password_step(client, world.ocu, next_url="/operations/")
    assert response.url == reverse("login_verify")
    assert client.get(reverse("groups:my_groups")).status_code == 302  # not logged in yet
    device = TOTPDevice.objects.get(user=world.ocu, confirmed=True)
    # The enrolment used this time step's code; a code is never accepted twice.
    good = client.post(reverse("login_verify"), {"code": code_for(device, offset=1)})
    assert good.status_code == 302 and good.url == "/operations/"
    assert client.get(reverse("groups:my_groups")).status_code == 200


def test_a_recovery_code_works_once(client, world):
    codes = enrol(world.ocu)
    password_step(client, world.ocu)
    assert client.post(reverse("login_verify"), {"code": codes[0]}).status_code == 302
    client.post(reverse("logout"))
    password_step(client, world.ocu)
    assert client.post(reverse("login_verify"), {"code": codes[0]}).status_code == 400


def test_coordinators_cannot_switch_it_off_but_members_can(client, world):
    from tests.conftest import sign_in

    enrol(world.officer_fr)
    sign_in(client, world.officer_fr)
    client.post(reverse("account_two_factor_disable"))
    assert not TOTPDevice.objects.filter(user=world.officer_fr).exists()
    enrol(world.ocu)
    sign_in(client, world.ocu)
    client.post(reverse("account_two_factor_disable"))
    assert TOTPDevice.objects.filter(user=world.ocu, confirmed=True).exists()


def test_the_code_step_expires(client, world, monkeypatch):
    import time as time_module

    enrol(world.ocu)
    password_step(client, world.ocu)
    later = time_module.time() + 600
    monkeypatch.setattr("groups.account_views.time.time", lambda: later)
    response = client.post(reverse("login_verify"), {"code": "123456"})
    assert response.status_code == 302 and response.url == reverse("login")
