import uuid

import pycountry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from rest_framework.authtoken.models import TokenProxy


def validate_country_code(value: str) -> None:
    if pycountry.countries.get(alpha_2=value or "") is None:
        raise ValidationError(
            _("%(value)s is not an ISO 3166-1 alpha-2 country code."),
            code="invalid_country",
            params={"value": value},
        )


class Region(models.TextChoices):
    """The six regions of the World Customs Organization."""

    EAST_SOUTHERN_AFRICA = "ESA", _("East and Southern Africa")
    EUROPE = "EUR", _("Europe")
    ASIA_PACIFIC = "AP", _("Asia/Pacific")
    MIDDLE_EAST_NORTH_AFRICA = "MENA", _("North of Africa, Near and Middle East")
    AMERICAS_CARIBBEAN = "AMC", _("Americas and the Caribbean")
    WEST_CENTRAL_AFRICA = "WCA", _("West and Central Africa")


class Administration(models.Model):
    """A customs administration, one per country or customs territory."""

    country = models.CharField(
        _("country"), max_length=2, unique=True, validators=[validate_country_code]
    )
    name = models.CharField(_("name"), max_length=200)
    region = models.CharField(_("region"), max_length=4, choices=Region.choices)

    class Meta:
        ordering = ["name"]
        verbose_name = _("administration")
        verbose_name_plural = _("administrations")

    def __str__(self) -> str:
        return f"{self.name} ({self.country})"


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    administration = models.ForeignKey(
        Administration,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="profiles",
        verbose_name=_("administration"),
    )
    language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return str(self.user)


class RiloAssignment(models.Model):
    """A user who works for a Regional Intelligence Liaison Office, for one region.

    The RILO monitors the data input of its region's administrations (the RILO page,
    /cen/rilo/); staff assign users to regions in the admin.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="rilo_assignments",
        verbose_name=_("user"),
    )
    region = models.CharField(_("region"), max_length=4, choices=Region.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["region", "user"]
        verbose_name = _("RILO assignment")
        verbose_name_plural = _("RILO assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "region"], name="one_rilo_assignment_per_region"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_region_display()}"


class ClosedUserGroup(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        READ_ONLY = "read_only", _("Read-only")

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("code"), max_length=64, unique=True)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    # The last seq handed out in this group's event stream; only ever raised by
    # groups.stream under this row's lock.
    last_seq = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("closed user group")
        verbose_name_plural = _("closed user groups")
        permissions = [
            ("post_to_group", "Can post messages and seizures in the group"),
            ("manage_members", "Can add, remove and change the role of members"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_read_only(self) -> bool:
        return self.status == self.Status.READ_ONLY


class Role(models.TextChoices):
    COORDINATOR = "coordinator", _("Coordinator")
    MEMBER = "member", _("Member")
    OBSERVER = "observer", _("Observer")


class Membership(models.Model):
    """Who is in a group. The source of truth; guardian permissions follow it."""

    group = models.ForeignKey(ClosedUserGroup, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The member's read cursor: every message with seq <= this has been read.
    last_read_seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["group", "user"],
                condition=models.Q(removed_at__isnull=True),
                name="one_active_membership_per_user_and_group",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=["coordinator", "member", "observer"]),
                name="membership_role_is_known",
            ),
        ]
        indexes = [models.Index(fields=["user", "group"], name="membership_user_group")]

    def __str__(self) -> str:
        return f"{self.user} in {self.group} ({self.role})"

    @property
    def is_active(self) -> bool:
        return self.removed_at is None


class ClosedUserGroupUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(ClosedUserGroup, on_delete=models.CASCADE)


class ClosedUserGroupGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(ClosedUserGroup, on_delete=models.CASCADE)


class UserSession(models.Model):
    """A login session as its owner sees it on "My sessions": where, since when, last seen."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="login_sessions"
    )
    # The session's key is a credential: it stays on the server. Pages, forms, the
    # API and the admin name a session by ``public_id``, which logs nobody in.
    session_key = models.CharField(max_length=40, unique=True)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now_add=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # The page reported running as the installed app (display-mode: standalone).
    installed_at = models.DateTimeField(null=True, blank=True)
    # Ended from elsewhere (its owner on another device, staff, a deactivation): the
    # device wipes its outbox and kept pages when it next comes online.
    ended_elsewhere = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("login session")
        verbose_name_plural = _("login sessions")
        indexes = [models.Index(fields=["user", "ended_at"], name="usersession_user_open")]

    def __str__(self) -> str:
        return f"{self.user} since {self.created_at:%Y-%m-%d %H:%M}"


class TokenIssue(models.Model):
    """How an API token was issued: with a second factor or without.

    A role that requires two-factor login (coordinator, staff) is checked against
    every credential when it is used, so a token issued without a second factor
    stops working the moment its user is promoted.
    """

    # Not the primary key: the token's key is a credential and must not appear in URLs.
    token = models.OneToOneField("authtoken.Token", on_delete=models.CASCADE, related_name="issue")
    second_factor = models.BooleanField(default=False)
    issued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("API token issue")
        verbose_name_plural = _("API token issues")

    def __str__(self) -> str:
        kind = "with" if self.second_factor else "without"
        return f"API token of {self.token.user} ({kind} a second factor)"


class ApiToken(TokenProxy):
    """DRF's token as the admin shows it: by its user, since a key is a credential."""

    class Meta:
        proxy = True
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"API token of {self.user}"


class GroupEvent(models.Model):
    """One entry of a group's ordered event stream: what catch-up replays.

    ``seq`` is per group, starts at 1 and has no gaps: it is allocated under a lock
    on the group row (see ``groups.stream``), so commit order equals
    seq order.
    """

    group = models.ForeignKey("ClosedUserGroup", on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveBigIntegerField()
    type = models.CharField(max_length=40)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("group event")
        verbose_name_plural = _("group events")
        constraints = [
            models.UniqueConstraint(fields=["group", "seq"], name="one_event_per_group_seq"),
        ]
        ordering = ["group", "seq"]

    def __str__(self) -> str:
        return f"{self.group_id}#{self.seq} {self.type}"

    def as_frame(self) -> dict:
        return {
            "type": "event",
            "group": self.group.slug,
            "seq": self.seq,
            "event": self.type,
            "data": self.data,
        }


class NotificationChoice(models.Model):
    """What a user wants to be told of in one group when they are not looking at it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_choices"
    )
    group = models.ForeignKey(
        ClosedUserGroup, on_delete=models.CASCADE, related_name="notification_choices"
    )
    alerts = models.BooleanField(_("alerts"), default=False)
    seizures = models.BooleanField(_("seizure reports"), default=False)
    mentions = models.BooleanField(_("mentions of me"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification choice")
        verbose_name_plural = _("notification choices")
        constraints = [
            models.UniqueConstraint(fields=["user", "group"], name="one_notification_choice"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.group_id}"


class PushSubscription(models.Model):
    """A device's Web Push subscription (the browser's endpoint and keys).

    The endpoint is a credential — whoever knows it can push to the device — so it is
    shown to nobody. A subscription made in a login session goes with that session.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    session = models.ForeignKey(
        UserSession,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="push_subscriptions",
    )
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("push subscription")
        verbose_name_plural = _("push subscriptions")

    def __str__(self) -> str:
        return f"push subscription of {self.user} since {self.created_at:%Y-%m-%d %H:%M}"
