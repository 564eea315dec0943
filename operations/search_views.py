"""The search page: /search/ across the searcher's groups, /groups/<slug>/search/ in one.
Both call the selector the REST API calls (operations/search.py)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core.errors import Invalid
from core.vocabularies import HandlingCode
from groups.access import access_group, searchable_groups
from messaging.models import Message

from .search import SearchResult, search, search_request_parse

FILTERS = ("q", "author", "administration", "kind", "handling_code", "from", "to")


def _pieces(result: SearchResult) -> list[tuple[str, bool]]:
    """The snippet cut into plain and highlighted pieces (the template escapes them)."""
    text, pieces, at = result.snippet.text, [], 0
    for start, end in result.snippet.highlights:
        pieces += [(text[at:start], False), (text[start:end], True)]
        at = end
    return [*pieces, (text[at:], False)]


def _page(request: HttpRequest, *, access=None) -> HttpResponse:
    group = access.group if access else None
    params = {name: request.GET.get(name, "").strip() for name in FILTERS}
    chosen = request.GET.getlist("group")
    errors, results, truncated = {}, None, False
    if any(params.values()) or chosen:
        try:
            answer = search(
                user=request.user, request=search_request_parse(request.GET), within=group
            )
        except Invalid as error:
            errors = {name: " ".join(messages) for name, messages in error.message_dict.items()}
        else:
            results = [(result, _pieces(result)) for result in answer.results]
            truncated = answer.truncated
    return render(
        request,
        "operations/search.html",
        {
            "group": group,
            "access": access,
            "params": params,
            "chosen": chosen,
            "groups": [] if group else list(searchable_groups(user=request.user).order_by("name")),
            "kinds": Message.Kind.choices,
            "handling_codes": HandlingCode.choices,
            "errors": errors,
            "results": results,
            "truncated": truncated,
        },
        status=200,
    )


@login_required
@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    return _page(request)


@login_required
@require_GET
def group_search_page(request: HttpRequest, slug: str) -> HttpResponse:
    return _page(request, access=access_group(request.user, slug))
