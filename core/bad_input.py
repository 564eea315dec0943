"""Input that no page or endpoint can take, refused before any view sees it.

A NUL character is never part of real input, and PostgreSQL text cannot hold one: a
filter, a username or a code carrying it would otherwise reach the database and fail
there (a 500). It is refused at the door with a clear 400 in the platform's shape.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from .errors import json_error

NUL = "\x00"
FORM_TYPES = ("application/x-www-form-urlencoded",)


def _carries_nul(request: HttpRequest) -> bool:
    if NUL in request.path:
        return True
    if any(
        NUL in key or any(NUL in value for value in values) for key, values in request.GET.lists()
    ):
        return True
    if request.method == "POST" and request.content_type in FORM_TYPES:
        return any(
            NUL in key or any(NUL in value for value in values)
            for key, values in request.POST.lists()
        )
    return False


def bad_request(request: HttpRequest, detail: str) -> HttpResponse:
    """A 400 in the shape of the door: JSON for the API and JSON views, a page elsewhere."""
    wants_json = request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )
    if wants_json:
        return json_error(400, "invalid", detail)
    return render(request, "bad_request.html", {"detail": detail}, status=400)


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _carries_nul(request):
            return bad_request(request, _("The request contains a character that is not allowed."))
        return self.get_response(request)
