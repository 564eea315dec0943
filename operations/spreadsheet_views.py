"""The spreadsheet doors: template, upload, export. Thin: the work is operations.spreadsheets."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from . import spreadsheets
from .selectors import access_operation
from .spreadsheet_labels import column_label

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


def _report_lines(lines: list[tuple[int, str, str]]) -> list[tuple[int, str, str]]:
    """The report's lines with each column named as the reader's sheet names it."""
    return [(row, column_label(column), text) for row, column, text in lines[:500]]


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
                raise spreadsheets.SpreadsheetError(
                    _("The file is larger than %(mb)d MB.")
                    % {"mb": settings.SPREADSHEET_MAX_BYTES // (1024 * 1024)}
                )
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
            context["report"] = report
            context["problems"] = _report_lines(report.errors or report.warnings)
            status = 200 if report.ok else 400
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
