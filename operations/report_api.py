"""The operation report on the REST API: GET /api/v1/operations/{code}/report.pdf."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from core.api import errors

from .report import operation_report_pdf, report_access


class ReportPdf(APIView):
    @extend_schema(
        operation_id="operations_report_pdf",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **errors(401, 403, 404)},
        description="The end-of-operation report as PDF, in the request's language "
        "(Accept-Language): totals, charts, routes, data quality, transfers and validated "
        "seizures. Coordinators and staff; the download is audited.",
    )
    def get(self, request, code: str):
        operation = report_access(request.user, code).operation
        response = HttpResponse(
            operation_report_pdf(operation=operation, actor=request.user),
            content_type="application/pdf",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="cencomm-{operation.code}-report.pdf"'
        )
        return response
