from django.db import models


class CenSeizure(models.Model):
    """A seizure in the permanent CEN database, in the CEN vocabulary.

    The provenance key (source system, operation code, seizure uuid) is unique:
    a record can arrive only once, whatever happens to the run that sends it.
    """

    source_system = models.CharField(max_length=32)
    operation_code = models.CharField(max_length=64)
    seizure_uuid = models.UUIDField()
    content_hash = models.CharField(max_length=64)
    transferred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source_system", "operation_code", "seizure_uuid"],
                name="cen_seizure_provenance_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operation_code}/{self.seizure_uuid}"
