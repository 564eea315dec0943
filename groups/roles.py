"""What each role may do in a group, as django-guardian object permissions."""

from .models import Role

VIEW = "view_closedusergroup"
POST = "post_to_group"
MANAGE = "manage_members"

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.OBSERVER: frozenset({VIEW}),
    Role.MEMBER: frozenset({VIEW, POST}),
    Role.COORDINATOR: frozenset({VIEW, POST, MANAGE}),
}
ALL_GROUP_PERMISSIONS = frozenset().union(*ROLE_PERMISSIONS.values())
