"""Everything that changes administrations, profiles, groups and memberships.

Each service runs in one transaction that also keeps django-guardian's object
permissions in step with the membership rows, and appends the change to the
group's event stream.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from core.audit import Action, audit_entry, audit_record
from core.errors import Forbidden, Invalid
from core.realtime import notify_user_on_commit

from .access import may
from .models import (
    Administration,
    ClosedUserGroup,
    ClosedUserGroupUserObjectPermission,
    Membership,
    Profile,
    Role,
)
from .roles import ALL_GROUP_PERMISSIONS, ROLE_PERMISSIONS
from .stream import EventType, event_append, events_append_together

User = get_user_model()


def _locked_group(group: ClosedUserGroup) -> ClosedUserGroup:
    # Every membership change locks the group row first, so that checks such as
    # "is this the last coordinator?" cannot race with another change.
    return ClosedUserGroup.objects.select_for_update().get(pk=group.pk)


def _check_may_manage(*, group: ClosedUserGroup, actor) -> None:
    if actor is None or actor.is_staff:
        return
    if not may("manage", user=actor, group_id=group.pk):
        raise Forbidden(_("Only the group's coordinators manage its members."))


def _sync_permissions(*, group: ClosedUserGroup, user, role: str | None) -> None:
    wanted = ROLE_PERMISSIONS.get(role, frozenset())
    for permission in ALL_GROUP_PERMISSIONS - wanted:
        remove_perm(permission, user, group)
    for permission in wanted:
        assign_perm(permission, user, group)


def _member_data(membership: Membership) -> dict:
    return {
        "user": membership.user.username,
        "role": membership.role,
    }


def profile_ensure(
    *, user, administration: Administration | None = None, language: str | None = None
) -> Profile:
    profile, _created = Profile.objects.get_or_create(user=user)
    changed = []
    if administration is not None and profile.administration_id != administration.pk:
        profile.administration = administration
        changed.append("administration")
    if language and profile.language != language:
        profile.language = language
        changed.append("language")
    if changed:
        profile.save(update_fields=changed)
    # Keep the user's cached profile (set when it was created) in step.
    user.profile = profile
    return profile


@transaction.atomic
def group_create(
    *, name: str, created_by, slug: str = "", description: str = ""
) -> ClosedUserGroup:
    """Create a group with its creator as first coordinator."""
    slug = slugify(slug or name)[:64]
    if not slug:
        raise Invalid({"slug": _("Give the group a code made of letters and digits.")})
    if ClosedUserGroup.objects.filter(slug=slug).exists():
        raise Invalid({"slug": _("A group with this code already exists.")})
    group = ClosedUserGroup.objects.create(
        name=name, slug=slug, description=description, created_by=created_by
    )
    membership_add(group=group, user=created_by, role=Role.COORDINATOR, added_by=None)
    return group


@transaction.atomic
def membership_add(*, group: ClosedUserGroup, user, role: str, added_by) -> Membership:
    """Add ``user`` to ``group`` with ``role``. ``added_by=None`` means the system."""
    group = _locked_group(group)
    _check_may_manage(group=group, actor=added_by)
    if role not in Role.values:
        raise Invalid({"role": _("Unknown role.")})
    if not user.is_active:
        raise Invalid({"user": _("This account is deactivated.")})
    if Membership.objects.filter(group=group, user=user, removed_at__isnull=True).exists():
        raise Invalid(
            {"user": _("%(user)s is already a member of this group.") % {"user": user.username}}
        )
    membership = Membership.objects.create(group=group, user=user, role=role, added_by=added_by)
    _sync_permissions(group=group, user=user, role=role)
    event_append(group=group, type=EventType.MEMBER_ADDED, data=_member_data(membership))
    audit_record(
        actor=added_by,
        action=Action.MEMBER_ADDED,
        group=group,
        target=user.username,
        data={"role": role},
    )
    notify_user_on_commit(user_id=user.pk, message={"type": "access.granted", "group_id": group.pk})
    return membership


@transaction.atomic
def memberships_add_many(*, group: ClosedUserGroup, users: list, role: str, added_by) -> int:
    """Add many users to one group at once (a large operation's roll, the benchmark
    world): the checks of ``membership_add``, one ``member.added`` event, one audit
    line and the role's object permissions each, written together. Users already
    members are left as they are. Returns how many were added."""
    group = _locked_group(group)
    _check_may_manage(group=group, actor=added_by)
    if role not in Role.values:
        raise Invalid({"role": _("Unknown role.")})
    if any(not user.is_active for user in users):
        raise Invalid({"user": _("This account is deactivated.")})
    users = _not_members_yet(group=group, users=users)
    if not users:
        return 0
    memberships = [
        Membership(group=group, user=user, role=role, added_by=added_by) for user in users
    ]
    Membership.objects.bulk_create(memberships, batch_size=2000)
    _grant_permissions_many(group=group, users=users, role=role)
    _members_added_record(group=group, memberships=memberships, added_by=added_by)
    for user in users:
        notify_user_on_commit(
            user_id=user.pk, message={"type": "access.granted", "group_id": group.pk}
        )
    return len(memberships)


def _not_members_yet(*, group: ClosedUserGroup, users: list) -> list:
    """The users, each once, less those already members of the group."""
    present = set(
        Membership.objects.filter(group=group, removed_at__isnull=True).values_list(
            "user_id", flat=True
        )
    )
    return [user for user in {user.pk: user for user in users}.values() if user.pk not in present]


def _grant_permissions_many(*, group: ClosedUserGroup, users: list, role: str) -> None:
    """``_sync_permissions`` for many new members at once, in a few inserts."""
    permissions = Permission.objects.filter(
        content_type__app_label="groups", codename__in=ROLE_PERMISSIONS[role]
    )
    ClosedUserGroupUserObjectPermission.objects.bulk_create(
        [
            ClosedUserGroupUserObjectPermission(
                user=user, content_object=group, permission=permission
            )
            for user in users
            for permission in permissions
        ],
        batch_size=2000,
        ignore_conflicts=True,
    )


def _members_added_record(
    *, group: ClosedUserGroup, memberships: list[Membership], added_by
) -> None:
    """One ``member.added`` event and one audit line per new membership, written
    together on consecutive seqs."""
    audit = [
        audit_entry(
            actor=added_by,
            action=Action.MEMBER_ADDED,
            group=group,
            target=membership.user.username,
            data={"role": membership.role},
        )
        for membership in memberships
    ]
    events_append_together(
        group=group,
        entries=[(EventType.MEMBER_ADDED, _member_data(m)) for m in memberships],
        rows=(audit,),
    )


@transaction.atomic
def membership_change_role(*, group: ClosedUserGroup, user, role: str, changed_by) -> Membership:
    group = _locked_group(group)
    _check_may_manage(group=group, actor=changed_by)
    if role not in Role.values:
        raise Invalid({"role": _("Unknown role.")})
    membership = Membership.objects.filter(group=group, user=user, removed_at__isnull=True).first()
    if membership is None:
        raise Invalid(
            {"user": _("%(user)s is not a member of this group.") % {"user": user.username}}
        )
    if membership.role == role:
        return membership
    if membership.role == Role.COORDINATOR:
        _check_not_last_coordinator(group=group)
    membership.role = role
    membership.save(update_fields=["role"])
    _sync_permissions(group=group, user=user, role=role)
    event_append(group=group, type=EventType.MEMBER_ROLE_CHANGED, data=_member_data(membership))
    audit_record(
        actor=changed_by,
        action=Action.MEMBER_ROLE,
        group=group,
        target=user.username,
        data={"role": role},
    )
    notify_user_on_commit(
        user_id=user.pk, message={"type": "access.changed", "group_id": group.pk, "role": role}
    )
    return membership


@transaction.atomic
def membership_remove(*, group: ClosedUserGroup, user, removed_by) -> Membership:
    """Remove a member. Their open sockets stop receiving the group at once."""
    group = _locked_group(group)
    _check_may_manage(group=group, actor=removed_by)
    membership = Membership.objects.filter(group=group, user=user, removed_at__isnull=True).first()
    if membership is None:
        raise Invalid(
            {"user": _("%(user)s is not a member of this group.") % {"user": user.username}}
        )
    if membership.role == Role.COORDINATOR:
        _check_not_last_coordinator(group=group)
    membership.removed_at = timezone.now()
    membership.removed_by = removed_by
    membership.save(update_fields=["removed_at", "removed_by"])
    _sync_permissions(group=group, user=user, role=None)
    # The user's sockets drop the group on the member.removed event itself, in seq
    # order, so no later event reaches them; the message on the user's own channel
    # also reaches sockets that were not following the group's events yet.
    notify_user_on_commit(
        user_id=user.pk,
        message={"type": "access.revoked", "group_id": group.pk, "group": group.slug},
    )
    event_append(
        group=group, type=EventType.MEMBER_REMOVED, data=_member_data(membership), removes=user.pk
    )
    audit_record(actor=removed_by, action=Action.MEMBER_REMOVED, group=group, target=user.username)
    return membership


def _check_not_last_coordinator(*, group: ClosedUserGroup) -> None:
    coordinators = Membership.objects.filter(
        group=group, role=Role.COORDINATOR, removed_at__isnull=True
    ).count()
    if coordinators <= 1:
        raise Invalid(
            {"user": _("A group needs at least one coordinator: appoint another one first.")}
        )


@transaction.atomic
def group_set_status(*, group: ClosedUserGroup, status: str) -> ClosedUserGroup:
    group = _locked_group(group)
    if group.status == status:
        return group
    group.status = status
    group.save(update_fields=["status"])
    event_append(group=group, type=EventType.GROUP_STATUS, data={"status": status})
    return group
