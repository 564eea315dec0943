from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.vocabularies import (
    HANDLING_CONDITIONS_MAX_LENGTH,
    HandlingCode,
    InformationGrading,
    SourceGrading,
)
from groups.models import ClosedUserGroup


def handling_code_field():
    return models.CharField(
        _("handling code"), max_length=2, choices=HandlingCode.choices, default=HandlingCode.H0
    )


def handling_conditions_field():
    return models.CharField(
        _("handling conditions"), max_length=HANDLING_CONDITIONS_MAX_LENGTH, blank=True
    )


class Message(models.Model):
    """A message in a group. Never deleted: the author may retract it."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Message")
        ALERT = "alert", _("Alert")
        REQUEST = "request", _("Request")
        REPLY = "reply", pgettext_lazy("message kind", "Reply")
        NOTICE = "notice", _("Notice")
        SEIZURE = "seizure", _("Seizure")

    group = models.ForeignKey(ClosedUserGroup, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveBigIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="messages", null=True
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TEXT)
    reply_to = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replies"
    )
    client_id = models.UUIDField()
    body = models.TextField()
    html = models.TextField()
    render_version = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    retracted_at = models.DateTimeField(null=True, blank=True)
    handling_code = handling_code_field()
    handling_conditions = handling_conditions_field()
    source_grading = models.CharField(
        _("source grading"), max_length=1, choices=SourceGrading.choices, blank=True
    )
    information_grading = models.CharField(
        _("information grading"), max_length=1, choices=InformationGrading.choices, blank=True
    )
    # An H2 message leaves the group (exports, national systems) once the author's
    # administration, or a coordinator, releases it.
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(fields=["group", "seq"], name="one_message_per_group_seq"),
            models.UniqueConstraint(
                fields=["author", "client_id"], name="one_message_per_author_client_id"
            ),
        ]
        ordering = ["group", "seq"]

    def __str__(self) -> str:
        return f"{self.group_id}#{self.seq}"

    @property
    def is_retracted(self) -> bool:
        return self.retracted_at is not None

    @property
    def needs_acknowledgement(self) -> bool:
        return self.kind in (self.Kind.ALERT, self.Kind.REQUEST)


class Attachment(models.Model):
    message = models.ForeignKey(
        Message, on_delete=models.PROTECT, related_name="attachments", null=True, blank=True
    )
    group = models.ForeignKey(ClosedUserGroup, on_delete=models.CASCADE, related_name="+")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    token = models.CharField(max_length=43, unique=True)
    file = models.FileField(upload_to="attachments/%Y/%m/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    handling_code = handling_code_field()
    handling_conditions = handling_conditions_field()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name


class Receipt(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="receipts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        constraints = [
            models.UniqueConstraint(fields=["message", "user"], name="one_receipt_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.message_id}"


class SearchEntry(models.Model):
    """What search reads for one message (messaging/search.py): its text, its
    attachments' names and, for a seizure's announcement, the seizure's fields; with
    the filters beside them. A retracted message has none.

    On PostgreSQL the table also has a ``search_vector`` column that the database
    generates from ``text`` (a migration adds it, with its indexes); on SQLite the
    ``messaging_search_fts`` FTS5 table holds the words, written beside each entry.
    """

    message = models.OneToOneField(
        Message, on_delete=models.CASCADE, primary_key=True, related_name="search_entry"
    )
    group = models.ForeignKey(ClosedUserGroup, on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    administration = models.ForeignKey(
        "groups.Administration", on_delete=models.PROTECT, null=True, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Message.Kind.choices)
    created_at = models.DateTimeField()
    text = models.TextField()

    class Meta:
        verbose_name = _("search entry")
        verbose_name_plural = _("search entries")
        indexes = [
            models.Index(fields=["group", "created_at"], name="search_entry_group_time"),
            # The newest first across many groups (a coordinator's, staff's search).
            models.Index(fields=["created_at"], name="search_entry_time"),
        ]

    def __str__(self) -> str:
        return f"search entry of {self.message_id}"
