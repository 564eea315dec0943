"""The CEN schema proper: the checkpoint table and CenSeizure in the CEN vocabulary.

The first sketch of CenSeizure (0001) held no data (nothing could write it before
the transfer existed), so it is replaced rather than altered.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cen", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="CenIngestRun",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("run_id", models.BigIntegerField(unique=True, verbose_name="transfer run")),
                ("source_system", models.CharField(max_length=32, verbose_name="source system")),
                ("operation_code", models.CharField(max_length=64, verbose_name="operation code")),
                (
                    "last_seizure_pk",
                    models.BigIntegerField(default=0, verbose_name="last seizure sent"),
                ),
                (
                    "batches_done",
                    models.PositiveIntegerField(default=0, verbose_name="batches done"),
                ),
                ("rows_sent", models.PositiveIntegerField(default=0, verbose_name="rows sent")),
                (
                    "rows_inserted",
                    models.PositiveIntegerField(default=0, verbose_name="rows inserted"),
                ),
                (
                    "rows_already_present",
                    models.PositiveIntegerField(default=0, verbose_name="rows already present"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "verbose_name": "CEN ingest run",
                "verbose_name_plural": "CEN ingest runs",
                "ordering": ["-created_at"],
            },
        ),
        migrations.DeleteModel(name="CenSeizure"),
        migrations.CreateModel(
            name="CenSeizure",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("source_system", models.CharField(max_length=32, verbose_name="source system")),
                ("operation_code", models.CharField(max_length=64, verbose_name="operation code")),
                ("seizure_uuid", models.UUIDField(verbose_name="seizure uuid")),
                (
                    "mapping_version",
                    models.PositiveSmallIntegerField(verbose_name="mapping version"),
                ),
                (
                    "reporting_country",
                    models.CharField(max_length=2, verbose_name="reporting country"),
                ),
                ("seizure_date", models.DateField(verbose_name="date of seizure")),
                ("location_type", models.CharField(max_length=32, verbose_name="type of location")),
                ("place", models.CharField(max_length=200, verbose_name="place")),
                ("direction", models.CharField(max_length=16, verbose_name="direction")),
                (
                    "commodity_category",
                    models.CharField(max_length=32, verbose_name="commodity category"),
                ),
                (
                    "itr_section",
                    models.CharField(max_length=32, verbose_name="Illicit Trade Report section"),
                ),
                (
                    "commodity_description",
                    models.CharField(max_length=300, verbose_name="commodity description"),
                ),
                ("hs_code", models.CharField(max_length=10, null=True, verbose_name="HS code")),
                (
                    "quantity",
                    models.DecimalField(decimal_places=3, max_digits=16, verbose_name="quantity"),
                ),
                ("unit_code", models.CharField(max_length=8, verbose_name="unit")),
                (
                    "quantity_kg",
                    models.DecimalField(
                        decimal_places=6, max_digits=22, null=True, verbose_name="quantity in kg"
                    ),
                ),
                (
                    "estimated_value",
                    models.DecimalField(
                        decimal_places=2, max_digits=16, null=True, verbose_name="estimated value"
                    ),
                ),
                ("currency", models.CharField(max_length=3, null=True, verbose_name="currency")),
                (
                    "transport_mode",
                    models.CharField(max_length=32, verbose_name="means of transport"),
                ),
                (
                    "detection_method",
                    models.CharField(max_length=32, verbose_name="detection method"),
                ),
                (
                    "concealment_method",
                    models.CharField(max_length=32, null=True, verbose_name="concealment"),
                ),
                (
                    "departure_country",
                    models.CharField(max_length=2, null=True, verbose_name="country of departure"),
                ),
                (
                    "destination_country",
                    models.CharField(
                        max_length=2, null=True, verbose_name="country of destination"
                    ),
                ),
                (
                    "transit_countries",
                    models.JSONField(default=list, verbose_name="transit countries"),
                ),
                (
                    "offenders_count",
                    models.PositiveIntegerField(null=True, verbose_name="number of offenders"),
                ),
                ("content_hash", models.CharField(max_length=64, verbose_name="content hash")),
                (
                    "transferred_at",
                    models.DateTimeField(auto_now_add=True, verbose_name="transferred at"),
                ),
                (
                    "ingest_run",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="seizures",
                        to="cen.ceningestrun",
                        verbose_name="first delivered by",
                    ),
                ),
            ],
            options={
                "verbose_name": "CEN seizure",
                "verbose_name_plural": "CEN seizures",
                "ordering": ["-seizure_date", "operation_code"],
                "permissions": [("analyse", "Can analyse the seizures transferred to CEN")],
                "indexes": [
                    models.Index(fields=["operation_code"], name="cen_seizure_operation"),
                    models.Index(fields=["commodity_category"], name="cen_seizure_category"),
                    models.Index(fields=["reporting_country"], name="cen_seizure_country"),
                    models.Index(fields=["seizure_date"], name="cen_seizure_date"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("source_system", "operation_code", "seizure_uuid"),
                        name="cen_seizure_provenance_key",
                    )
                ],
            },
        ),
    ]
