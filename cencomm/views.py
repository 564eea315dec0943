from django.conf import settings
from django.http import FileResponse, HttpRequest
from django.views.decorators.cache import never_cache


@never_cache
def service_worker(request: HttpRequest) -> FileResponse:
    """Served from the root so that it may control every page of the platform."""
    response = FileResponse(
        open(settings.BASE_DIR / "static" / "js" / "sw.js", "rb"),  # noqa: SIM115
        content_type="application/javascript",
    )
    response["Service-Worker-Allowed"] = "/"
    return response
