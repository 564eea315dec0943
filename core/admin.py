from django.contrib import admin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_name", "action", "group", "target", "ip"]
    list_filter = ["action"]
    search_fields = ["actor_name", "target", "group__slug"]
    date_hierarchy = "at"
    list_select_related = ["group"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
