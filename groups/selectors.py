from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.http import Http404
from django.utils.translation import get_supported_language_variant
from django.utils.translation import gettext_lazy as _

from .models import Administration, ClosedUserGroup, Membership, Profile, Role

User = get_user_model()

Need = Literal["view", "post", "manage"]


class GroupNotFound(Http404):
    """The same error for a group that does not exist and one the user may not see."""

    def __init__(self):
        super().__init__(_("No such group."))


@dataclass(frozen=True)
class GroupAccess:
    group: ClosedUserGroup
    membership: Membership | None
    # Staff (the platform's administrators) manage groups they are not members of.
    staff: bool = False

    @property
    def role(self) -> str | None:
        return self.membership.role if self.membership else None

    @property
    def can_post(self) -> bool:
        return self.role in (Role.MEMBER, Role.COORDINATOR) and not self.group.is_read_only

    @property
    def can_manage(self) -> bool:
        return self.role == Role.COORDINATOR or self.staff


def active_membership(*, user, group_id: int) -> Membership | None:
    return (
        Membership.objects.filter(user=user, group_id=group_id, removed_at__isnull=True)
        .only("id", "role", "group_id", "user_id")
        .first()
    )


def access_group(
    user: AbstractBaseUser | AnonymousUser, slug: str, *, need: Need = "view"
) -> GroupAccess:
    """Fetch a group and check the user may do ``need`` in it.

    Anyone who is not an active member (and not staff) gets ``GroupNotFound``,
    exactly as for a slug that does not exist: a closed group's existence is
    itself closed. Members whose role does not allow ``need`` get
    ``PermissionDenied``: they already know the group exists.
    """
    return access_group_where(user, need=need, slug=slug)


def access_group_where(
    user: AbstractBaseUser | AnonymousUser, *, need: Need = "view", **group_lookup
) -> GroupAccess:
    """``access_group`` for the group that ``group_lookup`` names (its slug, its operation).

    A non-member's look-up is one query, the same whether the group is missing or
    not theirs, so that not even the time of the answer tells the two apart.
    """
    if not user.is_authenticated or not user.is_active:
        raise GroupNotFound
    membership = (
        Membership.objects.select_related("group")
        .filter(
            user=user,
            removed_at__isnull=True,
            **{f"group__{field}": value for field, value in group_lookup.items()},
        )
        .first()
    )
    if membership is None:
        if user.is_staff and need != "post":
            group = ClosedUserGroup.objects.filter(**group_lookup).first()
            if group is not None:
                return GroupAccess(group=group, membership=None, staff=True)
        raise GroupNotFound
    access = GroupAccess(group=membership.group, membership=membership, staff=user.is_staff)
    if need == "post" and membership.role == Role.OBSERVER:
        raise PermissionDenied(_("Observers read the group; they do not post."))
    if need == "manage" and membership.role != Role.COORDINATOR and not user.is_staff:
        raise PermissionDenied(_("Only the group's coordinators manage its members."))
    return access


def groups_of_user(*, user) -> QuerySet[ClosedUserGroup]:
    return (
        ClosedUserGroup.objects.filter(memberships__user=user, memberships__removed_at__isnull=True)
        .select_related("operation")
        .order_by("name")
    )


def group_members(*, group: ClosedUserGroup) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(group=group, removed_at__isnull=True)
        .select_related("user__profile__administration")
        .order_by("role", "user__username")
    )


def _not_members(*, group: ClosedUserGroup) -> QuerySet:
    """Active accounts that are not active members of the group."""
    present = Membership.objects.filter(group=group, user=OuterRef("pk"), removed_at__isnull=True)
    return User.objects.filter(is_active=True).exclude(Exists(present))


def member_candidates(group: ClosedUserGroup, query: str, limit: int = 20) -> list:
    """Whom a coordinator may add to the group, found by ``query``: active accounts not
    yet members whose username, first or last name, or administration's name or country
    code contains every word of the query, whatever its case.

    An exact username comes first, then usernames that start with the query, then the
    rest by administration and name. Callers check the right to manage the group first.
    """
    terms = query.split()[:5]
    if not terms:
        return []
    people = _not_members(group=group)
    for term in terms:
        people = people.filter(
            Q(username__icontains=term)
            | Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(profile__administration__name__icontains=term)
            | Q(profile__administration__country__iexact=term)
        )
    whole = " ".join(terms)
    return list(
        people.select_related("profile__administration")
        .annotate(
            rank=Case(
                When(username__iexact=whole, then=Value(0)),
                When(username__istartswith=whole, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("rank", "profile__administration__name", "last_name", "first_name", "username")[
            :limit
        ]
    )


def administrations_with_candidates(*, group: ClosedUserGroup) -> list[Administration]:
    """The administrations with active officers not yet in the group, by name, each with
    their number in ``candidates``: the choices for adding a whole administration."""
    counts = dict(
        _not_members(group=group)
        .filter(profile__administration__isnull=False)
        .values("profile__administration")
        .annotate(candidates=Count("pk"))
        .values_list("profile__administration", "candidates")
    )
    administrations = list(Administration.objects.filter(pk__in=counts).order_by("name"))
    for administration in administrations:
        administration.candidates = counts[administration.pk]
    return administrations


def administration_candidates(*, group: ClosedUserGroup, administration: Administration) -> list:
    """Every active officer of the administration who is not yet a member of the group."""
    return list(_not_members(group=group).filter(profile__administration=administration))


def user_language(*, user, chosen: str | None = None) -> str:
    """The language to speak to a signed-in user, pages and socket alike: the one they
    chose in this browser (the language cookie), else their profile's. The profile is
    read only when the browser's choice does not decide."""

    def supported(code) -> str | None:
        if not isinstance(code, str) or not code:
            return None
        try:
            return get_supported_language_variant(code)
        except LookupError:
            return None

    return (
        supported(chosen)
        or supported(Profile.objects.filter(user=user).values_list("language", flat=True).first())
        or settings.LANGUAGE_CODE
    )
