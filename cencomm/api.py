"""What every REST endpoint shares: one error shape, and the conversion of service errors.

Errors are ``{"error": {"code": "...", "detail": "...", "fields": {"name": ["..."]}}}``
whatever raised them: a serializer, a service's ValidationError or PermissionDenied, or
the group access helper's not-found (a non-member always gets 404, never 403).
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.views import exception_handler as drf_exception_handler


def _fields(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {
            ("non_field_errors" if key == "__all__" else str(key)): [
                str(m) for m in (value if isinstance(value, list) else [value])
            ]
            for key, value in detail.items()
        }
    return {}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(detail=str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    fields = _fields(response.data) if isinstance(exc, exceptions.ValidationError) else {}
    if fields:
        first = next(iter(fields.values()))
        detail = first[0] if first else "Invalid input."
    elif isinstance(response.data, dict) and "detail" in response.data:
        detail = str(response.data["detail"])
    elif isinstance(response.data, list) and response.data:
        detail = str(response.data[0])
    else:
        detail = str(exc)
    code = getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.ValidationError):
        code = "invalid"
    response.data = {"error": {"code": code, "detail": detail, "fields": fields}}
    return response


ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorBody",
            fields={
                "code": serializers.CharField(),
                "detail": serializers.CharField(),
                "fields": serializers.DictField(
                    child=serializers.ListField(child=serializers.CharField())
                ),
            },
        )
    },
)


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    descriptions = {
        400: "Invalid input: see error.fields.",
        401: "Not authenticated.",
        403: "Not allowed for this role.",
        404: "No such object, or not visible to you.",
        429: "Too many requests.",
    }
    return {
        status: OpenApiResponse(ErrorSerializer, description=descriptions[status])
        for status in statuses
    }


@csrf_exempt
def api_not_found(request, *args, **kwargs) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": "not_found", "detail": "Not found.", "fields": {}}}, status=404
    )
