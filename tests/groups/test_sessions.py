import datetime

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from groups.models import UserSession
from groups.sessions import LOGIN_AT
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def logged_in(user, agent="Test browser"):
    client = Client(HTTP_USER_AGENT=agent)
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    return client


def test_each_login_is_listed_with_its_browser(world):
    phone = logged_in(world.officer_fr, agent="Phone at the border")
    logged_in(world.officer_fr, agent="Office desktop")
    page = phone.get(reverse("account_sessions")).content.decode()
    assert "Phone at the border" in page and "Office desktop" in page
    assert UserSession.objects.filter(user=world.officer_fr, ended_at__isnull=True).count() == 2


def public_id(client):
    return UserSession.objects.get(session_key=client.session.session_key).public_id


def test_ending_another_session_logs_it_out(world):
    phone = logged_in(world.officer_fr, agent="Phone")
    desktop = logged_in(world.officer_fr, agent="Desktop")
    phone_key = phone.session.session_key
    desktop.post(reverse("account_session_end"), {"session": public_id(phone)})
    assert not Session.objects.filter(session_key=phone_key).exists()
    assert phone.get(reverse("groups:my_groups")).status_code == 302
    assert desktop.get(reverse("groups:my_groups")).status_code == 200


def test_nobody_ends_someone_elses_session(world):
    victim = logged_in(world.officer_fr)
    attacker = logged_in(world.officer_de)
    attacker.post(reverse("account_session_end"), {"session": public_id(victim)})
    assert victim.get(reverse("groups:my_groups")).status_code == 200


def test_the_sessions_page_never_shows_a_session_key(world):
    phone = logged_in(world.officer_fr, agent="Phone")
    desktop = logged_in(world.officer_fr, agent="Desktop")
    page = desktop.get(reverse("account_sessions")).content.decode()
    assert phone.session.session_key not in page
    assert desktop.session.session_key not in page
    assert str(public_id(phone)) in page


def test_a_public_id_does_not_log_anyone_in(world):
    phone = logged_in(world.officer_fr, agent="Phone")
    thief = Client()
    thief.cookies["sessionid"] = str(public_id(phone))
    assert thief.get(reverse("groups:my_groups")).status_code == 302


def test_a_session_key_does_not_name_a_session_to_end(world):
    phone = logged_in(world.officer_fr, agent="Phone")
    desktop = logged_in(world.officer_fr, agent="Desktop")
    desktop.post(reverse("account_session_end"), {"session": phone.session.session_key})
    assert phone.get(reverse("groups:my_groups")).status_code == 200


def test_the_admin_never_shows_a_session_key(world):
    from tests.conftest import sign_in

    phone = logged_in(world.officer_fr, agent="Phone")
    admin = sign_in(Client(), world.staff)
    world.staff.is_superuser = True
    world.staff.save()
    record = UserSession.objects.get(session_key=phone.session.session_key)
    for url in (
        reverse("admin:groups_usersession_changelist"),
        reverse("admin:groups_usersession_change", args=[record.pk]),
    ):
        response = admin.get(url)
        assert response.status_code == 200
        assert phone.session.session_key not in response.content.decode()


def test_the_absolute_lifetime_ends_even_an_active_session(world, settings):
    client = logged_in(world.officer_fr)
    session = client.session
    session[LOGIN_AT] = (
        datetime.datetime.now() - datetime.timedelta(seconds=settings.SESSION_ABSOLUTE_SECONDS + 5)
    ).timestamp()
    session.save()
    response = client.get(reverse("groups:my_groups"))
    assert response.status_code == 302 and response.url == reverse("login")
    assert client.get(reverse("groups:my_groups")).status_code == 302


def test_the_idle_timeout_is_renewed_by_activity(world, settings):
    client = logged_in(world.officer_fr)
    key = client.session.session_key
    Session.objects.filter(pk=key).update(
        expire_date=datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=30)
    )
    client.get(reverse("groups:my_groups"))
    expiry = Session.objects.get(pk=key).expire_date
    assert expiry > datetime.datetime.now(datetime.UTC) + datetime.timedelta(
        seconds=settings.SESSION_COOKIE_AGE - 60
    )
