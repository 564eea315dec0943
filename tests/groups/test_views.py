import pytest
from django.urls import reverse

from groups.models import GroupEvent, Membership, Role
from tests.conftest import PASSWORD, sign_in

pytestmark = pytest.mark.django_db


def login(client, user):
    return sign_in(client, user)


def state(world):
    """Everything a failed management action must leave untouched."""
    return (
        sorted(
            Membership.objects.filter(group=world.group).values_list(
                "user__username", "role", "removed_at"
            )
        ),
        GroupEvent.objects.filter(group=world.group).count(),
    )


def test_anonymous_visitors_are_sent_to_login(client, world):
    response = client.get(reverse("groups:group", kwargs={"slug": world.group.slug}))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_page_logs_in_and_lands_on_my_groups(client, world):
    response = client.post(
        reverse("login"), {"username": "officer.fr", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("groups:my_groups")
    assert world.group.name in response.content.decode()


def test_wrong_password_gets_a_clear_message(client, world):
    response = client.post(reverse("login"), {"username": "officer.fr", "password": "nope"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_logout_is_a_post_and_ends_the_session(client, world):
    login(client, world.officer_fr)
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response.url == reverse("login")
    assert client.get(reverse("groups:my_groups")).status_code == 302


def test_my_groups_lists_only_the_users_groups(client, world, make_user):
    from groups.services import group_create

    other = group_create(name="Secret standing group", created_by=world.outsider)
    login(client, world.officer_fr)
    page = client.get(reverse("groups:my_groups")).content.decode()
    assert world.group.name in page
    assert other.name not in page


@pytest.mark.parametrize("name", ["group", "members", "messaging:history"])
def test_outsider_gets_404_on_every_group_page_like_a_missing_group(client, world, name):
    login(client, world.outsider)
    url_name = name if ":" in name else f"groups:{name}"
    existing = client.get(reverse(url_name, kwargs={"slug": world.group.slug}))
    missing = client.get(reverse(url_name, kwargs={"slug": "no-such-group"}))
    assert existing.status_code == missing.status_code == 404
    assert world.group.name not in existing.content.decode()


def test_member_sees_the_group_page_and_its_members(client, world):
    login(client, world.officer_fr)
    page = client.get(reverse("groups:group", kwargs={"slug": world.group.slug}))
    assert page.status_code == 200
    members = client.get(reverse("groups:members", kwargs={"slug": world.group.slug}))
    text = members.content.decode()
    assert "officer.de" in text and "observer" in text
    assert reverse("groups:member_add", kwargs={"slug": world.group.slug}) not in text


def test_coordinator_adds_and_removes_a_member_through_the_page(client, world, make_user):
    make_user("officer.nl", country="NL")
    login(client, world.ocu)
    add_url = reverse("groups:member_add", kwargs={"slug": world.group.slug})
    response = client.post(add_url, {"username": "officer.nl", "role": "member"}, follow=True)
    assert "officer.nl was added." in response.content.decode()
    assert Membership.objects.filter(
        group=world.group, user__username="officer.nl", removed_at__isnull=True
    ).exists()
    remove_url = reverse("groups:member_remove", kwargs={"slug": world.group.slug})
    response = client.post(remove_url, {"username": "officer.nl"}, follow=True)
    assert "officer.nl was removed." in response.content.decode()
    assert not Membership.objects.filter(
        group=world.group, user__username="officer.nl", removed_at__isnull=True
    ).exists()


def test_coordinator_changes_a_role_through_the_page(client, world):
    login(client, world.ocu)
    url = reverse("groups:member_role", kwargs={"slug": world.group.slug})
    client.post(url, {"username": "officer.de", "role": "observer"})
    assert (
        Membership.objects.get(
            group=world.group, user=world.officer_de, removed_at__isnull=True
        ).role
        == Role.OBSERVER
    )


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("member_add", {"username": "nobody", "role": "member"}, "There is no user called nobody"),
        ("member_add", {"username": "officer.fr", "role": "member"}, "already a member"),
        ("member_add", {"username": "officer.fr", "role": "boss"}, "Select a valid choice"),
        ("member_remove", {"username": "ocu"}, "at least one coordinator"),
        ("member_role", {"username": "ocu", "role": "member"}, "at least one coordinator"),
        ("member_remove", {"username": "outsider"}, "not a member"),
        ("member_remove", {"username": "nobody"}, "not a member"),
        ("member_role", {"username": "officer.fr", "role": "king"}, "Select a valid choice"),
    ],
)
def test_bad_input_gets_a_clear_message_and_changes_nothing(client, world, action, data, message):
    login(client, world.ocu)
    before = state(world)
    url = reverse(f"groups:{action}", kwargs={"slug": world.group.slug})
    response = client.post(url, data, follow=True)
    assert response.status_code in (200, 400)
    assert message in response.content.decode()
    assert state(world) == before


def test_forged_group_slug_is_404_and_changes_nothing(client, world):
    login(client, world.ocu)
    before = state(world)
    response = client.post(
        reverse("groups:member_add", kwargs={"slug": "not-" + world.group.slug}),
        {"username": "outsider", "role": "member"},
    )
    assert response.status_code == 404
    assert state(world) == before


@pytest.mark.parametrize("user_name", ["officer_fr", "observer"])
@pytest.mark.parametrize("action", ["member_add", "member_remove", "member_role"])
def test_members_and_observers_cannot_manage_members(client, world, user_name, action):
    login(client, getattr(world, user_name))
    before = state(world)
    url = reverse(f"groups:{action}", kwargs={"slug": world.group.slug})
    response = client.post(url, {"username": "officer.de", "role": "coordinator"})
    assert response.status_code == 403
    assert state(world) == before


@pytest.mark.parametrize("action", ["member_add", "member_remove", "member_role"])
def test_outsiders_cannot_manage_members_and_learn_nothing(client, world, action):
    login(client, world.outsider)
    before = state(world)
    url = reverse(f"groups:{action}", kwargs={"slug": world.group.slug})
    response = client.post(url, {"username": "officer.de", "role": "coordinator"})
    assert response.status_code == 404
    assert state(world) == before


def test_language_switch_remembers_the_choice_on_the_profile(client, world):
    login(client, world.officer_fr)
    response = client.post(reverse("language_set"), {"language": "fr", "next": "/groups/"})
    assert response.status_code == 302 and response.url == "/groups/"
    world.officer_fr.profile.refresh_from_db()
    assert world.officer_fr.profile.language == "fr"


def test_language_switch_refuses_an_offsite_redirect(client, world):
    response = client.post(
        reverse("language_set"), {"language": "fr", "next": "https://evil.example/"}
    )
    assert response.url == "/"


def test_profile_language_is_used_without_a_cookie(client, world):
    from groups.services import profile_ensure

    profile_ensure(user=world.officer_fr, language="fr")
    login(client, world.officer_fr)
    page = client.get(reverse("groups:my_groups"))
    assert page.headers["Content-Language"] == "fr"
