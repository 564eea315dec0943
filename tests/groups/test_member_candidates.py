"""Finding people to add: the selector, the members page's search and "add all officers
of an administration", and the REST endpoint."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import AuditEntry
from groups.models import GroupEvent, Membership, Role
from groups.selectors import member_candidates
from groups.services import membership_add, membership_remove
from tests.conftest import api_token, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(world, make_user):
    """Officers outside the group: two Dutch, one of them deactivated, and a German."""
    return {
        "anna": make_user("anna.devries", country="NL", first_name="Anna", last_name="de Vries"),
        "jan": make_user("jan.bakker", country="NL", first_name="Jan", last_name="Bakker"),
        "gone": make_user("piet.gone", country="NL", first_name="Piet", is_active=False),
        "hans": make_user("hans.muller", country="DE", first_name="Hans", last_name="Müller"),
    }


def usernames(users) -> list[str]:
    return [user.username for user in users]


def test_candidates_are_found_by_name_whatever_the_case(world, people):
    assert usernames(member_candidates(world.group, "ANNA")) == ["anna.devries"]
    assert usernames(member_candidates(world.group, "vries")) == ["anna.devries"]
    assert usernames(member_candidates(world.group, "Jan.Bak")) == ["jan.bakker"]
    assert usernames(member_candidates(world.group, "anna vries")) == ["anna.devries"]
    assert member_candidates(world.group, "   ") == []


def test_candidates_are_found_by_administration_name_or_country_code(world, people):
    assert usernames(member_candidates(world.group, "customs nl")) == [
        "jan.bakker",
        "anna.devries",
    ]
    # "DE": Germany's code, and part of "de Vries".
    assert {"hans.muller", "anna.devries"} <= set(usernames(member_candidates(world.group, "DE")))


def test_candidates_leave_out_members_and_deactivated_accounts(world, people):
    found = usernames(member_candidates(world.group, "customs"))
    assert "piet.gone" not in found
    assert not {"ocu", "officer.fr", "officer.de", "observer"} & set(found)
    assert "outsider" in found
    # A member who was removed may be added again.
    membership_remove(group=world.group, user=world.officer_de, removed_by=world.ocu)
    assert "officer.de" in usernames(member_candidates(world.group, "officer"))


def test_an_exact_username_comes_first_and_the_limit_holds(world, people, make_user):
    make_user("jan", country="BE")
    found = usernames(member_candidates(world.group, "jan"))
    assert found[0] == "jan"
    assert len(member_candidates(world.group, "customs", limit=2)) == 2


def members_url(world) -> str:
    return reverse("groups:members", kwargs={"slug": world.group.slug})


def test_the_coordinator_searches_and_adds_a_result_with_a_role(client, world, people):
    sign_in(client, world.ocu)
    page = client.get(members_url(world), {"q": "BAKKER"}).content.decode()
    assert "@jan.bakker" in page and "@anna.devries" not in page
    assert 'for="member-search"' in page and 'role="search"' in page
    response = client.post(
        reverse("groups:member_add", kwargs={"slug": world.group.slug}),
        {"username": "jan.bakker", "role": Role.OBSERVER, "q": "BAKKER"},
    )
    assert response.status_code == 302 and response.url == members_url(world) + "?q=BAKKER"
    assert Membership.objects.get(group=world.group, user=people["jan"]).role == Role.OBSERVER
    page = client.get(response.url).content.decode()
    assert "jan.bakker was added." in page


def test_members_do_not_see_the_search_or_its_results(client, world, people):
    sign_in(client, world.officer_fr)
    page = client.get(members_url(world), {"q": "bakker"}).content.decode()
    assert "jan.bakker" not in page and "member-search" not in page
    assert reverse("groups:member_add_all", kwargs={"slug": world.group.slug}) not in page


def test_the_coordinator_adds_every_active_officer_of_an_administration(client, world, people):
    sign_in(client, world.ocu)
    page = client.get(members_url(world)).content.decode()
    assert "Customs NL — 2 officers not yet members" in page
    events = GroupEvent.objects.filter(group=world.group).count()
    audit = AuditEntry.objects.count()
    response = client.post(
        reverse("groups:member_add_all", kwargs={"slug": world.group.slug}),
        {"administration": "NL", "role": Role.MEMBER},
        follow=True,
    )
    assert "2 officers of Customs NL were added." in response.content.decode()
    added = Membership.objects.filter(group=world.group, removed_at__isnull=True)
    assert {"anna.devries", "jan.bakker"} <= set(added.values_list("user__username", flat=True))
    assert not added.filter(user=people["gone"]).exists()
    assert GroupEvent.objects.filter(group=world.group).count() == events + 2
    assert AuditEntry.objects.count() == audit + 2
    again = client.post(
        reverse("groups:member_add_all", kwargs={"slug": world.group.slug}),
        {"administration": "NL", "role": Role.MEMBER},
        follow=True,
    )
    assert "Every active officer of Customs NL is already a member." in again.content.decode()


def test_adding_all_keeps_existing_members_roles(client, world, people):
    membership_add(group=world.group, user=people["anna"], role=Role.OBSERVER, added_by=world.ocu)
    sign_in(client, world.ocu)
    client.post(
        reverse("groups:member_add_all", kwargs={"slug": world.group.slug}),
        {"administration": "NL", "role": Role.MEMBER},
    )
    assert Membership.objects.get(group=world.group, user=people["anna"]).role == Role.OBSERVER
    assert Membership.objects.get(group=world.group, user=people["jan"]).role == Role.MEMBER


def test_adding_all_of_an_unknown_administration_is_refused(client, world, people):
    sign_in(client, world.ocu)
    response = client.post(
        reverse("groups:member_add_all", kwargs={"slug": world.group.slug}),
        {"administration": "ZZ", "role": Role.MEMBER},
    )
    assert response.status_code == 400
    assert "Choose an administration." in response.content.decode()


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return client


def candidates_url(world) -> str:
    return reverse("api-member-candidates", kwargs={"slug": world.group.slug})


def test_the_api_lists_candidates_to_coordinators(world, people):
    response = api(world.ocu).get(candidates_url(world), {"q": "nl"})
    assert response.status_code == 200
    assert response.json() == [
        {
            "username": "jan.bakker",
            "name": "Jan Bakker",
            "administration": "Customs NL",
            "country": "NL",
        },
        {
            "username": "anna.devries",
            "name": "Anna de Vries",
            "administration": "Customs NL",
            "country": "NL",
        },
    ]
    assert api(world.ocu).get(candidates_url(world)).json() == []


def test_the_api_refuses_members_and_hides_the_group_from_outsiders(world, people):
    member = api(world.officer_fr).get(candidates_url(world), {"q": "nl"})
    assert member.status_code == 403
    assert member.json()["error"]["code"] == "permission_denied"
    outsider = api(world.outsider).get(candidates_url(world), {"q": "nl"})
    assert outsider.status_code == 404
    assert outsider.json()["error"]["code"] == "not_found"
