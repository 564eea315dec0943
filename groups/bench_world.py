"""The benchmark world: K operations with N members spread over them, each with a token.

Built with bulk inserts so that hundreds of members take seconds. Memberships are
created directly (no membership events), with their django-guardian permissions.
"""

import datetime
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.db import transaction
from rest_framework.authtoken.models import Token

from operations.models import Operation
from operations.services import operation_create
from operations.vocabularies import CommodityCategory

from .models import (
    Administration,
    ClosedUserGroupUserObjectPermission,
    Membership,
    Profile,
    Region,
    Role,
)
from .roles import ROLE_PERMISSIONS

User = get_user_model()


@transaction.atomic
def bench_world_build(*, operations: int, members: int, coordinator) -> dict[str, list[str]]:
    """Returns {group slug: [token, ...]}; idempotent for the same sizes."""
    administration, _created = Administration.objects.get_or_create(
        country="BE", defaults={"name": "Belgian Customs", "region": Region.EUROPE}
    )
    today = datetime.date.today()
    groups = []
    for number in range(1, operations + 1):
        code = f"BENCH-{number:03d}"
        operation = Operation.objects.filter(code=code).select_related("group").first()
        if operation is None:
            operation = operation_create(
                code=code,
                name=f"Benchmark operation {number}",
                commodity_focus=CommodityCategory.DRUGS,
                coordinating_administration=administration,
                planned_start=today - datetime.timedelta(days=1),
                planned_end=today + datetime.timedelta(days=30),
                created_by=coordinator,
            )
            Operation.objects.filter(pk=operation.pk).update(status=Operation.Status.ACTIVE)
        groups.append(operation.group)
    usernames = [f"bench.{number:05d}" for number in range(1, members + 1)]
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
    member_permissions = Permission.objects.filter(
        content_type__app_label="groups", codename__in=ROLE_PERMISSIONS[Role.MEMBER]
    )
    world: dict[str, list[str]] = {group.slug: [] for group in groups}
    memberships, permissions = [], []
    already = set(
        Membership.objects.filter(user__in=users, removed_at__isnull=True).values_list(
            "user_id", "group_id"
        )
    )
    for index, user in enumerate(users):
        group = groups[index % len(groups)]
        world[group.slug].append(tokens[user.pk])
        if (user.pk, group.pk) in already:
            continue
        memberships.append(Membership(group=group, user=user, role=Role.MEMBER))
        permissions.extend(
            ClosedUserGroupUserObjectPermission(
                user=user, content_object=group, permission=permission
            )
            for permission in member_permissions
        )
    Membership.objects.bulk_create(memberships)
    ClosedUserGroupUserObjectPermission.objects.bulk_create(permissions, ignore_conflicts=True)
    return world
