"""What every REST endpoint shares: one error shape, the conversion of service errors,
and request bodies read with the JSON types the schema states.

Errors are ``{"error": {"code": "...", "detail": "...", "fields": {"name": ["..."]}}}``
(plus ``"reason"`` for a kind of refusal: ``read_only``, ``observer``) whatever raised
them: a serializer, or a service's refusal (core/errors.py), including the group access
helper's not-found (a non-member always gets 404, never 403).
"""

import re

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from drf_spectacular.views import SpectacularRedocView
from rest_framework import exceptions, serializers
from rest_framework.authtoken.models import Token
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import Forbidden, ObserverOnly, ReadOnly, describe, error_body, json_error

# Every code the handler can answer with (and ``locked_out``, which the lockout answers
# with before a view runs). A code outside this list is answered as ``error``.
ERROR_CODES = (
    "invalid",
    "parse_error",
    "not_authenticated",
    "authentication_failed",
    "permission_denied",
    "two_factor_required",
    "not_found",
    "conflict",
    "method_not_allowed",
    "not_acceptable",
    "unsupported_media_type",
    "throttled",
    "locked_out",
    "unavailable",
    "error",
)


# The kinds a refusal may name besides its code (core/errors.py).
ERROR_REASONS = (ReadOnly.code, ObserverOnly.code)


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
    described = None if isinstance(exc, exceptions.APIException) else describe(exc)
    if described is not None:
        # A service's refusal (core.errors): its code, with REST's name for forbidden.
        code = "permission_denied" if described.code == Forbidden.code else described.code
        body = error_body(
            code if code in ERROR_CODES else "error",
            described.detail,
            fields=described.fields,
            reason=described.reason,
        )
        return Response(body, status=described.status)
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
    elif code not in ERROR_CODES:
        code = "error"
    response.data = error_body(code, detail, fields=fields)
    return response


ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorBody",
            fields={
                "code": serializers.ChoiceField(choices=ERROR_CODES),
                "detail": serializers.CharField(),
                "fields": serializers.DictField(
                    child=serializers.ListField(child=serializers.CharField())
                ),
                "reason": serializers.ChoiceField(
                    choices=ERROR_REASONS,
                    required=False,
                    help_text="Which kind of refusal, for permission_denied: read_only, observer.",
                ),
            },
        )
    },
)


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """The error answers of an endpoint; 429 is always among them: every caller is throttled."""
    descriptions = {
        400: "Invalid input: see error.fields.",
        401: "Not authenticated.",
        403: "Not allowed for this role.",
        404: "No such object, or not visible to you.",
        415: "The body is not of a media type this endpoint reads.",
        429: "Too many requests.",
    }
    return {
        status: OpenApiResponse(ErrorSerializer, description=descriptions[status])
        for status in sorted({*statuses, 429})
    }


class RequestSerializer(serializers.Serializer):
    """A JSON request body, read with the types the schema states.

    DRF turns ``12`` into ``"12"`` for a text field and ``"1"`` into ``1`` for a number;
    here a value of the wrong JSON type is refused, so that what the schema rejects the
    server rejects too.
    """

    def to_internal_value(self, data):
        if isinstance(data, dict):
            wrong = {
                name: [_wrong_type_message(field)]
                for name, field in self.fields.items()
                if not field.read_only
                and name in data
                and data[name] is not None
                and not _has_json_type(field, data[name])
            }
            if wrong:
                raise exceptions.ValidationError(wrong)
        return super().to_internal_value(data)


def _has_json_type(field, value) -> bool:
    if isinstance(field, serializers.BooleanField):
        return isinstance(value, bool)
    if isinstance(field, serializers.IntegerField):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(field, serializers.ListField):
        return isinstance(value, list) and all(
            item is not None and _has_json_type(field.child, item) for item in value
        )
    if isinstance(field, serializers.FileField):
        return True
    return isinstance(value, str)


def _wrong_type_message(field) -> str:
    if isinstance(field, serializers.BooleanField):
        return serializers.BooleanField.default_error_messages["invalid"]
    if isinstance(field, serializers.IntegerField):
        return serializers.IntegerField.default_error_messages["invalid"]
    if isinstance(field, serializers.ListField):
        return _wrong_type_message(field.child)
    if isinstance(field, ExactDecimalField):
        return field.error_messages["invalid"]
    return serializers.CharField.default_error_messages["invalid"]


class ExactDecimalField(serializers.DecimalField):
    """A decimal as a JSON string ("12.5"), never a float: in requests and in answers.

    ``pattern`` is what the schema publishes and what the field enforces, the same text;
    DRF's own checks (digits, places) still apply after it.
    """

    def __init__(self, *, max_digits: int, decimal_places: int, pattern: str, **kwargs):
        self.pattern = pattern
        super().__init__(
            max_digits=max_digits, decimal_places=decimal_places, coerce_to_string=True, **kwargs
        )

    def validate_empty_values(self, data):
        # DRF takes "" (or spaces) for null; the schema does not, so neither does the field.
        if isinstance(data, str) and not data.strip():
            self.fail("invalid")
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not re.fullmatch(
            self.pattern.lstrip("^").rstrip("$"), data
        ):
            self.fail("invalid")
        return super().to_internal_value(data)


def positive_decimal_pattern(*, whole_digits: int, places: int) -> str:
    """A decimal greater than zero with a leading digit: "12", "0.5", "12.500"."""
    return (
        rf"^(?:0*[1-9]\d{{0,{whole_digits - 1}}}(?:\.\d{{1,{places}}})?"
        rf"|0+\.(?:{_non_zero_fraction(places)}))$"
    )


def non_negative_decimal_pattern(*, whole_digits: int, places: int) -> str:
    """A decimal of zero or more with a leading digit: "0", "1500", "1500.00"."""
    return rf"^0*\d{{1,{whole_digits}}}(?:\.\d{{1,{places}}})?$"


def _non_zero_fraction(places: int) -> str:
    # Up to ``places`` digits of which at least one is not zero: "5", "05", "005", "50"…
    return "|".join(
        "0" * zeros + "[1-9]" + (rf"\d{{0,{places - zeros - 1}}}" if zeros < places - 1 else "")
        for zeros in range(places)
    )


class ExactDecimalFieldSchema(OpenApiSerializerFieldExtension):
    target_class = ExactDecimalField

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "format": "decimal", "pattern": self.target.pattern}


@csrf_exempt
def api_not_found(request, *args, **kwargs) -> JsonResponse:
    return json_error(404, "not_found", "Not found.")


# The docs page (templates/drf_spectacular/redoc.html): Redoc draws with styles it
# injects as it renders, so this page alone allows inline styles. Scripts stay 'self'
# only: Redoc's bundle and its start-up file are both served by the platform.
api_docs = csp_update({"style-src": [UNSAFE_INLINE]})(
    SpectacularRedocView.as_view(url_name="api-schema")
)


def from_national_system(request) -> bool:
    """Whether a REST request comes with an API token: a national system's, reading for
    outside the group. What it reads leaves out unreleased H2 items (core/handling.py)."""
    return isinstance(getattr(request, "auth", None), Token)
