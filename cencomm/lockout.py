"""What a locked-out login gets: JSON in the API's error shape, a page everywhere else."""

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    detail = _(
        "Too many failed attempts: this account or this address is locked for %(minutes)d minutes."
    ) % {"minutes": minutes}
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": {"code": "locked_out", "detail": detail, "fields": {}}}, status=429
        )
    return render(request, "registration/locked_out.html", {"detail": detail}, status=429)
