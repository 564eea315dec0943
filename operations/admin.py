from django.contrib import admin

from .models import Operation, Seizure, TransferRun


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


@admin.register(Seizure)
class SeizureAdmin(admin.ModelAdmin):
    list_display = [
        "operation",
        "seizure_date",
        "reporting_country",
        "commodity_category",
        "quantity",
        "unit",
        "status",
    ]
    list_filter = ["status", "commodity_category", "transport_mode", "operation"]
    search_fields = ["client_uuid", "commodity_description", "place", "reporting_country"]
    list_select_related = ["operation"]
    date_hierarchy = "seizure_date"
    # Seizures change through the services (validation, correction), never here.
    readonly_fields = [field.name for field in Seizure._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TransferRun)
class TransferRunAdmin(admin.ModelAdmin):
    list_display = [
        "operation",
        "state",
        "via",
        "queued_at",
        "finished_at",
        "sent",
        "inserted",
        "already_present",
        "left_behind",
    ]
    list_filter = ["state", "via"]
    search_fields = ["operation__code"]
    list_select_related = ["operation"]
    # A run changes through the transfer service only.
    readonly_fields = [field.name for field in TransferRun._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
