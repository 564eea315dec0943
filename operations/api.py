"""REST API for operations and seizures: /api/v1/operations/..."""

import csv
import io

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import (
    ExactDecimalField,
    RequestSerializer,
    errors,
    from_national_system,
    non_negative_decimal_pattern,
    positive_decimal_pattern,
)
from core.vocabularies import (
    CommodityCategory,
    Concealment,
    DetectionMethod,
    Direction,
    HandlingCode,
    LocationType,
    TransportMode,
    Unit,
)
from groups.models import Administration

from . import services
from .handling import (
    operation_set_default_handling,
    seizure_leaving_group,
    seizure_release,
    seizure_set_handling,
    seizures_leaving_group,
)
from .models import Operation, Seizure, TransferRun
from .seizure_rules import FIELDS
from .selectors import (
    access_operation,
    may_create_operations,
    operations_of_user,
    seizure_for,
    seizure_list,
    seizure_status_counts,
)
from .transfer import cen_transfer_start
from .transfer_selectors import (
    cen_standing,
    may_reopen,
    report_rows,
    run_data,
    transfer_run_for,
    transfer_runs,
    transfer_summary,
)

MAX_SEIZURE_PAGE = 1000


class OperationSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    commodity_focus = serializers.ChoiceField(choices=CommodityCategory.choices)
    coordinating_administration = serializers.CharField(help_text="ISO 3166 country code.")
    planned_start = serializers.DateField()
    planned_end = serializers.DateField()
    status = serializers.ChoiceField(choices=Operation.Status.choices)
    group = serializers.SlugField()
    send_to_cen_continuously = serializers.BooleanField(
        help_text="Validated seizures go to CEN within a minute of their validation while the "
        "operation is active, not only in the final transfer."
    )
    default_handling_code = serializers.ChoiceField(
        choices=HandlingCode.choices,
        help_text="What new messages, attachments and seizures carry unless their author "
        "chooses another code.",
    )
    default_handling_conditions = serializers.CharField(
        allow_blank=True, help_text="The conditions of an H3 default."
    )


class SeizureCountsSerializer(serializers.Serializer):
    submitted = serializers.IntegerField(help_text="Awaiting validation.")
    validated = serializers.IntegerField()
    rejected = serializers.IntegerField(help_text="Rejected, awaiting the reporter's correction.")


class OperationStateSerializer(OperationSerializer):
    """One operation with where its seizures stand, in CENcomm and in CEN."""

    seizures = SeizureCountsSerializer()
    in_cen = serializers.IntegerField(help_text="The operation's seizures held by CEN.")
    validated_not_in_cen = serializers.IntegerField(
        help_text="Validated seizures not in CEN yet: a follow-up transfer sends them."
    )
    all_in_cen = serializers.BooleanField(
        help_text="Transferred, and CEN holds every validated seizure."
    )
    may_reopen = serializers.BooleanField(
        help_text="Closed and never transferred: a coordinator may reopen it."
    )


class OperationCreateSerializer(RequestSerializer):
    code = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", max_length=64)
    name = serializers.CharField(max_length=200)
    commodity_focus = serializers.ChoiceField(choices=CommodityCategory.choices)
    coordinating_administration = serializers.CharField(
        max_length=2, help_text="ISO 3166 country code."
    )
    planned_start = serializers.DateField()
    planned_end = serializers.DateField()
    send_to_cen_continuously = serializers.BooleanField(required=False, default=False)


class OperationUpdateSerializer(RequestSerializer):
    send_to_cen_continuously = serializers.BooleanField(
        required=False,
        help_text="true: validated seizures go to CEN as they are validated, while the operation "
        "is planned or active; false: only in the final transfer.",
    )
    default_handling_code = serializers.CharField(
        required=False, help_text="H0, H1, H2 or H3: the default of the operation's new items."
    )
    default_handling_conditions = serializers.CharField(
        required=False, allow_blank=True, help_text="Required for H3, refused for the others."
    )


class StatusSerializer(RequestSerializer):
    status = serializers.ChoiceField(choices=[Operation.Status.ACTIVE, Operation.Status.CLOSED])


class SeizureFieldsSerializer(RequestSerializer):
    """The simplified seizure form. Types only: the rules are the service's."""

    seizure_date = serializers.DateField()
    reporting_country = serializers.CharField(max_length=2)
    place = serializers.CharField(max_length=200)
    location_type = serializers.ChoiceField(choices=LocationType.choices)
    transport_mode = serializers.ChoiceField(choices=TransportMode.choices)
    detection_method = serializers.ChoiceField(choices=DetectionMethod.choices)
    commodity_category = serializers.ChoiceField(choices=CommodityCategory.choices)
    commodity_description = serializers.CharField(max_length=300)
    hs_code = serializers.CharField(max_length=12, required=False, allow_blank=True)
    quantity = ExactDecimalField(
        max_digits=16,
        decimal_places=3,
        pattern=positive_decimal_pattern(whole_digits=13, places=3),
        help_text='More than zero, as a decimal string: "12.5".',
    )
    unit = serializers.ChoiceField(choices=Unit.choices)
    estimated_value = ExactDecimalField(
        max_digits=16,
        decimal_places=2,
        pattern=non_negative_decimal_pattern(whole_digits=14, places=2),
        required=False,
        allow_null=True,
        help_text='As a decimal string ("1500.00"), or null when not known.',
    )
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True)
    direction = serializers.ChoiceField(choices=Direction.choices)
    departure_country = serializers.CharField(max_length=2, required=False, allow_blank=True)
    destination_country = serializers.CharField(max_length=2, required=False, allow_blank=True)
    transit_countries = serializers.ListField(
        child=serializers.CharField(max_length=2), required=False, max_length=20
    )
    concealment = serializers.ChoiceField(
        choices=Concealment.choices, required=False, allow_blank=True
    )
    concealment_details = serializers.CharField(max_length=500, required=False, allow_blank=True)
    offenders_count = serializers.IntegerField(
        min_value=0, max_value=100000, required=False, allow_null=True
    )


class SeizureReportSerializer(SeizureFieldsSerializer):
    client_uuid = serializers.UUIDField(
        help_text="Made by the client; the same uuid twice stores one seizure."
    )
    handling_code = serializers.CharField(
        required=False, help_text="H0, H1, H2 or H3; the operation's default when left out."
    )
    handling_conditions = serializers.CharField(
        required=False, allow_blank=True, help_text="Required for H3, refused for the others."
    )


class SeizureHandlingSerializer(RequestSerializer):
    handling_code = serializers.CharField(required=False, help_text="H0, H1, H2 or H3.")
    handling_conditions = serializers.CharField(
        required=False, allow_blank=True, help_text="Required for H3, refused for the others."
    )


class SeizureSerializer(SeizureFieldsSerializer):
    uuid = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Seizure.Status.choices)
    rejection_reason = serializers.CharField(allow_blank=True)
    reported_by = serializers.CharField()
    reporting_administration = serializers.CharField()
    created_at = serializers.DateTimeField()
    message_seq = serializers.IntegerField(allow_null=True)
    handling_code = serializers.ChoiceField(choices=HandlingCode.choices)
    handling_conditions = serializers.CharField(allow_blank=True)
    released = serializers.BooleanField(
        help_text="An H2 seizure released by its reporting administration for outside."
    )


class RejectSerializer(RequestSerializer):
    reason = serializers.CharField(max_length=500)


class SeizureFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Seizure.Status.choices, required=False)
    commodity_category = serializers.ChoiceField(choices=CommodityCategory.choices, required=False)
    reporting_country = serializers.CharField(max_length=2, required=False)
    transport_mode = serializers.ChoiceField(choices=TransportMode.choices, required=False)


class SeizurePageSerializer(serializers.Serializer):
    """The page bounds, checked: a page size or start that is not a number is refused."""

    limit = serializers.IntegerField(
        min_value=1,
        max_value=MAX_SEIZURE_PAGE,
        required=False,
        help_text=f"Page size (default 100, at most {MAX_SEIZURE_PAGE}).",
    )
    offset = serializers.IntegerField(
        min_value=0, required=False, help_text="Where the page starts (default 0)."
    )


def operation_payload(operation: Operation) -> dict:
    return {
        "code": operation.code,
        "name": operation.name,
        "commodity_focus": operation.commodity_focus,
        "coordinating_administration": operation.coordinating_administration.country,
        "planned_start": operation.planned_start,
        "planned_end": operation.planned_end,
        "status": operation.status,
        "group": operation.group.slug,
        "send_to_cen_continuously": operation.send_to_cen_continuously,
        "default_handling_code": operation.default_handling_code,
        "default_handling_conditions": operation.default_handling_conditions,
    }


def operation_state_payload(operation: Operation) -> dict:
    standing = cen_standing(operation=operation)
    return {
        **operation_payload(operation),
        "seizures": seizure_status_counts(operation=operation),
        "in_cen": standing["in_cen"],
        "validated_not_in_cen": standing["validated_not_in_cen"],
        "all_in_cen": standing["all_in_cen"],
        "may_reopen": may_reopen(operation=operation),
    }


def seizure_payload(seizure: Seizure) -> dict:
    """The seizure as the API shows it: decimals as exact strings, through its serializer."""
    data = {field: getattr(seizure, field) for field in FIELDS}
    data.update(
        uuid=seizure.client_uuid,
        status=seizure.status,
        rejection_reason=seizure.rejection_reason,
        reported_by=seizure.reported_by.username,
        reporting_administration=seizure.reporting_administration.country,
        created_at=seizure.created_at,
        message_seq=seizure.message.seq if seizure.message_id else None,
        handling_code=seizure.handling_code,
        handling_conditions=seizure.handling_conditions,
        released=seizure.released_at is not None,
    )
    return SeizureSerializer(data).data


class OperationList(APIView):
    @extend_schema(
        operation_id="operations_list",
        responses={200: OperationSerializer(many=True), **errors(401)},
    )
    def get(self, request):
        return Response(
            [operation_payload(o) for o in operations_of_user(user=request.user).order_by("code")]
        )

    @extend_schema(
        operation_id="operations_create",
        request=OperationCreateSerializer,
        responses={201: OperationSerializer, **errors(400, 401, 403)},
    )
    def post(self, request):
        if not may_create_operations(user=request.user):
            raise PermissionDenied("Only staff and coordinators create operations.")
        data = OperationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        administration = Administration.objects.filter(
            country=values.pop("coordinating_administration").upper()
        ).first()
        if administration is None:
            raise serializers.ValidationError(
                {"coordinating_administration": ["No administration for this country."]}
            )
        operation = services.operation_create(
            created_by=request.user, coordinating_administration=administration, **values
        )
        return Response(operation_payload(operation), status=status.HTTP_201_CREATED)


class OperationDetail(APIView):
    @extend_schema(
        operation_id="operations_retrieve",
        responses={200: OperationStateSerializer, **errors(401, 404)},
    )
    def get(self, request, code: str):
        return Response(operation_state_payload(access_operation(request.user, code).operation))

    @extend_schema(
        operation_id="operations_update",
        request=OperationUpdateSerializer,
        responses={200: OperationStateSerializer, **errors(400, 401, 403, 404)},
        description="Send validated seizures to CEN as they are validated, or only at the end. "
        "Only coordinators and staff, before the operation closes.",
    )
    def patch(self, request, code: str):
        access = access_operation(request.user, code)
        data = OperationUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values, operation = data.validated_data, access.operation
        if "default_handling_code" in values or "default_handling_conditions" in values:
            operation = operation_set_default_handling(
                operation=operation,
                actor=request.user,
                code=values.get("default_handling_code"),
                conditions=values.get("default_handling_conditions"),
            )
        if "send_to_cen_continuously" in values:
            operation = services.operation_set_continuous_transfer(
                operation=operation,
                enabled=values["send_to_cen_continuously"],
                actor=request.user,
            )
        return Response(operation_state_payload(operation))


class OperationStatus(APIView):
    @extend_schema(
        operation_id="operations_set_status",
        request=StatusSerializer,
        responses={200: OperationStateSerializer, **errors(400, 401, 403, 404)},
        description="Move the operation planned → active → closed. Only coordinators and staff.",
    )
    def post(self, request, code: str):
        access = access_operation(request.user, code)
        data = StatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        operation = services.operation_set_status(
            operation=access.operation, status=data.validated_data["status"], actor=request.user
        )
        return Response(operation_state_payload(operation))


class OperationReopen(APIView):
    @extend_schema(
        operation_id="operations_reopen",
        request=None,
        responses={200: OperationStateSerializer, **errors(400, 401, 403, 404)},
        description="Make a closed operation that was never transferred active again; its group "
        "becomes writable. Only coordinators and staff.",
    )
    def post(self, request, code: str):
        access = access_operation(request.user, code)
        operation = services.operation_reopen(operation=access.operation, actor=request.user)
        return Response(operation_state_payload(operation))


class SeizurePagination(LimitOffsetPagination):
    default_limit = 100
    max_limit = MAX_SEIZURE_PAGE


class SeizureList(APIView):
    pagination_class = SeizurePagination

    @extend_schema(
        operation_id="seizures_list",
        parameters=[SeizureFilterSerializer, SeizurePageSerializer],
        responses={200: SeizureSerializer(many=True), **errors(400, 401, 404)},
    )
    def get(self, request, code: str):
        access = access_operation(request.user, code)
        # A plain dict, not the QueryDict: DRF reads an empty query value of an optional
        # field from a QueryDict as "not given", and `?status=` would pass unchecked.
        params = request.query_params.dict()
        filters = SeizureFilterSerializer(data=params)
        filters.is_valid(raise_exception=True)
        SeizurePageSerializer(data=params).is_valid(raise_exception=True)
        values = dict(filters.validated_data)
        if "reporting_country" in values:
            values["reporting_country"] = values["reporting_country"].upper()
        queryset = seizure_list(operation=access.operation, filters=values)
        if from_national_system(request):
            # Read for outside the operation: unreleased H2 seizures stay in it.
            queryset = seizures_leaving_group(queryset)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response([seizure_payload(s) for s in page])

    @extend_schema(
        operation_id="seizures_report",
        request=SeizureReportSerializer,
        responses={201: SeizureSerializer, 200: SeizureSerializer, **errors(400, 401, 403, 404)},
        description="Report a seizure. The same client_uuid again returns the stored seizure with 200.",
    )
    def post(self, request, code: str):
        access = access_operation(request.user, code, need="post")
        data = SeizureReportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = {key: value for key, value in data.validated_data.items() if key != "client_uuid"}
        seizure, created = services.seizure_report(
            reporter=request.user,
            operation=access.operation,
            data=values,
            client_uuid=data.validated_data["client_uuid"],
        )
        return Response(
            seizure_payload(seizure),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class SeizureDetail(APIView):
    @extend_schema(
        operation_id="seizures_retrieve", responses={200: SeizureSerializer, **errors(401, 404)}
    )
    def get(self, request, code: str, uuid):
        access = access_operation(request.user, code)
        seizure = seizure_for(operation=access.operation, uuid=uuid)
        if from_national_system(request):
            seizure = seizure_leaving_group(seizure)
        return Response(seizure_payload(seizure))


class SeizureValidate(APIView):
    @extend_schema(
        operation_id="seizures_validate",
        request=None,
        responses={200: SeizureSerializer, **errors(400, 401, 403, 404)},
    )
    def post(self, request, code: str, uuid):
        access = access_operation(request.user, code)
        seizure = services.seizure_validate(
            seizure=seizure_for(operation=access.operation, uuid=uuid), actor=request.user
        )
        return Response(seizure_payload(seizure))


class SeizureReject(APIView):
    @extend_schema(
        operation_id="seizures_reject",
        request=RejectSerializer,
        responses={200: SeizureSerializer, **errors(400, 401, 403, 404)},
    )
    def post(self, request, code: str, uuid):
        access = access_operation(request.user, code)
        data = RejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        seizure = services.seizure_reject(
            seizure=seizure_for(operation=access.operation, uuid=uuid),
            actor=request.user,
            reason=data.validated_data["reason"],
        )
        return Response(seizure_payload(seizure))


class SeizureUndoReview(APIView):
    @extend_schema(
        operation_id="seizures_undo_review",
        request=None,
        responses={200: SeizureSerializer, **errors(400, 401, 403, 404)},
        description="A coordinator takes back a validation or a rejection: the seizure awaits "
        "validation again. 400 for a seizure awaiting validation, for one that has reached CEN "
        "and while a transfer to CEN is running.",
    )
    def post(self, request, code: str, uuid):
        access = access_operation(request.user, code)
        seizure = services.seizure_review_undo(
            seizure=seizure_for(operation=access.operation, uuid=uuid), actor=request.user
        )
        return Response(seizure_payload(seizure))


class SeizureHandling(APIView):
    @extend_schema(
        operation_id="seizures_set_handling",
        request=SeizureHandlingSerializer,
        responses={200: SeizureSerializer, **errors(400, 401, 403, 404)},
        description="Change a seizure's handling code (and its message's): its reporter or a "
        "coordinator. The group hears `handling.changed`.",
    )
    def post(self, request, code: str, uuid):
        access = access_operation(request.user, code)
        data = SeizureHandlingSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        seizure_set_handling(
            actor=request.user,
            seizure=seizure_for(operation=access.operation, uuid=uuid),
            code=data.validated_data.get("handling_code"),
            conditions=data.validated_data.get("handling_conditions"),
        )
        return Response(seizure_payload(seizure_for(operation=access.operation, uuid=uuid)))


class SeizureRelease(APIView):
    @extend_schema(
        operation_id="seizures_release",
        request=None,
        responses={200: SeizureSerializer, **errors(400, 401, 403, 404)},
        description="Release an H2 seizure for exports and national systems: a member of the "
        "reporting administration or a coordinator. The group hears `handling.released`.",
    )
    def post(self, request, code: str, uuid):
        access = access_operation(request.user, code)
        seizure_release(
            actor=request.user, seizure=seizure_for(operation=access.operation, uuid=uuid)
        )
        return Response(seizure_payload(seizure_for(operation=access.operation, uuid=uuid)))


class SeizureRevise(APIView):
    @extend_schema(
        operation_id="seizures_revise",
        request=SeizureFieldsSerializer,
        responses={200: SeizureSerializer, **errors(400, 401, 403, 404)},
        description="A coordinator amends a validated seizure; it stays validated and the "
        "next transfer run updates it in CEN.",
    )
    def post(self, request, code: str, uuid):
        access = access_operation(request.user, code)
        data = SeizureFieldsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        seizure = services.seizure_revise(
            seizure=seizure_for(operation=access.operation, uuid=uuid),
            actor=request.user,
            data=dict(data.validated_data),
        )
        return Response(seizure_payload(seizure))


class TransferRunSerializer(serializers.Serializer):
    run = serializers.IntegerField()
    state = serializers.CharField()
    via = serializers.CharField()
    started_by = serializers.CharField(allow_null=True)
    queued_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    attempts = serializers.IntegerField()
    validated = serializers.IntegerField()
    sent = serializers.IntegerField()
    inserted = serializers.IntegerField()
    updated = serializers.IntegerField(
        help_text="In CEN already, corrected since: rewritten with their new content hash."
    )
    already_present = serializers.IntegerField()
    withdrawn = serializers.IntegerField(help_text="No longer validated: removed from CEN.")
    left_behind = serializers.IntegerField()
    batches_done = serializers.IntegerField()
    rows_per_second = serializers.FloatField()
    summary = serializers.CharField()


def _run_payload(run) -> dict:
    return {**run_data(run), "summary": transfer_summary(run)}


class TransferList(APIView):
    @extend_schema(
        operation_id="transfers_list",
        responses={200: TransferRunSerializer(many=True), **errors(401, 404)},
        description="The operation's CEN transfer runs, newest first, with their progress.",
    )
    def get(self, request, code: str):
        operation = access_operation(request.user, code).operation
        runs = []
        for run in transfer_runs(operation=operation):
            run.operation = operation
            runs.append(_run_payload(run))
        return Response(runs)

    @extend_schema(
        operation_id="transfers_start",
        request=None,
        responses={202: TransferRunSerializer, **errors(400, 401, 403, 404)},
        description="Queue the end-of-operation transfer for the worker (a closed operation; coordinators and staff). "
        "On a transferred operation with validated seizures not in CEN yet (`validated_not_in_cen`), "
        "the same call queues a follow-up transfer that sends them.",
    )
    def post(self, request, code: str):
        operation = access_operation(request.user, code).operation
        run = cen_transfer_start(operation=operation, actor=request.user, via=TransferRun.Via.API)
        run.operation = operation
        return Response(_run_payload(run), status=status.HTTP_202_ACCEPTED)


class TransferDetail(APIView):
    @extend_schema(
        operation_id="transfers_retrieve",
        responses={200: TransferRunSerializer, **errors(401, 404)},
    )
    def get(self, request, code: str, run_id: int):
        operation = access_operation(request.user, code).operation
        run = transfer_run_for(operation=operation, run_id=run_id)
        run.operation = operation
        return Response(_run_payload(run))


class TransferReport(APIView):
    @extend_schema(
        operation_id="transfers_report",
        responses={(200, "text/csv"): OpenApiTypes.STR, **errors(401, 403, 404)},
        description="The run's report as CSV: what went, what was left behind and why, data quality.",
    )
    def get(self, request, code: str, run_id: int):
        access = access_operation(request.user, code)
        if not access.is_coordinator:
            raise PermissionDenied("Transfer reports are for the operation's coordinators.")
        run = transfer_run_for(operation=access.operation, run_id=run_id)
        output = io.StringIO()
        writer = csv.writer(output)
        for row in report_rows(run):
            writer.writerow(row)
        response = HttpResponse(output.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="cen-transfer-{access.operation.code}-{run.pk}.csv"'
        )
        return response
