"""The end-of-operation report: what it says, who may have it, and its PDF.

The page and the PDF are one template (operations/report.html); only the layout
around it differs. Charts and routes count the seizures that were not rejected,
as the dashboard does; the list at the end holds the validated ones, which are
what goes to CEN.
"""

from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import Action, audit_record
from core.errors import Forbidden
from core.vocabularies import VOCABULARIES

from .countries import country_name
from .handling import seizures_leaving_group
from .models import Operation, Seizure
from .report_pdf import html_to_pdf
from .selectors import OperationAccess, access_operation, dashboard_totals
from .transfer_selectors import (
    data_quality,
    optional_field_labels,
    transfer_runs,
    transfer_summary,
)

# Past this many routes the table ends with one line for the rest: an operation with a
# hundred reporting countries has routes by the hundred, and the report is read on paper.
ROUTES_SHOWN = 25


def report_access(user, code: str) -> OperationAccess:
    """The operation's coordinators and staff; members and observers are told why,
    anyone else gets the 404 of a missing operation."""
    access = access_operation(user, code)
    if not access.is_coordinator:
        raise Forbidden(_("The operation's report is for its coordinators."))
    return access


def _labelled(rows: list[dict], labels: dict[str, str]) -> list[dict]:
    return [{**row, "label": labels.get(row["key"], row["key"]) or "—"} for row in rows]


def _routes(operation: Operation) -> dict:
    rows = list(
        Seizure.objects.filter(operation=operation)
        .exclude(status=Seizure.Status.REJECTED)
        .values("departure_country", "destination_country")
        .annotate(
            total=Count("id"),
            validated=Count("id", filter=Q(status=Seizure.Status.VALIDATED)),
        )
        .order_by("-total", "departure_country", "destination_country")
    )
    for row in rows:
        row["departure"] = country_name(row["departure_country"]) or _("unknown")
        row["destination"] = country_name(row["destination_country"]) or _("unknown")
    rest = rows[ROUTES_SHOWN:]
    return {
        "shown": rows[:ROUTES_SHOWN],
        "other_routes": len(rest),
        "other_seizures": sum(row["total"] for row in rest),
    }


def operation_report(*, operation: Operation) -> dict:
    """Everything the report shows, in the current language."""
    totals = dashboard_totals(operation=operation)
    status = totals["status"]
    categories = dict(VOCABULARIES["commodity_category"].choices)
    units = dict(VOCABULARIES["unit"].choices)
    transports = dict(VOCABULARIES["transport_mode"].choices)
    countries = {row["key"]: country_name(row["key"]) for row in totals["by_country"]}
    days = {row["key"]: row["key"][5:] for row in totals["by_day"]}

    quality = data_quality(operation=operation)
    labels = optional_field_labels()
    runs = list(transfer_runs(operation=operation))
    for run in runs:
        run.operation = operation
        run.summary = transfer_summary(run)

    validated = Seizure.objects.filter(operation=operation, status=Seizure.Status.VALIDATED)
    # The report leaves the group (a PDF is passed on): unreleased H2 seizures stay out.
    seizures = (
        seizures_leaving_group(validated)
        .select_related("reporting_administration")
        .order_by("seizure_date", "reporting_country", "created_at")
    )
    return {
        "operation": operation,
        "generated_at": timezone.now(),
        "totals": {
            "reported": sum(status.values()),
            "validated": status[Seizure.Status.VALIDATED],
            "submitted": status[Seizure.Status.SUBMITTED],
            "rejected": status[Seizure.Status.REJECTED],
            "countries": len(totals["by_country"]),
            "administrations": len(quality["administrations"]),
        },
        "quantities": [
            {
                "category": categories.get(row["category"], row["category"]),
                "unit": units.get(row["unit"], row["unit"]),
                "quantity": row["quantity"],
            }
            for row in totals["quantities"]
        ],
        "by_category": _labelled(totals["by_category"], categories),
        "by_country": _labelled(totals["by_country"], countries),
        "by_transport": _labelled(totals["by_transport"], transports),
        "by_day": _labelled(totals["by_day"], days),
        "routes": _routes(operation),
        "quality_rows": quality["administrations"],
        "quality_fields": [(name, labels[name]) for name in quality["fields"]],
        "transfers": runs,
        "seizures": seizures,
        "seizures_kept": validated.count() - seizures.count(),
    }


def operation_report_pdf(*, operation: Operation, actor) -> bytes:
    """The report as PDF, in the current language; the download is audited."""
    html = render_to_string(
        "operations/report.html",
        {**operation_report(operation=operation), "layout": "operations/report_document.html"},
    )
    pdf = html_to_pdf(html)
    audit_record(
        actor=actor,
        action=Action.REPORT_DOWNLOADED,
        group=operation.group,
        target=operation.code,
        data={"bytes": len(pdf)},
    )
    return pdf
