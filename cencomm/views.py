from django.conf import settings
from django.http import FileResponse, HttpRequest, JsonResponse
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control, never_cache

# The colours of static/css/cencomm.css: --brand for the window's bar, --canvas behind
# the splash screen.
THEME_COLOUR = "#123a63"
BACKGROUND_COLOUR = "#f3f5f8"


@never_cache
def service_worker(request: HttpRequest) -> FileResponse:
    """Served from the root so that it may control every page of the platform."""
    response = FileResponse(
        open(settings.BASE_DIR / "static" / "js" / "sw.js", "rb"),  # noqa: SIM115
        content_type="application/javascript",
    )
    response["Service-Worker-Allowed"] = "/"
    return response


@cache_control(max_age=3600)
def web_manifest(request: HttpRequest) -> JsonResponse:
    """What a phone or a desktop needs to install the platform as an app of its own."""
    icons = [
        {"src": static("img/favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
        *(
            {"src": static(f"img/icon-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png"}
            for size in (192, 512)
        ),
        *(
            {
                "src": static(f"img/icon-maskable-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "maskable",
            }
            for size in (192, 512)
        ),
    ]
    manifest = {
        "id": reverse("groups:my_groups"),
        "name": "CENcomm",
        "short_name": "CENcomm",
        "description": "Closed user groups for joint customs enforcement operations.",
        "start_url": reverse("groups:my_groups"),
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": icons,
    }
    return JsonResponse(manifest, content_type="application/manifest+json")
