"""REST API for messages: /api/v1/groups/<slug>/messages/..."""

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import (
    ExactDecimalField,
    RequestSerializer,
    errors,
    from_national_system,
    positive_decimal_pattern,
)
from core.vocabularies import (
    CommodityCategory,
    DetectionMethod,
    Direction,
    HandlingCode,
    InformationGrading,
    LocationType,
    SeizureStatus,
    SourceGrading,
    TransportMode,
    Unit,
)
from groups.access import access_group

from . import services
from .attachments import attachment_upload
from .history import message_item, message_leaving_group, messages_leaving_group
from .models import Message

MAX_PAGE = 500
HANDLING_FIELDS = ("handling_code", "handling_conditions", "source_grading", "information_grading")


class AttachmentSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Name it in a message's attachments to attach it.")
    name = serializers.CharField()
    content_type = serializers.ChoiceField(
        choices=["image/jpeg", "image/png", "image/webp", "application/pdf"]
    )
    size = serializers.IntegerField(help_text="Bytes, as stored (images are re-encoded).")
    handling_code = serializers.ChoiceField(choices=HandlingCode.choices)
    handling_conditions = serializers.CharField(allow_blank=True, help_text="H3's conditions.")


class HandlingFieldsSerializer(serializers.Serializer):
    """An item's handling code (docs/api.md, "Handling codes")."""

    handling_code = serializers.ChoiceField(choices=HandlingCode.choices)
    handling_conditions = serializers.CharField(
        allow_blank=True, help_text="The conditions of an H3 item; empty for the others."
    )


class SeizureCardSerializer(serializers.Serializer):
    """A seizure alert's card: enough to act on at the next border."""

    uuid = serializers.UUIDField()
    status = serializers.ChoiceField(choices=SeizureStatus.choices)
    seizure_date = serializers.DateField()
    reporting_country = serializers.CharField()
    commodity_category = serializers.ChoiceField(choices=CommodityCategory.choices)
    commodity_description = serializers.CharField()
    quantity = ExactDecimalField(
        max_digits=16,
        decimal_places=3,
        pattern=positive_decimal_pattern(whole_digits=13, places=3),
    )
    unit = serializers.ChoiceField(choices=Unit.choices)
    place = serializers.CharField()
    location_type = serializers.ChoiceField(choices=LocationType.choices)
    transport_mode = serializers.ChoiceField(choices=TransportMode.choices)
    detection_method = serializers.ChoiceField(choices=DetectionMethod.choices)
    direction = serializers.ChoiceField(choices=Direction.choices)
    departure_country = serializers.CharField(allow_blank=True)
    destination_country = serializers.CharField(allow_blank=True)
    transit_countries = serializers.ListField(child=serializers.CharField())
    rejection_reason = serializers.CharField(allow_blank=True)
    handling_code = serializers.ChoiceField(choices=HandlingCode.choices)
    handling_conditions = serializers.CharField(allow_blank=True)
    released = serializers.BooleanField(help_text="An H2 seizure released for outside.")


class MessageSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Message.Kind.choices)
    author = serializers.CharField(allow_null=True)
    author_name = serializers.CharField(allow_null=True)
    country = serializers.CharField(allow_null=True)
    html = serializers.CharField(help_text="Sanitised HTML rendered from the Markdown body.")
    reply_to = serializers.IntegerField(allow_null=True)
    client_id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    attachments = AttachmentSerializer(many=True)
    retracted = serializers.BooleanField(required=False)
    seizure = SeizureCardSerializer(required=False, help_text="For seizure alerts: the alert card.")
    handling_code = serializers.ChoiceField(choices=HandlingCode.choices)
    handling_conditions = serializers.CharField(allow_blank=True)
    source_grading = serializers.CharField(
        allow_blank=True, help_text="A, B, C or X; empty when not graded."
    )
    information_grading = serializers.CharField(
        allow_blank=True, help_text="1, 2, 3 or 4; empty when not graded."
    )
    released = serializers.BooleanField(
        help_text="An H2 message released by its author's administration for outside the group."
    )


class MessagePageSerializer(serializers.Serializer):
    messages = MessageSerializer(many=True)
    more = serializers.BooleanField(help_text="True when messages after the last one exist.")


class MessagePostSerializer(RequestSerializer):
    client_id = serializers.UUIDField(
        help_text="Made by the client; the same id twice stores one message."
    )
    kind = serializers.ChoiceField(
        choices=sorted(services.POSTABLE_KINDS), default=Message.Kind.TEXT
    )
    body = serializers.CharField(max_length=settings.MESSAGE_MAX_LENGTH, trim_whitespace=False)
    reply_to = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    attachments = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        max_length=settings.ATTACHMENTS_PER_MESSAGE,
        help_text="Tokens of files uploaded to POST /groups/{slug}/attachments/.",
    )
    handling_code = serializers.CharField(
        required=False,
        help_text=f"One of {', '.join(HandlingCode.values)}; the operation's default when left out.",
    )
    handling_conditions = serializers.CharField(
        required=False, allow_blank=True, help_text="Required for H3, refused for the others."
    )
    source_grading = serializers.CharField(
        required=False, allow_blank=True, help_text=f"One of {', '.join(SourceGrading.values)}."
    )
    information_grading = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=f"One of {', '.join(InformationGrading.values)}.",
    )


class MessageHandlingSerializer(RequestSerializer):
    handling_code = serializers.CharField(required=False, help_text="H0, H1, H2 or H3.")
    handling_conditions = serializers.CharField(
        required=False, allow_blank=True, help_text="Required for H3, refused for the others."
    )
    source_grading = serializers.CharField(required=False, allow_blank=True)
    information_grading = serializers.CharField(required=False, allow_blank=True)


class AttachmentHandlingSerializer(RequestSerializer):
    handling_code = serializers.CharField(required=False, help_text="H0, H1, H2 or H3.")
    handling_conditions = serializers.CharField(required=False, allow_blank=True)


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text=(
            "A photo (JPEG, PNG, WebP: re-encoded, metadata removed) or a PDF without scripts, "
            f"at most {settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)} MB. The type is read "
            "from the bytes, never from the name."
        )
    )
    handling_code = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="H0, H1, H2 or H3; the operation's default when left out or empty.",
    )
    handling_conditions = serializers.CharField(
        required=False, allow_blank=True, help_text="Required for H3."
    )


class SeqSerializer(serializers.Serializer):
    group = serializers.SlugField()
    seq = serializers.IntegerField()


class _ListQuery(serializers.Serializer):
    after = serializers.IntegerField(
        min_value=0, default=0, help_text="Only messages with a greater seq (default 0)."
    )
    limit = serializers.IntegerField(
        min_value=1,
        max_value=MAX_PAGE,
        default=100,
        help_text=f"At most this many (1–{MAX_PAGE}, default 100).",
    )


class MessageList(APIView):
    @extend_schema(
        operation_id="messages_list",
        parameters=[_ListQuery],
        responses={200: MessagePageSerializer, **errors(400, 401, 404)},
    )
    def get(self, request, slug: str):
        access = access_group(request.user, slug)
        # A plain dict: from a QueryDict DRF takes an empty value for "not given".
        query = _ListQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        after, limit = query.validated_data["after"], query.validated_data["limit"]
        queryset = Message.objects.filter(group=access.group, seq__gt=after)
        item = message_item
        if from_national_system(request):
            # Read for outside the group: unreleased H2 items stay in it.
            queryset, item = messages_leaving_group(queryset), message_leaving_group
        rows = list(
            queryset.select_related("author__profile__administration", "reply_to", "seizure")
            .prefetch_related("attachments")
            .order_by("seq")[: limit + 1]
        )
        return Response({"messages": [item(m) for m in rows[:limit]], "more": len(rows) > limit})

    @extend_schema(
        operation_id="messages_post",
        request=MessagePostSerializer,
        responses={201: MessageSerializer, 200: MessageSerializer, **errors(400, 401, 403, 404)},
        description="Post a message. Posting the same client_id again returns the stored message with 200.",
    )
    def post(self, request, slug: str):
        access = access_group(request.user, slug, need="post")
        data = MessagePostSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message, created = services.message_post(
            author=request.user,
            group=access.group,
            body=data.validated_data["body"],
            client_id=data.validated_data["client_id"],
            kind=data.validated_data["kind"],
            reply_to_seq=data.validated_data.get("reply_to"),
            attachment_tokens=data.validated_data.get("attachments", []),
            handling={key: data.validated_data.get(key) for key in HANDLING_FIELDS},
        )
        return Response(
            message_item(message), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class MessageAcknowledge(APIView):
    @extend_schema(
        operation_id="messages_acknowledge",
        request=None,
        responses={200: SeqSerializer, **errors(400, 401, 404)},
    )
    def post(self, request, slug: str, seq: int):
        access = access_group(request.user, slug)
        services.receipt_acknowledge(user=request.user, group=access.group, seq=seq)
        return Response({"group": access.group.slug, "seq": seq})


class MessageRead(APIView):
    @extend_schema(
        operation_id="messages_mark_read",
        request=None,
        responses={200: SeqSerializer, **errors(400, 401, 404)},
        description="Mark every message up to this seq as read.",
    )
    def post(self, request, slug: str, seq: int):
        access = access_group(request.user, slug)
        cursor = services.receipt_mark_read(user=request.user, group=access.group, up_to_seq=seq)
        return Response({"group": access.group.slug, "seq": cursor})


class AttachmentUpload(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="attachments_upload",
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer, **errors(400, 401, 403, 404, 415)},
        description=(
            "Upload one file for a message to come (multipart, field `file`), checked and "
            "stored as the group page does; post the message with the answer's token in "
            "its `attachments`."
        ),
        examples=[
            OpenApiExample(
                "A photo",
                response_only=True,
                status_codes=["201"],
                value={
                    "token": "k3Jd0m2v8tQeX5wq1sZ4bN7yH6aL9cR0uF2pG1iE3oA",
                    "name": "container-seal.jpg",
                    "content_type": "image/jpeg",
                    "size": 184233,
                },
            )
        ],
    )
    def post(self, request, slug: str):
        access = access_group(request.user, slug, need="post")
        data = AttachmentUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attachment = attachment_upload(
            user=request.user,
            group=access.group,
            uploaded_file=data.validated_data["file"],
            handling_code=data.validated_data.get("handling_code"),
            handling_conditions=data.validated_data.get("handling_conditions"),
        )
        return Response(services.attachment_data(attachment), status=status.HTTP_201_CREATED)


class MessageHandling(APIView):
    @extend_schema(
        operation_id="messages_set_handling",
        request=MessageHandlingSerializer,
        responses={200: MessageSerializer, **errors(400, 401, 403, 404)},
        description="Change a message's handling code or grading: its author or a coordinator. "
        "What is left out stays as it is. The group hears `handling.changed`.",
    )
    def post(self, request, slug: str, seq: int):
        access = access_group(request.user, slug)
        data = MessageHandlingSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        message = services.message_set_handling(
            actor=request.user,
            group=access.group,
            seq=seq,
            code=values.get("handling_code"),
            conditions=values.get("handling_conditions"),
            source=values.get("source_grading"),
            information=values.get("information_grading"),
        )
        return Response(message_item(message))


class MessageRelease(APIView):
    @extend_schema(
        operation_id="messages_release",
        request=None,
        responses={200: MessageSerializer, **errors(400, 401, 403, 404)},
        description="Release an H2 message for exports and national systems: a member of the "
        "author's administration or a coordinator. The group hears `handling.released`.",
    )
    def post(self, request, slug: str, seq: int):
        access = access_group(request.user, slug)
        message = services.message_release(actor=request.user, group=access.group, seq=seq)
        return Response(message_item(message))


class AttachmentHandling(APIView):
    @extend_schema(
        operation_id="attachments_set_handling",
        request=AttachmentHandlingSerializer,
        responses={200: AttachmentSerializer, **errors(400, 401, 403, 404)},
        description="Change an attachment's handling code: its uploader or a coordinator.",
    )
    def post(self, request, slug: str, token: str):
        access = access_group(request.user, slug)
        data = AttachmentHandlingSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attachment = services.attachment_set_handling(
            actor=request.user,
            group=access.group,
            token=token,
            code=data.validated_data.get("handling_code"),
            conditions=data.validated_data.get("handling_conditions"),
        )
        return Response(services.attachment_data(attachment))
