from django.contrib import admin

from .models import CenSeizure


@admin.register(CenSeizure)
class CenSeizureAdmin(admin.ModelAdmin):
    list_display = ["operation_code", "seizure_uuid", "source_system", "transferred_at"]
    list_filter = ["source_system"]
    search_fields = ["operation_code", "seizure_uuid"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
