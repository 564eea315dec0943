"""Run inside Django on the soak databases: one signed-in session per benchmark member.

python -m tests.benchmarks.soak_world   # prints [{"group", "token", "session", "operation"}, ...]
"""

import json

import django


def members() -> list[dict]:
    from django.conf import settings
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from groups.models import Membership

    rows = []
    memberships = (
        Membership.objects.filter(
            user__username__startswith="bench.",
            removed_at__isnull=True,
            group__slug__startswith="bench-",
        )
        .exclude(group__slug__startswith="bench-idle-")
        .select_related("user", "group")
        .order_by("user__username")
    )
    tokens = dict(Token.objects.values_list("user_id", "key"))
    for membership in memberships:
        client = Client()
        # As the login page does for a member (no second factor for the role).
        client.force_login(membership.user)
        rows.append(
            {
                "group": membership.group.slug,
                "operation": membership.group.slug.upper(),
                "token": tokens[membership.user_id],
                "session": client.cookies[settings.SESSION_COOKIE_NAME].value,
            }
        )
    return rows


if __name__ == "__main__":
    django.setup()
    print(json.dumps(members()))
