"""One access rule, read from django-guardian (groups/access.py): what staff grant in the
admin every door honours, and a permission taken away in the database denies at once."""

import uuid

import pytest
from channels.db import database_sync_to_async
from django.db import connection, transaction
from guardian.shortcuts import assign_perm
from rest_framework.test import APIClient

from groups.models import ClosedUserGroupUserObjectPermission, Membership, Role
from groups.roles import ALL_GROUP_PERMISSIONS, ROLE_PERMISSIONS, VIEW
from groups.services import membership_add, membership_remove
from messaging.models import Message
from tests.conftest import api_token, sign_in
from tests.messaging.test_consumer import (  # noqa: F401  (the fixture)
    connect,
    fresh_rate_limits,
    marker,
    post_quietly,
)


def held(user, group) -> set[str]:
    return set(
        ClosedUserGroupUserObjectPermission.objects.filter(
            user=user, content_object=group
        ).values_list("permission__codename", flat=True)
    )


@pytest.mark.django_db
def test_membership_changes_keep_the_permissions_in_step_in_their_transaction(world):
    assert held(world.officer_fr, world.group) == ROLE_PERMISSIONS[Role.MEMBER]
    assert held(world.observer, world.group) == ROLE_PERMISSIONS[Role.OBSERVER]
    with pytest.raises(RuntimeError), transaction.atomic():
        membership_add(group=world.group, user=world.outsider, role=Role.MEMBER, added_by=world.ocu)
        assert held(world.outsider, world.group) == ROLE_PERMISSIONS[Role.MEMBER]
        raise RuntimeError("rolled back")
    assert held(world.outsider, world.group) == set()
    membership_remove(group=world.group, user=world.officer_fr, removed_by=world.ocu)
    assert held(world.officer_fr, world.group) & ALL_GROUP_PERMISSIONS == set()


@pytest.mark.django_db(databases=["default", "cen"])
def test_read_access_granted_by_staff_opens_every_door_to_read_and_none_to_post(world, client):
    """An auditor who is no member, given the view permission in the admin."""
    auditor = world.outsider
    post_quietly_sync(world)
    assign_perm(VIEW, auditor, world.group)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token(auditor)}")
    slug = world.group.slug
    assert api.get(f"/api/v1/groups/{slug}/").status_code == 200
    assert slug in [g["slug"] for g in api.get("/api/v1/groups/").json()]
    messages = api.get(f"/api/v1/groups/{slug}/messages/").json()["messages"]
    assert [m["html"] for m in messages] == ["<p>for the record</p>\n"]
    refused = api.post(
        f"/api/v1/groups/{slug}/messages/",
        {"client_id": str(uuid.uuid4()), "body": "an auditor writes"},
        format="json",
    )
    assert refused.status_code == 403
    sign_in(client, auditor)
    page = client.get(f"/groups/{slug}/")
    assert page.status_code == 200 and "for the record" in page.content.decode()
    assert client.get(f"/operations/{world.operation.code}/").status_code == 200
    assert Message.objects.filter(body="an auditor writes").count() == 0


def post_quietly_sync(world):
    from messaging.services import message_post

    message_post(
        author=world.officer_de, group=world.group, body="for the record", client_id=uuid.uuid4()
    )


def take_away(permission: str, user, group) -> None:
    """As a database administrator would: straight in the table, no service, no event."""
    table = ClosedUserGroupUserObjectPermission._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE user_id = %s AND content_object_id = %s AND "  # noqa: S608
            "permission_id IN (SELECT id FROM auth_permission WHERE codename = %s)",
            [user.pk, group.pk, permission],
        )


@pytest.mark.django_db(transaction=True)
async def test_a_permission_taken_away_in_the_database_denies_the_very_next_frame(
    world,
    connect,  # noqa: F811  (the fixture of tests/messaging/test_consumer.py)
):
    fr = await connect(world.officer_fr)
    de = await connect(world.officer_de)
    slug = world.group.slug
    await database_sync_to_async(take_away)("post_to_group", world.officer_fr, world.group)
    await fr.post(slug, "after the post permission went")
    refused = await fr.frame()
    assert (refused["type"], refused["code"]) == ("error", "forbidden")
    # Still a reader: what others post reaches the socket, and a sync reads it.
    await marker(world.group, world.officer_de, fr, de)
    await database_sync_to_async(take_away)(VIEW, world.officer_fr, world.group)
    # The marker is after the hello's cursor: a reader would get it back.
    await fr.sync({slug: fr.hello["groups"][slug]})
    page = await fr.frame()
    assert (page["type"], page["events"]) == ("sync.page", [])
    await fr.send({"type": "receipt.read", "group": slug, "seq": 1})
    assert (await fr.frame())["code"] == "not_found"
    assert (
        await database_sync_to_async(
            Message.objects.filter(body="after the post permission went").exists
        )()
        is False
    )
    assert await database_sync_to_async(
        Membership.objects.filter(user=world.officer_fr, removed_at__isnull=True).exists
    )()
