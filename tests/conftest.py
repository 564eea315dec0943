import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation

from core.vocabularies import CommodityCategory
from groups.models import Administration, Region, Role
from groups.services import membership_add, profile_ensure
from operations.services import operation_create

User = get_user_model()
PASSWORD = "correct horse battery staple"


@pytest.fixture
def make_user(db):
    def make(username: str, *, country: str = "FR", **fields):
        administration, _created = Administration.objects.get_or_create(
            country=country, defaults={"name": f"Customs {country}", "region": Region.EUROPE}
        )
        user = User.objects.create_user(username=username, password=PASSWORD, **fields)
        profile_ensure(user=user, administration=administration)
        return user

    return make


class World:
    """One operation with its group: a coordinator, two members, an observer, an outsider."""

    def __init__(self, make_user):
        self.ocu = make_user("ocu", country="BE")
        self.officer_fr = make_user("officer.fr", country="FR")
        self.officer_de = make_user("officer.de", country="DE")
        self.observer = make_user("observer", country="ES")
        self.outsider = make_user("outsider", country="MA")
        self.staff = make_user("staff", country="BE", is_staff=True)
        today = datetime.date.today()
        self.operation = operation_create(
            code="TEST-2026",
            name="Test operation",
            commodity_focus=CommodityCategory.DRUGS,
            coordinating_administration=Administration.objects.get(country="BE"),
            planned_start=today - datetime.timedelta(days=5),
            planned_end=today + datetime.timedelta(days=20),
            created_by=self.ocu,
        )
        self.group = self.operation.group
        membership_add(group=self.group, user=self.officer_fr, role=Role.MEMBER, added_by=self.ocu)
        membership_add(group=self.group, user=self.officer_de, role=Role.MEMBER, added_by=self.ocu)
        membership_add(group=self.group, user=self.observer, role=Role.OBSERVER, added_by=self.ocu)
        self.group.refresh_from_db()


@pytest.fixture
def world(make_user):
    return World(make_user)


def api_token(user) -> str:
    """The user's API token, issued as the token endpoint would: with the second factor
    that the user's role requires."""
    from groups.two_factor import token_issue, two_factor_required

    return token_issue(user=user, second_factor=two_factor_required(user)).key


def sign_in(client, user):
    """Log in like the login page does, second factor included for roles that need one."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from groups.two_factor import totp_device, two_factor_required

    assert client.login(username=user.username, password=PASSWORD)
    if two_factor_required(user):
        device = totp_device(user) or TOTPDevice.objects.create(
            user=user, name="test", confirmed=True
        )
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@pytest.fixture(autouse=True)
def default_language_after_each_test():
    """A request in a test can leave its language active in the thread: reset it, so
    that the next test's messages are not judged in French by accident."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def fresh_channel_layer_after_each_test():
    """Each test gets its own channel-layer instance. The Redis layer keeps a lock per
    channel prefix, bound to the event loop that first used it; a socket left waiting
    in one test's loop must not leave the next test's loop a lock it cannot take."""
    yield
    from channels.layers import channel_layers

    channel_layers.backends.clear()


@pytest.fixture
def captured_events(monkeypatch) -> list[tuple[str | None, dict]]:
    """Everything services hand to the real-time transport after their commits, in
    order: ``(channel group, message)``, ``None`` for a group event (its ``group_id``,
    ``seq`` and frame ``text``). Captured where events leave the transaction
    (core.publisher), so "exactly these" and "none" are exact; nothing reaches Redis.
    The fan-out and scale-out tests keep Redis in the path."""
    from core.publisher import publisher

    sent: list[tuple[str | None, dict]] = []

    def capture(channel_group, messages):
        sent.extend((channel_group, dict(message)) for message in messages)

    monkeypatch.setattr(publisher, "submit_many", capture)
    return sent
