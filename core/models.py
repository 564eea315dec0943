from django.conf import settings
from django.db import models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .audit_chain import chain_seal


class AuditQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        """Sealed into the hash chain, like every insert of the trail."""
        objs = list(objs)
        if not objs:
            return objs
        with transaction.atomic(using=self.db, savepoint=False):
            chain_seal(objs, using=self.db)
            return super().bulk_create(objs, *args, **kwargs)


class AuditEntry(models.Model):
    """One line of the audit trail. Append-only: the app never updates or deletes one,
    and on PostgreSQL a trigger refuses it (migration 0002). Each line carries the hash
    of the one before (core/audit_chain.py), so a change made behind the app's back
    shows (``manage.py audit_verify``)."""

    # Sealed into the hash chain whenever rows are inserted (save, core.bulk).
    CHAINED = True

    class Action(models.TextChoices):
        LOGIN = "login", _("Logged in")
        LOGIN_FAILED = "login_failed", _("Failed login")
        LOGOUT = "logout", _("Logged out")
        MEMBER_ADDED = "member_added", _("Member added")
        MEMBER_REMOVED = "member_removed", _("Member removed")
        MEMBER_ROLE = "member_role", _("Member's role changed")
        MESSAGE_POSTED = "message_posted", _("Message posted")
        MESSAGE_RETRACTED = "message_retracted", _("Message retracted")
        ATTACHMENT_DOWNLOADED = "attachment_downloaded", _("Attachment downloaded")
        SEIZURE_REPORTED = "seizure_reported", _("Seizure reported")
        SEIZURE_VALIDATED = "seizure_validated", _("Seizure validated")
        SEIZURE_REJECTED = "seizure_rejected", _("Seizure rejected")
        SEIZURE_CORRECTED = "seizure_corrected", _("Seizure corrected")
        SEIZURE_REVIEW_UNDONE = "seizure_review_undone", _("Seizure review undone")
        SEIZURES_IMPORTED = "seizures_imported", _("Seizures imported")
        SEIZURES_EXPORTED = "seizures_exported", _("Seizures exported")
        OPERATION_CREATED = "operation_created", _("Operation created")
        OPERATION_CODE_REFUSED = "operation_code_refused", _("Operation code refused")
        OPERATION_STATUS = "operation_status", _("Operation status changed")
        TRANSFER_STARTED = "transfer_started", _("Transfer started")
        TRANSFER_FINISHED = "transfer_finished", _("Transfer finished")
        AUDIT_EXPORTED = "audit_exported", _("Audit trail exported")
        REPORT_DOWNLOADED = "report_downloaded", _("Operation report downloaded")
        SESSION_ENDED = "session_ended", _("Session ended")
        TWO_FACTOR = "two_factor", _("Two-factor settings changed")
        LOCKOUT = "lockout", _("Account locked out")
        UNLOCK = "unlock", _("Lockout lifted")
        ACCESS_REFUSED = "access_refused", _("Access refused")
        ACCOUNT_DEACTIVATED = "account_deactivated", _("Account deactivated")
        HANDLING_CHANGED = "handling_changed", _("Handling code changed")
        ITEM_RELEASED = "item_released", _("Item released outside the operation")
        MESSAGES_EXPORTED = "messages_exported", _("Messages exported")

    # Set when the entry is made, not when it is inserted: the hash covers it.
    at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Kept as text too: the trail must read the same even if an account is renamed.
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    group = models.ForeignKey(
        "groups.ClosedUserGroup", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    target = models.CharField(max_length=200, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    # Identifiers and counts only: never message text or seizure details.
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    hash = models.CharField(max_length=64, blank=True, editable=False)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["group", "at"], name="audit_group_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.target}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("The audit trail is append-only.")
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            chain_seal([self], using=using)
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit trail is append-only.")
