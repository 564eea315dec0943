"""The benchmark world: K operations with N members spread over them, each with a token.

Optionally M idle members besides, in operations of their own (BENCH-IDLE-001…, 50
members each, slugs `bench-idle-…`): sockets that are connected and in groups, but
whose groups stay quiet.

Accounts and tokens are inserted in bulk so that thousands of members take seconds;
operations are started and members added through the services (one event, one audit
line and the role's permissions per member, written together).
"""

import datetime
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from rest_framework.authtoken.models import Token

from core.vocabularies import CommodityCategory
from groups.models import Administration, Profile, Region, Role
from groups.services import memberships_add_many
from operations.models import Operation
from operations.services import operation_create, operation_set_status

User = get_user_model()


IDLE_GROUP_SIZE = 50


def _operation(code: str, name: str, administration, coordinator):
    operation = Operation.objects.filter(code=code).select_related("group").first()
    if operation is None:
        today = datetime.date.today()
        operation = operation_create(
            code=code,
            name=name,
            commodity_focus=CommodityCategory.DRUGS,
            coordinating_administration=administration,
            planned_start=today - datetime.timedelta(days=1),
            planned_end=today + datetime.timedelta(days=30),
            created_by=coordinator,
        )
    if operation.status == Operation.Status.PLANNED:
        operation_set_status(operation=operation, status=Operation.Status.ACTIVE, actor=coordinator)
    return operation.group


def _members(
    groups: list, usernames: list[str], administration, coordinator
) -> dict[str, list[str]]:
    """Users with tokens, spread round-robin over `groups` as members."""
    existing = set(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    password = make_password(None)
    User.objects.bulk_create(
        User(username=name, password=password) for name in usernames if name not in existing
    )
    users = list(User.objects.filter(username__in=usernames).order_by("username"))
    Profile.objects.bulk_create(
        [Profile(user=user, administration=administration) for user in users], ignore_conflicts=True
    )
    Token.objects.bulk_create(
        [Token(user=user, key=secrets.token_hex(20)) for user in users], ignore_conflicts=True
    )
    tokens = dict(Token.objects.filter(user__in=users).values_list("user_id", "key"))
    world: dict[str, list[str]] = {group.slug: [] for group in groups}
    members_of: dict[int, list] = {group.pk: [] for group in groups}
    for index, user in enumerate(users):
        group = groups[index % len(groups)]
        world[group.slug].append(tokens[user.pk])
        members_of[group.pk].append(user)
    for group in groups:
        memberships_add_many(
            group=group, users=members_of[group.pk], role=Role.MEMBER, added_by=coordinator
        )
    return world


@transaction.atomic
def bench_world_build(
    *, operations: int, members: int, coordinator, idle: int = 0
) -> dict[str, list[str]]:
    """Returns {group slug: [token, ...]}, idle groups included (slugs `bench-idle-…`);
    idempotent for the same sizes."""
    administration, _created = Administration.objects.get_or_create(
        country="BE", defaults={"name": "Belgian Customs", "region": Region.EUROPE}
    )
    groups = [
        _operation(
            f"BENCH-{number:03d}", f"Benchmark operation {number}", administration, coordinator
        )
        for number in range(1, operations + 1)
    ]
    world = _members(
        groups,
        [f"bench.{number:05d}" for number in range(1, members + 1)],
        administration,
        coordinator,
    )
    if idle > 0:
        idle_groups = [
            _operation(
                f"BENCH-IDLE-{number:03d}",
                f"Benchmark idle operation {number}",
                administration,
                coordinator,
            )
            for number in range(1, -(-idle // IDLE_GROUP_SIZE) + 1)
        ]
        world.update(
            _members(
                idle_groups,
                [f"bench.idle.{number:05d}" for number in range(1, idle + 1)],
                administration,
                coordinator,
            )
        )
    return world
