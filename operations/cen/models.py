"""The CEN schema: its own app label (`cen`), routed to the `cen` database alias.

Nothing here points at the platform database: the two never share a transaction,
so a CEN row carries what it needs in its own columns (the operation's code, the
seizure's uuid), and the transfer's checkpoint lives here, next to the rows it
counts. docs/cen-mapping.md says field by field where each column comes from.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CenIngestRun(models.Model):
    """The CEN side of one transfer run: its checkpoint.

    Written in the same CEN transaction as each batch of seizures, so it can never
    say a batch arrived that did not, nor miss one that did. A run that is killed
    and started again resumes after ``last_seizure_pk``.
    """

    # The platform's TransferRun id; no foreign key can cross the two databases.
    run_id = models.BigIntegerField(_("transfer run"), unique=True)
    source_system = models.CharField(_("source system"), max_length=32)
    operation_code = models.CharField(_("operation code"), max_length=64)
    # The highest platform seizure id already sent: batches go in id order.
    last_seizure_pk = models.BigIntegerField(_("last seizure sent"), default=0)
    batches_done = models.PositiveIntegerField(_("batches done"), default=0)
    rows_sent = models.PositiveIntegerField(_("rows sent"), default=0)
    rows_inserted = models.PositiveIntegerField(_("rows inserted"), default=0)
    rows_already_present = models.PositiveIntegerField(_("rows already present"), default=0)
    rows_updated = models.PositiveIntegerField(_("rows updated"), default=0)
    rows_withdrawn = models.PositiveIntegerField(_("rows withdrawn"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("CEN ingest run")
        verbose_name_plural = _("CEN ingest runs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.operation_code} run {self.run_id}"


class CenSeizure(models.Model):
    """A seizure in the permanent CEN database, in the CEN vocabulary. Non-nominal.

    The provenance key (source system, operation code, seizure uuid) is unique: a
    record can arrive only once, whatever happens to the run that sends it.
    ``content_hash`` is the sha256 of the record's mapped fields in canonical JSON
    (operations/cen/mapping.py), so reconciliation can tell that CEN holds exactly
    what was sent.
    """

    # Provenance key.
    source_system = models.CharField(_("source system"), max_length=32)
    operation_code = models.CharField(_("operation code"), max_length=64)
    seizure_uuid = models.UUIDField(_("seizure uuid"))
    mapping_version = models.PositiveSmallIntegerField(_("mapping version"))

    # Where and when (ISO 3166-1 alpha-2 countries).
    reporting_country = models.CharField(_("reporting country"), max_length=2)
    seizure_date = models.DateField(_("date of seizure"))
    location_type = models.CharField(_("type of location"), max_length=32)
    place = models.CharField(_("place"), max_length=200)
    direction = models.CharField(_("direction"), max_length=16)

    # What.
    commodity_category = models.CharField(_("commodity category"), max_length=32)
    itr_section = models.CharField(_("Illicit Trade Report section"), max_length=32)
    commodity_description = models.CharField(_("commodity description"), max_length=300)
    hs_code = models.CharField(_("HS code"), max_length=10, null=True)
    quantity = models.DecimalField(_("quantity"), max_digits=16, decimal_places=3)
    # UN/ECE Recommendation 20 codes, plus STICKS for cigarettes (docs/cen-mapping.md).
    unit_code = models.CharField(_("unit"), max_length=8)
    # The quantity in kilograms when it was given as a mass, for totals across units.
    quantity_kg = models.DecimalField(
        _("quantity in kg"), max_digits=22, decimal_places=6, null=True
    )
    estimated_value = models.DecimalField(
        _("estimated value"), max_digits=16, decimal_places=2, null=True
    )
    currency = models.CharField(_("currency"), max_length=3, null=True)

    # How.
    transport_mode = models.CharField(_("means of transport"), max_length=32)
    detection_method = models.CharField(_("detection method"), max_length=32)
    concealment_method = models.CharField(_("concealment"), max_length=32, null=True)

    # Route.
    departure_country = models.CharField(_("country of departure"), max_length=2, null=True)
    destination_country = models.CharField(_("country of destination"), max_length=2, null=True)
    transit_countries = models.JSONField(_("transit countries"), default=list)

    # A count, never a person.
    offenders_count = models.PositiveIntegerField(_("number of offenders"), null=True)

    content_hash = models.CharField(_("content hash"), max_length=64)
    ingest_run = models.ForeignKey(
        CenIngestRun,
        on_delete=models.PROTECT,
        null=True,
        related_name="seizures",
        verbose_name=_("first delivered by"),
    )
    transferred_at = models.DateTimeField(_("transferred at"), auto_now_add=True)
    # When the record last arrived or changed: a seizure corrected after it reached CEN
    # is rewritten, its content hash new, and this moves.
    last_changed_at = models.DateTimeField(_("last changed at"), null=True)

    class Meta:
        verbose_name = _("CEN seizure")
        verbose_name_plural = _("CEN seizures")
        ordering = ["-seizure_date", "operation_code"]
        permissions = [("analyse", _("Can analyse the seizures transferred to CEN"))]
        constraints = [
            models.UniqueConstraint(
                fields=["source_system", "operation_code", "seizure_uuid"],
                name="cen_seizure_provenance_key",
            ),
        ]
        indexes = [
            models.Index(fields=["operation_code"], name="cen_seizure_operation"),
            models.Index(fields=["commodity_category"], name="cen_seizure_category"),
            models.Index(fields=["reporting_country"], name="cen_seizure_country"),
            models.Index(fields=["seizure_date"], name="cen_seizure_date"),
        ]

    def __str__(self) -> str:
        return f"{self.operation_code}/{self.seizure_uuid}"
