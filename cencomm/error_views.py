"""The platform's 403, 404 and 500 answers, and its refused-form (CSRF) answer.

A page gets the platform's own page in the reader's language (templates/403.html,
404.html, 500.html); a script of a page that asked for JSON (the seizure form's
submission, the dashboard's data, the outbox) gets the JSON error every JSON door
answers with (core.errors), in the same language, so that it can show the reason
where the user looks instead of an HTML page it cannot read.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults

from core.errors import describe, json_error


def wants_json(request: HttpRequest) -> bool:
    """Did a script ask, rather than a browser's navigation?"""
    accept = request.headers.get("Accept", "")
    return "application/json" in accept or request.content_type == "application/json"


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if wants_json(request):
        described = describe(exception)
        return json_error(403, "forbidden", described.detail, reason=described.reason)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if wants_json(request):
        return json_error(404, "not_found", _("Not found."))
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if wants_json(request):
        return json_error(500, "error", _("Something went wrong"))
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form or script whose security token is stale (a page kept offline, a session
    that ended in another tab): the reader is told to reload, in their language."""
    detail = _(
        "This page was open too long or your session changed: reload the page and try again."
    )
    if wants_json(request):
        return json_error(403, "forbidden", detail, reason="csrf")
    return render(request, "403.html", {"exception": detail, "reload": True}, status=403)
