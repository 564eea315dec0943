from django.contrib import admin

from .models import Operation


@admin.register(Operation)
class OperationAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "commodity_focus",
        "coordinating_administration",
        "planned_start",
        "planned_end",
        "status",
    ]
    list_filter = ["status", "commodity_focus", "coordinating_administration__region"]
    search_fields = ["code", "name"]
    list_select_related = ["coordinating_administration"]
    readonly_fields = ["group", "status", "created_at"]
    date_hierarchy = "planned_start"
