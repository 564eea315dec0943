"""ASGI entry point: HTTP through Django, websockets at /ws/ through Channels."""

import gc
import os

from django.conf import settings
from django.core.asgi import get_asgi_application
from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cencomm.settings")
django_asgi_app = get_asgi_application()
try:
    settings.SECRET_KEY  # noqa: B018 - Django refuses an empty key when it is read
except ImproperlyConfigured:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. The server (DEBUG off) refuses to start without one: "
        "set SECRET_KEY to a long random value, or DEBUG=1 for development."
    ) from None

# A server process keeps many long-lived objects (sockets, their state): with the
# default thresholds the collector's full passes pause every socket of the process
# for tens of milliseconds, which set the p99 (docs/performance.md).
if settings.GC_THRESHOLDS:
    gc.set_threshold(*settings.GC_THRESHOLDS)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from messaging.admission import SocketAdmission  # noqa: E402
from messaging.auth import WebsocketAuthMiddleware  # noqa: E402
from messaging.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SocketAdmission(WebsocketAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
if settings.GC_THRESHOLDS:
    # What importing made lives as long as the process: out of the collector's sight,
    # which halved the full passes' pause (about 220 → 110 ms with 500 sockets).
    gc.collect()
    gc.freeze()
