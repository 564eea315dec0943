"""The transfer's web doors: the button, the live status, the report download."""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.audit import Action, audit_record

from .models import Operation, TransferRun
from .selectors import access_operation
from .transfer import cen_transfer_start
from .transfer_selectors import (
    cen_standing,
    has_something_to_send,
    pending_review,
    report_rows,
    run_data,
    standing_text,
    transfer_run_for,
    transfer_runs,
    transfer_summary,
    waiting_for_worker,
    worker_notice,
)


@login_required
@require_http_methods(["GET", "POST"])
def transfer_start(request: HttpRequest, code: str) -> HttpResponse:
    """GET: what goes, what stays behind, by administration; POST: queue the run."""
    access = access_operation(request.user, code)
    if request.method == "GET":
        if not access.is_coordinator:
            raise PermissionDenied(_("Only the operation's coordinators may do this."))
        operation = access.operation
        standing = cen_standing(operation=operation)
        return render(
            request,
            "operations/confirm.html",
            {
                "access": access,
                "operation": operation,
                "group": operation.group,
                "step": "transfer",
                "possible": has_something_to_send(operation=operation, standing=standing)
                and not TransferRun.objects.filter(
                    operation=operation, state__in=TransferRun.ACTIVE_STATES
                ).exists(),
                "pending": pending_review(operation=operation),
                "standing": standing,
                "follow_up": operation.status == Operation.Status.TRANSFERRED,
            },
        )
    try:
        run = cen_transfer_start(
            operation=access.operation, actor=request.user, via=TransferRun.Via.WEB
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("The transfer to CEN is queued (run #%(run)s); its progress shows below.")
            % {"run": run.pk},
        )
    return redirect("operations:detail", code=access.operation.code)


@login_required
@require_GET
def transfer_status(request: HttpRequest, code: str) -> JsonResponse:
    """Every member sees the runs' progress; coordinators also get the reports."""
    access = access_operation(request.user, code)
    operation = access.operation
    runs = []
    listed = list(transfer_runs(operation=operation))
    for run in listed:
        run.operation = operation
        item = {
            **run_data(run),
            "state_label": run.get_state_display(),
            "via_label": run.get_via_display(),
            "summary": transfer_summary(run),
        }
        if access.is_coordinator:
            item["report_url"] = reverse(
                "operations:transfer_report", kwargs={"code": operation.code, "run_id": run.pk}
            )
        runs.append(item)
    waiting = next((run for run in listed if waiting_for_worker(run)), None)
    standing = cen_standing(operation=operation)
    active = any(run["state"] in TransferRun.ACTIVE_STATES for run in runs)
    return JsonResponse(
        {
            "operation": operation.code,
            "status": operation.status,
            "active": active,
            "runs": runs,
            "waiting_for_worker": waiting is not None,
            "worker_notice": worker_notice(waiting) if waiting else "",
            **standing,
            "standing": standing_text(operation=operation, standing=standing),
            "can_start": access.is_coordinator
            and not active
            and has_something_to_send(operation=operation, standing=standing),
        }
    )


class _Echo:
    def write(self, value):
        return value


@login_required
@require_GET
def transfer_report(request: HttpRequest, code: str, run_id: int) -> HttpResponse:
    access = access_operation(request.user, code)
    if not access.is_coordinator:
        raise PermissionDenied(_("Transfer reports are for the operation's coordinators."))
    run = transfer_run_for(operation=access.operation, run_id=run_id)
    writer = csv.writer(_Echo())
    body = "".join(writer.writerow(row) for row in report_rows(run))
    audit_record(
        actor=request.user,
        action=Action.SEIZURES_EXPORTED,
        group=access.operation.group,
        target=access.operation.code,
        data={"transfer_report": run.pk},
    )
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="cen-transfer-{access.operation.code}-{run.pk}.csv"'
    )
    return response
