from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from guardian.admin import GuardedModelAdmin
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from .models import (
    Administration,
    ApiToken,
    ClosedUserGroup,
    ClosedUserGroupGroupObjectPermission,
    ClosedUserGroupUserObjectPermission,
    GroupEvent,
    Membership,
    NotificationChoice,
    Profile,
    PushSubscription,
    RiloAssignment,
    TokenIssue,
    UserSession,
)
from .sessions import session_end


@admin.register(Administration)
class AdministrationAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "region"]
    list_filter = ["region"]
    search_fields = ["name", "country"]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "administration", "language"]
    list_filter = ["language", "administration__region"]
    search_fields = [
        "user__username",
        "user__first_name",
        "user__last_name",
        "administration__name",
    ]
    list_select_related = ["user", "administration"]
    autocomplete_fields = ["administration"]


@admin.register(RiloAssignment)
class RiloAssignmentAdmin(admin.ModelAdmin):
    """Who works for which Regional Intelligence Liaison Office: opens the RILO page."""

    list_display = ["user", "region", "created_at"]
    list_filter = ["region"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "group"
    fields = ["user", "role", "created_at", "removed_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        # Memberships change through the group's members page, which calls the
        # services that keep permissions and the event stream in step.
        return False


@admin.register(GroupEvent)
class GroupEventAdmin(admin.ModelAdmin):
    """The event stream is a record: it is read here, never edited."""

    list_display = ["group", "seq", "type", "created_at"]
    list_filter = ["type"]
    search_fields = ["group__slug", "type"]
    list_select_related = ["group"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ClosedUserGroup)
class ClosedUserGroupAdmin(GuardedModelAdmin):
    list_display = ["name", "slug", "status", "last_seq", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "slug"]
    readonly_fields = ["last_seq", "created_at", "created_by"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "group", "role", "created_at", "removed_at"]
    list_filter = ["role", ("removed_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "group__name", "group__slug"]
    list_select_related = ["user", "group"]
    readonly_fields = [
        "group",
        "user",
        "role",
        "added_by",
        "created_at",
        "removed_at",
        "removed_by",
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ClosedUserGroupUserObjectPermission)
class UserObjectPermissionAdmin(admin.ModelAdmin):
    list_display = ["user", "content_object", "permission"]
    search_fields = ["user__username", "content_object__slug"]
    list_select_related = ["user", "content_object", "permission"]


@admin.register(ClosedUserGroupGroupObjectPermission)
class GroupObjectPermissionAdmin(admin.ModelAdmin):
    list_display = ["group", "content_object", "permission"]
    search_fields = ["group__name", "content_object__slug"]


@admin.register(UserSession)
class UserSessionAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at", "last_seen", "ip", "installed_at", "ended_at"]
    list_filter = [("ended_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "ip"]
    list_select_related = ["user"]
    # The session key is a credential and is never shown; a session is named by its
    # public id.
    exclude = ["session_key"]
    readonly_fields = [
        "user",
        "public_id",
        "created_at",
        "last_seen",
        "ip",
        "user_agent",
        "installed_at",
        "ended_at",
        "ended_elsewhere",
    ]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("End the selected sessions"))
    def end_sessions(self, request, queryset):
        """Their pages are disconnected at once and their devices wipe their copies."""
        ended = sum(
            session_end(user=record.user, public_id=record.public_id, by=request.user)
            for record in queryset.filter(ended_at__isnull=True).select_related("user")
        )
        self.message_user(request, gettext("Sessions ended: %(count)d.") % {"count": ended})

    actions = ["end_sessions"]


# DRF's own token admin lists every key, and a key is a credential: staff see who has a
# token and how it was issued, never the key.
admin.site.unregister(TokenProxy)


@admin.register(ApiToken)
class ApiTokenAdmin(TokenAdmin):
    list_display = ["user", "created"]


@admin.register(TokenIssue)
class TokenIssueAdmin(admin.ModelAdmin):
    list_display = ["user", "second_factor", "issued_at"]
    list_filter = ["second_factor"]
    search_fields = ["token__user__username"]
    list_select_related = ["token__user"]
    exclude = ["token"]
    readonly_fields = ["user", "second_factor", "issued_at"]

    @admin.display(description=_("user"))
    def user(self, issue: TokenIssue):
        return issue.token.user

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(NotificationChoice)
class NotificationChoiceAdmin(admin.ModelAdmin):
    list_display = ("user", "group", "alerts", "seizures", "mentions", "updated_at")
    list_select_related = ("user", "group")
    search_fields = ("user__username", "group__slug")
    raw_id_fields = ("user", "group")


@admin.register(PushSubscription)
class PushSubscriptionAdmin(admin.ModelAdmin):
    """A device's subscription, without its endpoint and keys: they are credentials."""

    list_display = ("user", "public_id", "created_at", "last_sent_at")
    list_select_related = ("user",)
    search_fields = ("user__username",)
    fields = ("user", "public_id", "created_at", "last_sent_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
