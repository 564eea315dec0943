from django.contrib import admin

from .models import CenIngestRun, CenSeizure


class ReadOnlyAdmin(admin.ModelAdmin):
    """The CEN database is written by the transfer only, never by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CenSeizure)
class CenSeizureAdmin(ReadOnlyAdmin):
    list_display = [
        "operation_code",
        "seizure_date",
        "reporting_country",
        "commodity_category",
        "quantity",
        "unit_code",
        "transferred_at",
    ]
    list_filter = ["source_system", "commodity_category", "transport_mode"]
    search_fields = ["operation_code", "reporting_country"]


@admin.register(CenIngestRun)
class CenIngestRunAdmin(ReadOnlyAdmin):
    list_display = [
        "operation_code",
        "run_id",
        "batches_done",
        "rows_sent",
        "rows_inserted",
        "rows_already_present",
        "updated_at",
    ]
    search_fields = ["operation_code"]
