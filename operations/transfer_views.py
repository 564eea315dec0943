"""The transfer's web doors: the button, the live status, the report download."""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cencomm.audit import Action, audit_record

from .models import TransferRun
from .selectors import access_operation
from .transfer import cen_transfer_start
from .transfer_selectors import (
    report_rows,
    run_data,
    transfer_run_for,
    transfer_runs,
    transfer_summary,
)


@login_required
@require_POST
def transfer_start(request: HttpRequest, code: str) -> HttpResponse:
    access = access_operation(request.user, code)
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
    for run in transfer_runs(operation=operation):
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
    return JsonResponse(
        {
            "operation": operation.code,
            "status": operation.status,
            "active": any(run["state"] in TransferRun.ACTIVE_STATES for run in runs),
            "runs": runs,
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
