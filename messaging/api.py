"""REST API for messages: /api/v1/groups/<slug>/messages/..."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cencomm.api import errors
from groups.selectors import access_group

from . import services
from .history import message_item
from .models import Message

MAX_PAGE = 500


class AttachmentSerializer(serializers.Serializer):
    token = serializers.CharField()
    name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()


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
    seizure = serializers.DictField(required=False, help_text="For seizure alerts: the alert card.")


class MessagePageSerializer(serializers.Serializer):
    messages = MessageSerializer(many=True)
    more = serializers.BooleanField(help_text="True when messages after the last one exist.")


class MessagePostSerializer(serializers.Serializer):
    client_id = serializers.UUIDField(
        help_text="Made by the client; the same id twice stores one message."
    )
    kind = serializers.ChoiceField(
        choices=sorted(services.POSTABLE_KINDS), default=Message.Kind.TEXT
    )
    body = serializers.CharField(max_length=20000, trim_whitespace=False)
    reply_to = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    attachments = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=20
    )


class SeqSerializer(serializers.Serializer):
    group = serializers.SlugField()
    seq = serializers.IntegerField()


class MessageList(APIView):
    @extend_schema(
        operation_id="messages_list",
        parameters=[
            OpenApiParameter(
                "after", int, description="Only messages with a greater seq (default 0)."
            ),
            OpenApiParameter(
                "limit", int, description=f"At most this many (1–{MAX_PAGE}, default 100)."
            ),
        ],
        responses={200: MessagePageSerializer, **errors(400, 401, 404)},
    )
    def get(self, request, slug: str):
        access = access_group(request.user, slug)
        query = _ListQuery(data=request.query_params)
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


class _ListQuery(serializers.Serializer):
    after = serializers.IntegerField(min_value=0, default=0)
    limit = serializers.IntegerField(min_value=1, max_value=MAX_PAGE, default=100)


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
