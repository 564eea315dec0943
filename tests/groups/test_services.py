import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from guardian.shortcuts import get_perms

from groups.models import GroupEvent, Membership, Role
from groups.services import (
    group_create,
    membership_add,
    membership_change_role,
    membership_remove,
)

pytestmark = pytest.mark.django_db


def test_group_create_makes_creator_coordinator_with_permissions(make_user):
    creator = make_user("creator")
    group = group_create(name="Thunder 2026", created_by=creator)
    assert group.slug == "thunder-2026"
    membership = Membership.objects.get(group=group, user=creator)
    assert membership.role == Role.COORDINATOR
    assert set(get_perms(creator, group)) == {
        "view_closedusergroup",
        "post_to_group",
        "manage_members",
    }


def test_group_create_refuses_a_taken_code(make_user):
    creator = make_user("creator")
    group_create(name="Thunder", created_by=creator)
    with pytest.raises(ValidationError) as error:
        group_create(name="Other", slug="thunder", created_by=creator)
    assert "slug" in error.value.message_dict


def test_membership_add_assigns_role_permissions_and_appends_event(world, make_user):
    newcomer = make_user("officer.nl", country="NL")
    before = world.group.last_seq
    membership_add(group=world.group, user=newcomer, role=Role.OBSERVER, added_by=world.ocu)
    assert get_perms(newcomer, world.group) == ["view_closedusergroup"]
    event = GroupEvent.objects.get(group=world.group, seq=before + 1)
    assert event.type == "member.added"
    assert event.data == {"user": "officer.nl", "role": "observer"}


def test_membership_add_refuses_a_duplicate_and_changes_nothing(world):
    before = (Membership.objects.count(), world.group.events.count())
    with pytest.raises(ValidationError):
        membership_add(
            group=world.group, user=world.officer_fr, role=Role.MEMBER, added_by=world.ocu
        )
    assert (Membership.objects.count(), world.group.events.count()) == before


@pytest.mark.parametrize("actor_name", ["officer_fr", "observer", "outsider"])
def test_only_coordinators_add_members(world, make_user, actor_name):
    newcomer = make_user("newcomer")
    with pytest.raises(PermissionDenied):
        membership_add(
            group=world.group, user=newcomer, role=Role.MEMBER, added_by=getattr(world, actor_name)
        )
    assert not Membership.objects.filter(user=newcomer).exists()


def test_staff_may_manage_a_group_they_are_not_in(world, make_user):
    newcomer = make_user("newcomer")
    membership_add(group=world.group, user=newcomer, role=Role.MEMBER, added_by=world.staff)
    assert Membership.objects.filter(user=newcomer, removed_at__isnull=True).exists()


def test_membership_add_refuses_a_deactivated_account(world, make_user):
    sleeper = make_user("sleeper", is_active=False)
    with pytest.raises(ValidationError):
        membership_add(group=world.group, user=sleeper, role=Role.MEMBER, added_by=world.ocu)


def test_change_role_keeps_permissions_in_step(world):
    membership_change_role(
        group=world.group, user=world.officer_fr, role=Role.OBSERVER, changed_by=world.ocu
    )
    assert get_perms(world.officer_fr, world.group) == ["view_closedusergroup"]
    membership_change_role(
        group=world.group, user=world.officer_fr, role=Role.COORDINATOR, changed_by=world.ocu
    )
    assert "manage_members" in get_perms(world.officer_fr, world.group)


def test_the_last_coordinator_cannot_be_demoted_or_removed(world):
    with pytest.raises(ValidationError):
        membership_change_role(
            group=world.group, user=world.ocu, role=Role.MEMBER, changed_by=world.ocu
        )
    with pytest.raises(ValidationError):
        membership_remove(group=world.group, user=world.ocu, removed_by=world.ocu)
    assert Membership.objects.get(group=world.group, user=world.ocu).role == Role.COORDINATOR


def test_a_second_coordinator_lets_the_first_step_down(world):
    membership_change_role(
        group=world.group, user=world.officer_de, role=Role.COORDINATOR, changed_by=world.ocu
    )
    membership_remove(group=world.group, user=world.ocu, removed_by=world.ocu)
    assert not Membership.objects.filter(
        group=world.group, user=world.ocu, removed_at__isnull=True
    ).exists()


def test_membership_remove_keeps_the_record_and_drops_permissions(world):
    membership_remove(group=world.group, user=world.officer_fr, removed_by=world.ocu)
    membership = Membership.objects.get(group=world.group, user=world.officer_fr)
    assert membership.removed_at is not None
    assert membership.removed_by == world.ocu
    assert get_perms(world.officer_fr, world.group) == []
    assert world.group.events.order_by("-seq").first().type == "member.removed"


def test_a_removed_member_can_be_added_again(world):
    membership_remove(group=world.group, user=world.officer_fr, removed_by=world.ocu)
    membership_add(group=world.group, user=world.officer_fr, role=Role.MEMBER, added_by=world.ocu)
    assert Membership.objects.filter(group=world.group, user=world.officer_fr).count() == 2


def test_event_seqs_start_at_one_and_have_no_gaps(world):
    seqs = list(world.group.events.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    world.group.refresh_from_db()
    assert world.group.last_seq == seqs[-1]
