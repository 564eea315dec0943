"""The operation page's transfer panel and data-quality table, with their own data.

Inclusion tags keep the operation page's view as it is: each panel asks the
transfer selectors for what it shows.
"""

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from operations.cen.mapping import cen_label
from operations.models import Operation, TransferRun
from operations.transfer_selectors import (
    cen_standing,
    data_quality,
    has_something_to_send,
    optional_field_labels,
    standing_text,
    transfer_runs,
    transfer_summary,
    waiting_for_worker,
    worker_notice,
)

register = template.Library()

TRANSFERABLE = (Operation.Status.CLOSED, Operation.Status.TRANSFERRED)
# The stylesheet's existing badges, by run state (static/js/transfer.js has the same).
BADGE = {
    TransferRun.State.QUEUED: "badge-status-planned",
    TransferRun.State.RUNNING: "badge-status-active",
    TransferRun.State.RECONCILED: "badge-status-transferred",
    TransferRun.State.FAILED: "badge-seizure-rejected",
}


def _client_strings() -> dict[str, str]:
    return {
        "progress": _(
            "%(batches)s batches · %(sent)s of %(validated)s validated seizures sent · %(inserted)s inserted · %(present)s already present · %(rate)s seizures/s"
        ),
        "report": _("Report (CSV)"),
        "transfer": _("Transfer to CEN"),
        "follow_up": _("Follow-up transfer to CEN"),
        "none": _("No transfer yet."),
        "online": _("Live"),
        "connecting": _("Connecting…"),
        "offline": _("Offline — reconnecting"),
    }


@register.inclusion_tag("operations/_transfer_panel.html", takes_context=True)
def transfer_panel(context) -> dict:
    access = context["access"]
    operation = access.operation
    runs = list(transfer_runs(operation=operation))
    for run in runs:
        run.operation = operation
        run.summary = transfer_summary(run)
        run.badge = BADGE.get(run.state, "")
    active = next((run for run in runs if run.state in TransferRun.ACTIVE_STATES), None)
    standing = cen_standing(operation=operation)
    return {
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "access": access,
        "operation": operation,
        "shown": operation.status in TRANSFERABLE
        or operation.send_to_cen_continuously
        or bool(runs),
        "can_start": access.is_coordinator
        and active is None
        and has_something_to_send(operation=operation, standing=standing),
        "follow_up": operation.status == Operation.Status.TRANSFERRED,
        "runs": runs,
        "active": active,
        "worker_notice": worker_notice(active) if active and waiting_for_worker(active) else "",
        "standing": standing,
        "standing_text": standing_text(operation=operation, standing=standing),
        "transfer_config": {
            "statusUrl": reverse("operations:transfer_status", kwargs={"code": operation.code}),
            "startUrl": reverse("operations:transfer_start", kwargs={"code": operation.code}),
            "group": operation.group.slug,
            "cursor": operation.group.last_seq,
            "strings": _client_strings(),
        },
    }


@register.inclusion_tag("operations/_data_quality.html", takes_context=True)
def data_quality_panel(context) -> dict:
    access = context["access"]
    if not access.is_coordinator:
        return {"shown": False}
    quality = data_quality(operation=access.operation)
    labels = optional_field_labels()
    return {
        "shown": True,
        "rows": quality["administrations"],
        "fields": [(name, labels[name]) for name in quality["fields"]],
    }


@register.filter
def completeness_of(row: dict, field: str):
    return row["completeness"].get(field, "")


@register.filter
def cen_code_label(code: str, column: str) -> str:
    """``{{ seizure.transport_mode|cen_code_label:"transport_mode" }}`` on the analyst page."""
    return cen_label(column, code)
