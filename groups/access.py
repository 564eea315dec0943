"""The access rule: who may see, post in and manage a group — read from django-guardian.

What a user may do in a group is an object permission on it (groups/roles.py):
``view_closedusergroup`` to read it, ``post_to_group`` to post, ``manage_members`` to
manage its members. A member's role grants its permissions (the membership services
keep them in step in the same transaction); staff may also grant one in the admin
— read-only access for an auditor is ``view_closedusergroup`` alone — and every door
honours it, because every door asks here: pages, the REST API, the websocket, the
exports, the commands.

The rules that are not a static permission live here too:

- staff (the platform's administrators) see and manage every group; they post only
  where they hold the permission;
- a read-only group (its operation closed) takes no new posts, whatever the
  permissions (``ReadOnly``);
- an observer asking to post is told they observe (``ObserverOnly``);
- a deactivated account holds no permission.

Whoever may not see a group gets ``GroupNotFound``, exactly as for one that does not
exist, after the same work (one query), so that a closed group's existence stays
closed. Whoever may see it but not do what they ask gets a ``Forbidden``.

Every refusal is noted for the audit trail (``core.audit.refusal_note``) and written
by the door that answers it; the note is server-side only, and a group that does not
exist is noted like one that is hidden, with the same work.
"""

from dataclasses import dataclass
from typing import Literal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import CharField, Exists, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.utils.translation import gettext_lazy as _

from core.audit import refusal_note, refusal_noting
from core.errors import Forbidden, NotFound, ObserverOnly, ReadOnly

from .models import ClosedUserGroup, ClosedUserGroupUserObjectPermission, Membership, Role
from .roles import MANAGE, POST, VIEW

Need = Literal["view", "post", "manage"]
CODENAMES: dict[str, str] = {"view": VIEW, "post": POST, "manage": MANAGE}


class GroupNotFound(NotFound):
    """The same error for a group that does not exist and one the user may not see."""

    def __init__(self):
        super().__init__(_("No such group."))


def _codename_filter(*needs: Need) -> dict:
    """Filter arguments for the permissions of ``needs`` on groups, named, not by id:
    ids are only fixed once a database is set up, and a long-lived process (a server
    beside a test suite that resets its database) must not keep stale ones."""
    codenames = [CODENAMES[need] for need in needs]
    return {
        "permission__content_type__app_label": ClosedUserGroup._meta.app_label,
        "permission__content_type__model": ClosedUserGroup._meta.model_name,
        **(
            {"permission__codename": codenames[0]}
            if len(codenames) == 1
            else {"permission__codename__in": codenames}
        ),
    }


def granted(need: Need, *, user, group=None) -> Exists:
    """Whether ``user`` (an id or an ``OuterRef``) holds the permission for ``need`` on
    ``group`` (an id or, by default, the outer query's group): a subquery to filter
    or annotate with. A deactivated account holds nothing."""
    return Exists(
        ClosedUserGroupUserObjectPermission.objects.filter(
            content_object=OuterRef("pk") if group is None else group,
            user=user,
            user__is_active=True,
            **_codename_filter(need),
        )
    )


def readable_groups(*, user) -> QuerySet[ClosedUserGroup]:
    """The groups ``user`` may read (their own, and any staff granted them)."""
    return ClosedUserGroup.objects.filter(granted("view", user=user.pk))


def searchable_groups(*, user) -> QuerySet[ClosedUserGroup]:
    """The groups whose content ``user`` may search: those they may read, and every
    group for staff (as ``access_group`` lets them read every one); none for an
    account that is signed out or deactivated."""
    if not user.is_authenticated or not user.is_active:
        return ClosedUserGroup.objects.none()
    if user.is_staff:
        return ClosedUserGroup.objects.all()
    return readable_groups(user=user)


def may(need: Need, *, user, group_id: int) -> bool:
    allowed = (
        ClosedUserGroup.objects.filter(pk=group_id).filter(granted(need, user=user.pk)).exists()
    )
    if not allowed:
        refusal_note(group_id=group_id, target="", need=need, code="forbidden")
    return allowed


def _refused(need: Need, group_lookup: dict, *, group=None, code: str = "not_found") -> None:
    """Note a refusal for the door's audit line. The group is looked up by what the
    request named whether it exists or not: one query either way."""
    if not refusal_noting():
        return
    if group is None:
        group = ClosedUserGroup.objects.filter(**group_lookup).only("pk", "slug").first()
    target = group.slug if group is not None else " ".join(map(str, group_lookup.values()))
    refusal_note(
        group_id=group.pk if group is not None else None, target=target, need=need, code=code
    )


@dataclass(frozen=True)
class GroupAccess:
    group: ClosedUserGroup
    membership: Membership | None
    # Staff (the platform's administrators) manage groups they are not members of.
    staff: bool = False
    may_post: bool = False
    may_manage: bool = False

    @property
    def role(self) -> str | None:
        return self.membership.role if self.membership else None

    @property
    def can_post(self) -> bool:
        return self.may_post and not self.group.is_read_only

    @property
    def can_manage(self) -> bool:
        return self.may_manage or self.staff


def access_group(
    user: AbstractBaseUser | AnonymousUser, slug: str, *, need: Need = "view"
) -> GroupAccess:
    """Fetch a group and check the user may do ``need`` in it (see the module's rules)."""
    return access_group_where(user, need=need, slug=slug)


def access_group_where(
    user: AbstractBaseUser | AnonymousUser, *, need: Need = "view", **group_lookup
) -> GroupAccess:
    """``access_group`` for the group that ``group_lookup`` names (its slug, its operation).

    One query, whoever asks and whether the group exists or not: the group with the
    user's three permissions and membership beside it.
    """
    if not user.is_authenticated or not user.is_active:
        _refused(need, group_lookup)
        raise GroupNotFound
    membership = Membership.objects.filter(
        group=OuterRef("pk"), user=user.pk, removed_at__isnull=True
    )
    groups = ClosedUserGroup.objects.filter(**group_lookup).annotate(
        may_view=granted("view", user=user.pk),
        may_post=granted("post", user=user.pk),
        may_manage=granted("manage", user=user.pk),
        membership_id=Subquery(membership.values("pk")[:1]),
        membership_role=Subquery(membership.values("role")[:1]),
    )
    if not user.is_staff:
        groups = groups.filter(may_view=True)
    group = groups.first()
    if group is None or (need == "post" and not group.may_view):
        # Staff read every group, but they post only where they may: elsewhere the
        # group is as absent as for anyone who is not in it.
        _refused(need, group_lookup, group=group)
        raise GroupNotFound
    return _checked(_access_of(group, user), need)


def _access_of(group: ClosedUserGroup, user) -> GroupAccess:
    membership = None
    if group.membership_id is not None:
        membership = Membership(
            pk=group.membership_id, group=group, user=user, role=group.membership_role
        )
    return GroupAccess(
        group=group,
        membership=membership,
        staff=user.is_staff,
        may_post=group.may_post,
        may_manage=group.may_manage,
    )


def _not_a_poster(role: str | None) -> Forbidden:
    """The refusal of a reader who may not post: an observer is told they observe."""
    if role == Role.OBSERVER:
        return ObserverOnly(_("Observers read the group; they do not post."))
    return Forbidden(_("You may read this group; you may not post in it."))


def _checked(access: GroupAccess, need: Need) -> GroupAccess:
    if need == "post" and not access.may_post:
        _refused(need, {}, group=access.group, code="forbidden")
        raise _not_a_poster(access.role)
    if need == "manage" and not access.can_manage:
        _refused(need, {}, group=access.group, code="forbidden")
        raise Forbidden(_("Only the group's coordinators manage its members."))
    return access


@dataclass(frozen=True)
class PostRight:
    """What a user holds in a group when they post: read by the posting services under
    the group's lock, in one batch for many posts."""

    may_view: bool
    may_post: bool
    role: str | None
    membership_id: int | None


def post_rights(*, group_ids, user_ids) -> dict[tuple[int, int], PostRight]:
    """``{(group_id, user_id): PostRight}`` for every pair with a permission or a
    membership, in one query (on the posting path of every message). A deactivated
    account holds no permission."""
    group_ids, user_ids = list(group_ids), list(user_ids)
    view, post = CODENAMES["view"], CODENAMES["post"]
    permissions = ClosedUserGroupUserObjectPermission.objects.filter(
        content_object_id__in=group_ids,
        user_id__in=user_ids,
        user__is_active=True,
        **_codename_filter("view", "post"),
    ).values_list(
        "content_object_id",
        "user_id",
        "permission__codename",
        Value(None, output_field=IntegerField()),
        Value(None, output_field=CharField()),
    )
    memberships = Membership.objects.filter(
        group_id__in=group_ids, user_id__in=user_ids, removed_at__isnull=True
    ).values_list("group_id", "user_id", Value(None, output_field=CharField()), "pk", "role")
    held: dict[tuple[int, int], set[str]] = {}
    members: dict[tuple[int, int], tuple[int, str]] = {}
    for group_id, user_id, permission, membership_id, role in permissions.union(
        memberships, all=True
    ):
        if permission is not None:
            held.setdefault((group_id, user_id), set()).add(permission)
        else:
            members[(group_id, user_id)] = (membership_id, role)
    return {
        pair: PostRight(
            may_view=view in held.get(pair, ()),
            may_post=post in held.get(pair, ()),
            role=members.get(pair, (None, None))[1],
            membership_id=members.get(pair, (None, None))[0],
        )
        for pair in held.keys() | members.keys()
    }


def post_refusal(right: PostRight | None, *, status: str) -> Exception | None:
    """Why this post is refused (``None``: it is not), given the group's status."""
    if right is None or not right.may_view:
        refusal_note(group_id=None, target="", need="post", code="not_found")
        return GroupNotFound()
    if not right.may_post:
        refusal_note(group_id=None, target="", need="post", code="forbidden")
        return _not_a_poster(right.role)
    if status == ClosedUserGroup.Status.READ_ONLY:
        return ReadOnly(_("This group is read-only: the operation is closed."))
    return None


def manages_any_group(*, user) -> bool:
    """Whether the user coordinates some group (may create operations, needs a second
    factor): holds the manage permission on at least one."""
    return ClosedUserGroupUserObjectPermission.objects.filter(
        user=user.pk, user__is_active=True, **_codename_filter("manage")
    ).exists()
