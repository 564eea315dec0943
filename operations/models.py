from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.vocabularies import (
    CommodityCategory,
    Concealment,
    DetectionMethod,
    Direction,
    HandlingCode,
    LocationType,
    SeizureStatus,
    TransportMode,
    Unit,
)
from groups.models import Administration, ClosedUserGroup
from messaging.models import handling_code_field, handling_conditions_field


class Operation(models.Model):
    """A joint enforcement operation. It owns exactly one closed user group."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")
        TRANSFERRED = "transferred", pgettext_lazy("operation status", "Transferred")

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    commodity_focus = models.CharField(
        _("commodity focus"), max_length=32, choices=CommodityCategory.choices
    )
    coordinating_administration = models.ForeignKey(
        Administration,
        on_delete=models.PROTECT,
        related_name="coordinated_operations",
        verbose_name=_("coordinating administration"),
    )
    planned_start = models.DateField(_("planned start"))
    planned_end = models.DateField(_("planned end"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PLANNED
    )
    group = models.OneToOneField(
        ClosedUserGroup, on_delete=models.PROTECT, related_name="operation"
    )
    # Validated seizures go to CEN within a minute of their validation while the
    # operation is active, not only in the final transfer (docs/transfer.md).
    send_to_cen_continuously = models.BooleanField(
        _("send validated seizures to CEN during the operation"), default=False
    )
    # What the operation's messages, attachments and seizures carry unless their author
    # chooses another code (core/handling.py).
    default_handling_code = models.CharField(
        _("default handling code"),
        max_length=2,
        choices=HandlingCode.choices,
        default=HandlingCode.H0,
    )
    default_handling_conditions = models.CharField(
        _("default handling conditions"), max_length=200, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-planned_start", "code"]
        verbose_name = _("operation")
        verbose_name_plural = _("operations")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(planned_end__gte=models.F("planned_start")),
                name="operation_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class Seizure(models.Model):
    """A seizure reported on the simplified seizure form during an operation."""

    Status = SeizureStatus

    operation = models.ForeignKey(Operation, on_delete=models.PROTECT, related_name="seizures")
    # Made by the client (browser, offline queue, spreadsheet row, partner system):
    # the same uuid twice stores one seizure.
    client_uuid = models.UUIDField(unique=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reported_seizures"
    )
    reporting_administration = models.ForeignKey(
        Administration, on_delete=models.PROTECT, related_name="seizures"
    )
    reporting_country = models.CharField(_("reporting country"), max_length=2)
    seizure_date = models.DateField(_("date of seizure"))
    place = models.CharField(_("place"), max_length=200)
    location_type = models.CharField(
        _("type of location"), max_length=32, choices=LocationType.choices
    )
    transport_mode = models.CharField(
        _("means of transport"), max_length=32, choices=TransportMode.choices
    )
    detection_method = models.CharField(
        _("detection method"), max_length=32, choices=DetectionMethod.choices
    )
    commodity_category = models.CharField(
        _("commodity category"), max_length=32, choices=CommodityCategory.choices
    )
    commodity_description = models.CharField(_("commodity description"), max_length=300)
    hs_code = models.CharField(_("HS code"), max_length=10, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=16, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=16, choices=Unit.choices)
    estimated_value = models.DecimalField(
        _("estimated value"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    direction = models.CharField(_("direction"), max_length=16, choices=Direction.choices)
    departure_country = models.CharField(_("country of departure"), max_length=2, blank=True)
    destination_country = models.CharField(_("country of destination"), max_length=2, blank=True)
    transit_countries = models.JSONField(_("transit countries"), default=list, blank=True)
    concealment = models.CharField(
        _("concealment"), max_length=32, choices=Concealment.choices, blank=True
    )
    concealment_details = models.CharField(_("concealment details"), max_length=500, blank=True)
    offenders_count = models.PositiveIntegerField(_("number of offenders"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED
    )
    rejection_reason = models.CharField(_("reason for rejection"), max_length=500, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    message = models.OneToOneField(
        "messaging.Message", on_delete=models.PROTECT, null=True, blank=True, related_name="seizure"
    )
    handling_code = handling_code_field()
    handling_conditions = handling_conditions_field()
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("seizure")
        verbose_name_plural = _("seizures")
        ordering = ["-seizure_date", "-created_at"]
        indexes = [
            models.Index(fields=["operation", "status"], name="seizure_operation_status"),
            models.Index(fields=["operation", "seizure_date"], name="seizure_operation_date"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="seizure_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["submitted", "validated", "rejected"]),
                name="seizure_status_is_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operation_id}/{self.client_uuid}"

    def as_card(self) -> dict:
        """What the live alert card shows: enough to act on at the next border."""
        return {
            "uuid": str(self.client_uuid),
            "status": self.status,
            "seizure_date": self.seizure_date.isoformat(),
            "reporting_country": self.reporting_country,
            "commodity_category": self.commodity_category,
            "commodity_description": self.commodity_description,
            "quantity": format(self.quantity.normalize(), "f"),
            "unit": self.unit,
            "place": self.place,
            "location_type": self.location_type,
            "transport_mode": self.transport_mode,
            "detection_method": self.detection_method,
            "direction": self.direction,
            "departure_country": self.departure_country,
            "destination_country": self.destination_country,
            "transit_countries": self.transit_countries,
            "rejection_reason": self.rejection_reason,
            "handling_code": self.handling_code,
            "handling_conditions": self.handling_conditions,
            "released": self.released_at is not None,
        }


class TransferRun(models.Model):
    """One end-of-operation transfer to CEN: its state, counts and report.

    The exactly-once effect does not live here but in the CEN database (the
    provenance key and the checkpoint, operations/cen/models.py): these counts are
    a mirror of the CEN checkpoint, refreshed after each batch commits there.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        RECONCILED = "reconciled", _("Reconciled")
        FAILED = "failed", _("Failed")

    class Via(models.TextChoices):
        WEB = "web", _("Operation page")
        API = "api", _("REST API")
        COMMAND = "command", _("Command line")
        # Queued by validations in an operation that sends to CEN as it goes: such a
        # run never marks the operation transferred.
        CONTINUOUS = "continuous", _("Sent as validated")

    ACTIVE_STATES = (State.QUEUED, State.RUNNING)

    operation = models.ForeignKey(Operation, on_delete=models.PROTECT, related_name="transfer_runs")
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED)
    via = models.CharField(_("started from"), max_length=16, choices=Via.choices)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    queued_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Who is running it ("host:pid") and when it last showed progress: a run whose
    # process is gone is resumed by the next start instead of blocking it forever.
    worker = models.CharField(_("worker"), max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    validated = models.PositiveIntegerField(_("validated seizures"), default=0)
    sent = models.PositiveIntegerField(_("sent"), default=0)
    inserted = models.PositiveIntegerField(_("inserted"), default=0)
    already_present = models.PositiveIntegerField(_("already present"), default=0)
    # In CEN already, but corrected since: rewritten with their new content hash.
    updated = models.PositiveIntegerField(_("updated"), default=0)
    # In CEN, but no longer validated here: removed from CEN.
    withdrawn = models.PositiveIntegerField(_("withdrawn"), default=0)
    # A seizure was validated while this run was running: queue another when it ends.
    rerun_requested = models.BooleanField(default=False)
    left_behind = models.PositiveIntegerField(_("left behind"), default=0)
    batches_done = models.PositiveIntegerField(_("batches done"), default=0)
    rows_per_second = models.FloatField(_("rows per second"), default=0)
    report = models.JSONField(_("report"), default=dict, blank=True)

    class Meta:
        verbose_name = _("transfer run")
        verbose_name_plural = _("transfer runs")
        ordering = ["-queued_at", "-id"]
        constraints = [
            # Only one run per operation at a time, whatever door started it.
            models.UniqueConstraint(
                fields=["operation"],
                condition=models.Q(state__in=["queued", "running"]),
                name="one_active_transfer_per_operation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operation_id} transfer #{self.pk} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES
