from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.utils.translation import get_supported_language_variant

from core.collation import collation_key, sorted_by_name

from .access import readable_groups
from .models import Administration, ClosedUserGroup, Membership, Profile

User = get_user_model()


def groups_of_user(*, user) -> QuerySet[ClosedUserGroup]:
    """The groups the user may read (groups/access.py), for lists and menus."""
    return readable_groups(user=user).select_related("operation").order_by("name")


def group_members(*, group: ClosedUserGroup) -> list[Membership]:
    """Coordinators, members, observers, each by name in the reader's order."""
    members = Membership.objects.filter(group=group, removed_at__isnull=True).select_related(
        "user__profile__administration"
    )
    return sorted(
        members,
        key=lambda m: (m.role, collation_key(m.user.get_full_name() or m.user.username)),
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
    administrations = sorted_by_name(
        Administration.objects.filter(pk__in=counts), lambda administration: administration.name
    )
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
