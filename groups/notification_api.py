"""REST API for notifications: /api/v1/notifications/, /api/v1/groups/{slug}/notifications/
and /api/v1/push-subscriptions/ (docs/api.md). The group page uses the same endpoints."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ErrorSerializer, RequestSerializer, errors

from . import notifications
from .web_push import vapid_public_key, web_push_enabled

CONFLICT = {
    409: OpenApiResponse(ErrorSerializer, description="Web Push is switched off on this server.")
}


class ChoiceSerializer(RequestSerializer):
    alerts = serializers.BooleanField(required=False, help_text="Alerts posted in the group.")
    seizures = serializers.BooleanField(required=False, help_text="Seizures reported in the group.")
    mentions = serializers.BooleanField(
        required=False, help_text="Messages that name you with `@username`."
    )


class NotificationsSerializer(serializers.Serializer):
    web_push = serializers.BooleanField(help_text="Whether this server sends Web Push.")
    vapid_public_key = serializers.CharField(
        allow_null=True, help_text="The applicationServerKey to subscribe with; null when off."
    )
    groups = serializers.DictField(
        child=ChoiceSerializer(), help_text="Your choices in each group you read, by slug."
    )


class SubscriptionKeysSerializer(RequestSerializer):
    p256dh = serializers.CharField(max_length=200)
    auth = serializers.CharField(max_length=100)


class SubscriptionSerializer(serializers.Serializer):
    """What the browser's ``PushSubscription.toJSON()`` gives (its ``expirationTime``
    is not kept)."""

    endpoint = serializers.CharField(max_length=1000)
    keys = SubscriptionKeysSerializer()


class EndpointSerializer(RequestSerializer):
    endpoint = serializers.CharField(max_length=1000)


class DeviceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    last_sent_at = serializers.DateTimeField(allow_null=True)
    this_session = serializers.BooleanField(
        help_text="Registered from the login session making this request."
    )


def _device_payload(subscription, session_key) -> dict:
    session = subscription.session
    return {
        "id": subscription.public_id,
        "created_at": subscription.created_at,
        "last_sent_at": subscription.last_sent_at,
        "this_session": bool(session and session_key and session.session_key == session_key),
    }


def _session_key(request) -> str | None:
    # Only a session-authenticated request ties the device to a login session; with an
    # API token there is none (the device stays until it is removed or the push
    # service forgets it).
    session = getattr(request, "session", None)
    return session.session_key if session is not None and request.auth is None else None


class NotificationList(APIView):
    @extend_schema(
        operation_id="notifications_list",
        responses={200: NotificationsSerializer, **errors(401)},
    )
    def get(self, request):
        return Response(
            {
                "web_push": web_push_enabled(),
                "vapid_public_key": vapid_public_key(),
                "groups": notifications.notification_choices(user=request.user),
            }
        )


class GroupNotifications(APIView):
    @extend_schema(
        operation_id="group_notifications_retrieve",
        responses={200: ChoiceSerializer, **errors(401, 404)},
    )
    def get(self, request, slug: str):
        return Response(notifications.notification_choice_get(user=request.user, slug=slug))

    @extend_schema(
        operation_id="group_notifications_update",
        description="Turn kinds on or off; kinds left out keep their choice.",
        request=ChoiceSerializer,
        responses={200: ChoiceSerializer, **errors(400, 401, 404)},
    )
    def put(self, request, slug: str):
        data = ChoiceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(
            notifications.notification_choice_set(
                user=request.user, slug=slug, **data.validated_data
            )
        )


class PushSubscriptionList(APIView):
    @extend_schema(
        operation_id="push_subscriptions_list",
        description="Your devices that receive Web Push; their endpoints are never shown.",
        responses={200: DeviceSerializer(many=True), **errors(401)},
    )
    def get(self, request):
        key = _session_key(request)
        devices = notifications.push_subscriptions_of_user(user=request.user)
        return Response([_device_payload(device, key) for device in devices])

    @extend_schema(
        operation_id="push_subscriptions_create",
        description=(
            "Register this device's subscription (the browser's `PushSubscription.toJSON()`). "
            "The same endpoint again replaces the earlier registration."
        ),
        request=SubscriptionSerializer,
        responses={201: DeviceSerializer, **errors(400, 401), **CONFLICT},
    )
    def post(self, request):
        data = SubscriptionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = _session_key(request)
        subscription = notifications.push_subscription_register(
            user=request.user,
            session_key=key,
            endpoint=data.validated_data["endpoint"],
            p256dh=data.validated_data["keys"]["p256dh"],
            auth=data.validated_data["keys"]["auth"],
        )
        return Response(_device_payload(subscription, key), status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="push_subscriptions_remove",
        description="Forget one of your devices, named by its endpoint; unknown ones are ignored.",
        request=EndpointSerializer,
        responses={204: None, **errors(400, 401)},
    )
    def delete(self, request):
        data = EndpointSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        notifications.push_subscription_remove(
            user=request.user, endpoint=data.validated_data["endpoint"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
