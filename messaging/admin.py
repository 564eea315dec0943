from django.contrib import admin

from .models import GroupEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """The event stream is a record: it is read here, never edited."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(GroupEvent)
class GroupEventAdmin(ReadOnlyAdmin):
    list_display = ["group", "seq", "type", "created_at"]
    list_filter = ["type"]
    search_fields = ["group__slug", "type"]
    list_select_related = ["group"]
