"""The spreadsheet doors: template, upload, export. Thin: the work is operations.spreadsheets."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from . import spreadsheets
from .selectors import access_operation

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def template(request: HttpRequest, code: str) -> HttpResponse:
    operation = access_operation(request.user, code).operation
    return _download(
        spreadsheets.template_workbook(operation=operation),
        XLSX,
        f"cencomm-{operation.code}-template.xlsx",
    )


@login_required
def import_page(request: HttpRequest, code: str) -> HttpResponse:
    access = access_operation(request.user, code, need="post")
    operation = access.operation
    context = {
        "access": access,
        "operation": operation,
        "group": operation.group,
        "report": None,
        "error": "",
    }
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise spreadsheets.SpreadsheetError(_("Choose a file."))
            if upload.size > settings.SPREADSHEET_MAX_BYTES:
                raise spreadsheets.SpreadsheetError(_("The file is too large."))
            report = spreadsheets.seizures_import(
                reporter=request.user, operation=operation, data=upload.read()
            )
        except PermissionDenied as error:
            context["error"] = str(error)
            status = 403
        except ValidationError as error:
            context["error"] = " ".join(error.messages)
            status = 400
        else:
            if report.ok:
                messages.success(
                    request,
                    _(
                        "%(created)d seizures imported, %(updated)d corrected, "
                        "%(already)d already imported."
                    )
                    % {
                        "created": report.created,
                        "updated": report.updated,
                        "already": report.already_there,
                    },
                )
                if report.warnings:
                    rows = ", ".join(str(row) for row, _column, _text in report.warnings[:20])
                    messages.warning(
                        request,
                        _(
                            "Rows without an id were recognised by their content (rows "
                            "%(rows)s%(more)s). Keep the template's ids, or continue from the "
                            "export, so that a corrected row is recognised."
                        )
                        % {"rows": rows, "more": "…" if len(report.warnings) > 20 else ""},
                    )
                return redirect("operations:seizures", code=operation.code)
            context["report"] = report
            status = 400
    return render(request, "operations/import.html", context, status=status)


@login_required
@require_GET
def export_csv(request: HttpRequest, code: str) -> HttpResponse:
    operation = access_operation(request.user, code).operation
    content = spreadsheets.export_csv(operation=operation, actor=request.user)
    return _download(content, "text/csv; charset=utf-8", f"cencomm-{operation.code}-seizures.csv")


@login_required
@require_GET
def export_xlsx(request: HttpRequest, code: str) -> HttpResponse:
    operation = access_operation(request.user, code).operation
    content = spreadsheets.export_xlsx(operation=operation, actor=request.user)
    return _download(content, XLSX, f"cencomm-{operation.code}-seizures.xlsx")
