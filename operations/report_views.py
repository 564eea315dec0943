"""The operation report's doors: the page and its PDF. The work is operations.report."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .report import operation_report, operation_report_pdf, report_access


@login_required
@require_GET
def report(request: HttpRequest, code: str) -> HttpResponse:
    access = report_access(request.user, code)
    operation = access.operation
    return render(
        request,
        "operations/report.html",
        {"access": access, "group": operation.group, **operation_report(operation=operation)},
    )


@login_required
@require_GET
def report_pdf(request: HttpRequest, code: str) -> HttpResponse:
    operation = report_access(request.user, code).operation
    response = HttpResponse(
        operation_report_pdf(operation=operation, actor=request.user),
        content_type="application/pdf",
    )
    response["Content-Disposition"] = f'attachment; filename="cencomm-{operation.code}-report.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
