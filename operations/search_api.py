"""REST search: GET /api/v1/search/ (docs/api.md), on the selector the page uses."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import errors
from core.vocabularies import HandlingCode
from messaging.models import Message

from .search import SearchResult, search, search_request_parse


class SearchResultSerializer(serializers.Serializer):
    group = serializers.CharField(help_text="The group's slug.")
    operation = serializers.CharField(allow_null=True, help_text="The operation's code.")
    seq = serializers.IntegerField(help_text="The message's seq in its group.")
    kind = serializers.ChoiceField(choices=Message.Kind.choices)
    author = serializers.CharField(allow_null=True)
    administration = serializers.CharField(allow_null=True, help_text="Its country code.")
    created_at = serializers.DateTimeField()
    snippet = serializers.CharField(help_text="A piece of the text around the first match.")
    highlights = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField(), min_length=2, max_length=2),
        help_text="The matching words' [start, end) character offsets in the snippet.",
    )
    url = serializers.CharField(help_text="The message in its group's page.")
    seizure = serializers.UUIDField(allow_null=True, help_text="The seizure it announces.")
    seizure_url = serializers.CharField(allow_null=True)


class SearchAnswerSerializer(serializers.Serializer):
    results = SearchResultSerializer(many=True)
    truncated = serializers.BooleanField(help_text="More matched: the newest 50 are given.")


def result_payload(result: SearchResult) -> dict:
    entry = result.entry
    return {
        "group": entry.group.slug,
        "operation": result.operation_code,
        "seq": entry.message.seq,
        "kind": entry.kind,
        "author": entry.author.username if entry.author else None,
        "administration": entry.administration.country if entry.administration else None,
        "created_at": entry.created_at.isoformat(),
        "snippet": result.snippet.text,
        "highlights": [list(pair) for pair in result.snippet.highlights],
        "url": result.url,
        "seizure": result.seizure_uuid,
        "seizure_url": result.seizure_url,
    }


def _parameter(name: str, description: str, **more) -> OpenApiParameter:
    return OpenApiParameter(
        name, OpenApiTypes.STR, OpenApiParameter.QUERY, **more, description=description
    )


class Search(APIView):
    @extend_schema(
        operation_id="search",
        parameters=[
            _parameter("q", 'Words to find ("a phrase", -word to leave out, or).', required=True),
            _parameter(
                "group", "A group's slug; repeat for several. Default: all yours.", many=True
            ),
            _parameter("author", "An author's username."),
            _parameter("administration", "An administration's country code."),
            _parameter("kind", "A message kind.", enum=Message.Kind.values),
            _parameter("handling_code", "A handling code.", enum=HandlingCode.values),
            OpenApiParameter(
                "from",
                OpenApiTypes.DATE,
                OpenApiParameter.QUERY,
                description="Posted on or after this day.",
            ),
            OpenApiParameter(
                "to",
                OpenApiTypes.DATE,
                OpenApiParameter.QUERY,
                description="Posted on or before this day.",
            ),
        ],
        responses={200: SearchAnswerSerializer, **errors(400, 401)},
        description=(
            "The newest 50 messages, attachments' names and seizures that match, in the "
            "groups you may read now. A group you may not read answers like one of yours "
            "where nothing matches."
        ),
    )
    def get(self, request):
        answer = search(user=request.user, request=search_request_parse(request.query_params))
        return Response(
            {
                "results": [result_payload(result) for result in answer.results],
                "truncated": answer.truncated,
            }
        )
