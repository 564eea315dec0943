"""The seizure lists in a transfer run's report: what stayed behind, what this run delivered.

Each list keeps at most ``REPORT_LIST_LIMIT`` seizures; the counts beside it are always
complete. The operation page and the run's CSV read them back from ``TransferRun.report``
(``operations/transfer_selectors.py``).
"""

from .cen.models import CenIngestRun, CenSeizure
from .models import Operation, Seizure

CEN = "cen"
REPORT_LIST_LIMIT = 10_000


def left_behind(operation: Operation) -> dict:
    """The seizures that do not go, and why: the coordinator acts on them, even after the
    transfer, and a follow-up transfer sends what was validated since."""
    queryset = (
        Seizure.objects.filter(operation=operation)
        .exclude(status=Seizure.Status.VALIDATED)
        .order_by("seizure_date", "pk")
    )
    seizures = [
        {
            "uuid": str(row["client_uuid"]),
            "status": row["status"],
            "reason": row["rejection_reason"],
            "seizure_date": row["seizure_date"].isoformat(),
            "reporting_country": row["reporting_country"],
            "commodity_category": row["commodity_category"],
        }
        for row in queryset.values(
            "client_uuid",
            "status",
            "rejection_reason",
            "seizure_date",
            "reporting_country",
            "commodity_category",
        )[:REPORT_LIST_LIMIT]
    ]
    by_status = {status: 0 for status in Seizure.Status.values if status != "validated"}
    for status in queryset.values_list("status", flat=True):
        by_status[status] += 1
    return {"count": sum(by_status.values()), "by_status": by_status, "seizures": seizures}


def delivered(checkpoint: CenIngestRun) -> dict:
    """What this run itself brought into CEN, read back from CEN: a follow-up run lists
    only the seizures validated since, however often it was killed and resumed."""
    rows = CenSeizure.objects.using(CEN).filter(ingest_run=checkpoint)
    seizures = [
        {
            "uuid": str(row["seizure_uuid"]),
            "seizure_date": row["seizure_date"].isoformat(),
            "reporting_country": row["reporting_country"],
            "commodity_category": row["commodity_category"],
        }
        for row in rows.order_by("seizure_date", "seizure_uuid").values(
            "seizure_uuid", "seizure_date", "reporting_country", "commodity_category"
        )[:REPORT_LIST_LIMIT]
    ]
    return {"count": rows.count(), "seizures": seizures}
