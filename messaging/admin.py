from django.contrib import admin

from .models import Attachment, Message, Receipt, SearchEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    """Messages and receipts are a record: they are read here, never edited."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["group", "seq", "kind", "author", "created_at", "retracted_at"]
    list_filter = ["kind", ("retracted_at", admin.EmptyFieldListFilter)]
    search_fields = ["group__slug", "author__username", "client_id"]
    list_select_related = ["group", "author"]
    exclude = ["body", "html"]  # content stays in the group; the admin shows the record


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ["original_name", "group", "uploaded_by", "content_type", "size", "created_at"]
    list_filter = ["content_type"]
    search_fields = ["original_name", "group__slug", "uploaded_by__username", "sha256"]
    list_select_related = ["group", "uploaded_by"]
    exclude = ["token", "file"]


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ["message", "user", "read_at", "acknowledged_at"]
    search_fields = ["user__username", "message__group__slug"]
    list_select_related = ["message", "user"]


@admin.register(SearchEntry)
class SearchEntryAdmin(ReadOnlyAdmin):
    """The search index's entry of a message, kept by the posting services."""

    list_display = ("message", "group", "author", "kind", "created_at")
    list_select_related = ("group", "author")
    fields = ("message", "group", "author", "administration", "kind", "created_at", "text")
