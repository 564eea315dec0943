"""REST API for groups and members: /api/v1/groups/..."""

from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import RequestSerializer, errors
from core.audit import Action, audit_record
from core.throttling import AnonRateThrottle

from . import services, two_factor
from .access import access_group
from .models import ClosedUserGroup, Membership, Role
from .selectors import group_members, groups_of_user, member_candidates

User = get_user_model()


class GroupSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=ClosedUserGroup.Status.choices)
    last_seq = serializers.IntegerField(help_text="The seq of the group's latest event.")
    operation = serializers.CharField(allow_null=True, help_text="The operation's code, if any.")
    role = serializers.ChoiceField(choices=Role.choices, allow_null=True)


class MemberSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)
    country = serializers.CharField(allow_null=True)
    since = serializers.DateTimeField()


class MemberAddSerializer(RequestSerializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.MEMBER)


class CandidateSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()
    administration = serializers.CharField(allow_null=True)
    country = serializers.CharField(allow_null=True)


class _CandidateQuery(serializers.Serializer):
    q = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text=(
            "Part of a username, a first or last name, an administration's name or its "
            "country code, whatever the case; every word must match. Empty: no one."
        ),
    )


class MemberRoleSerializer(RequestSerializer):
    role = serializers.ChoiceField(choices=Role.choices)


def group_payload(group: ClosedUserGroup, role: str | None) -> dict:
    operation = getattr(group, "operation", None)
    return {
        "slug": group.slug,
        "name": group.name,
        "status": group.status,
        "last_seq": group.last_seq,
        "operation": operation.code if operation else None,
        "role": role,
    }


def member_payload(membership: Membership) -> dict:
    profile = getattr(membership.user, "profile", None)
    administration = profile.administration if profile else None
    return {
        "username": membership.user.username,
        "name": membership.user.get_full_name() or membership.user.username,
        "role": membership.role,
        "country": administration.country if administration else None,
        "since": membership.created_at,
    }


def candidate_payload(user) -> dict:
    profile = getattr(user, "profile", None)
    administration = profile.administration if profile else None
    return {
        "username": user.username,
        "name": user.get_full_name() or user.username,
        "administration": administration.name if administration else None,
        "country": administration.country if administration else None,
    }


def _user(username: str):
    user = User.objects.filter(username=username).first()
    if user is None:
        raise serializers.ValidationError(
            {"username": [f"There is no user called {username[:150]}."]}
        )
    return user


class GroupList(APIView):
    @extend_schema(
        operation_id="groups_list", responses={200: GroupSerializer(many=True), **errors(401)}
    )
    def get(self, request):
        roles = dict(
            Membership.objects.filter(user=request.user, removed_at__isnull=True).values_list(
                "group_id", "role"
            )
        )
        return Response(
            [
                group_payload(group, roles.get(group.pk))
                for group in groups_of_user(user=request.user)
            ]
        )


class GroupDetail(APIView):
    @extend_schema(
        operation_id="groups_retrieve", responses={200: GroupSerializer, **errors(401, 404)}
    )
    def get(self, request, slug: str):
        access = access_group(request.user, slug)
        return Response(group_payload(access.group, access.role))


class MemberList(APIView):
    @extend_schema(
        operation_id="members_list",
        responses={200: MemberSerializer(many=True), **errors(401, 404)},
    )
    def get(self, request, slug: str):
        access = access_group(request.user, slug)
        return Response([member_payload(m) for m in group_members(group=access.group)])

    @extend_schema(
        operation_id="members_add",
        request=MemberAddSerializer,
        responses={201: MemberSerializer, **errors(400, 401, 403, 404)},
    )
    def post(self, request, slug: str):
        access = access_group(request.user, slug, need="manage")
        data = MemberAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.membership_add(
            group=access.group,
            user=_user(data.validated_data["username"]),
            role=data.validated_data["role"],
            added_by=request.user,
        )
        return Response(member_payload(membership), status=status.HTTP_201_CREATED)


class MemberCandidateList(APIView):
    @extend_schema(
        operation_id="member_candidates_list",
        description=(
            "People a coordinator may add to the group: active accounts not yet members "
            "that match `q`, at most 20, an exact username first."
        ),
        parameters=[_CandidateQuery],
        responses={200: CandidateSerializer(many=True), **errors(400, 401, 403, 404)},
    )
    def get(self, request, slug: str):
        access = access_group(request.user, slug, need="manage")
        # A plain dict: from a QueryDict DRF takes an empty value for "not given".
        query = _CandidateQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        people = member_candidates(access.group, query.validated_data["q"])
        return Response([candidate_payload(user) for user in people])


class MemberDetail(APIView):
    def _membership(self, group, username):
        return get_object_or_404(
            Membership.objects.select_related("user__profile__administration"),
            group=group,
            user__username=username,
            removed_at__isnull=True,
        )

    @extend_schema(
        operation_id="members_change_role",
        request=MemberRoleSerializer,
        responses={200: MemberSerializer, **errors(400, 401, 403, 404)},
    )
    def patch(self, request, slug: str, username: str):
        access = access_group(request.user, slug, need="manage")
        data = MemberRoleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = self._membership(access.group, username)
        membership = services.membership_change_role(
            group=access.group,
            user=membership.user,
            role=data.validated_data["role"],
            changed_by=request.user,
        )
        return Response(member_payload(membership))

    @extend_schema(
        operation_id="members_remove",
        request=None,
        responses={204: None, **errors(400, 401, 403, 404)},
    )
    def delete(self, request, slug: str, username: str):
        access = access_group(request.user, slug, need="manage")
        membership = self._membership(access.group, username)
        services.membership_remove(
            group=access.group, user=membership.user, removed_by=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenRequestSerializer(RequestSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)
    code = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        help_text="Two-factor code, when the account has one.",
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class TokenCreate(APIView):
    """Exchange a username, password (and second factor) for an API token.

    Covered by the brute-force lockout like the login page.
    """

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]

    @extend_schema(
        operation_id="auth_token",
        request=TokenRequestSerializer,
        responses={200: TokenSerializer, **errors(400, 403, 429)},
    )
    def post(self, request):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = authenticate(
            request._request, username=values["username"], password=values["password"]
        )
        if getattr(request._request, "axes_locked_out", False):
            raise Throttled(
                detail=_("Too many failed attempts: this account or address is locked for a while.")
            )
        if user is None:
            raise serializers.ValidationError(
                {"non_field_errors": [_("Wrong username or password.")]}
            )
        second_factor = False
        if two_factor.two_factor_enabled(user):
            if (
                two_factor.verify_second_factor(
                    user=user, token=values.get("code", ""), request=request._request
                )
                is None
            ):
                raise serializers.ValidationError(
                    {"code": [_("A valid two-factor code is needed.")]}
                )
            second_factor = True
        elif two_factor.two_factor_required(user):
            raise PermissionDenied(_("Set up two-factor login in the web interface first."))
        token = two_factor.token_issue(user=user, second_factor=second_factor)
        audit_record(actor=user, action=Action.LOGIN, data={"via": "api-token"})
        return Response({"token": token.key})
