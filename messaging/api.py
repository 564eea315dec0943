"""REST API for messages: /api/v1/groups/<slug>/messages/..."""

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ExactDecimalField, RequestSerializer, errors, positive_decimal_pattern
from core.vocabularies import (
    CommodityCategory,
    DetectionMethod,
    Direction,
    LocationType,
    SeizureStatus,
    TransportMode,
    Unit,
)
from groups.access import access_group

from . import services
from .attachments import attachment_upload
from .history import message_item
from .models import Message

MAX_PAGE = 500


class AttachmentSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Name it in a message's attachments to attach it.")
    name = serializers.CharField()
    content_type = serializers.ChoiceField(
        choices=["image/jpeg", "image/png", "image/webp", "application/pdf"]
    )
    size = serializers.IntegerField(help_text="Bytes, as stored (images are re-encoded).")


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


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text=(
            "A photo (JPEG, PNG, WebP: re-encoded, metadata removed) or a PDF without scripts, "
            f"at most {settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)} MB. The type is read "
            "from the bytes, never from the name."
        )
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
        rows = list(
            Message.objects.filter(group=access.group, seq__gt=after)
            .select_related("author__profile__administration", "reply_to", "seizure")
            .prefetch_related("attachments")
            .order_by("seq")[: limit + 1]
        )
        return Response(
            {"messages": [message_item(m) for m in rows[:limit]], "more": len(rows) > limit}
        )

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
            user=request.user, group=access.group, uploaded_file=data.validated_data["file"]
        )
        return Response(
            {
                "token": attachment.token,
                "name": attachment.original_name,
                "content_type": attachment.content_type,
                "size": attachment.size,
            },
            status=status.HTTP_201_CREATED,
        )
