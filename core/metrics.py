"""Prometheus metrics of this process, at /metrics.

Each daphne process counts its own sockets and deliveries; scrape every process
(docs/deploy.md). Message content never appears in a metric or a label.
"""

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

SOCKETS = Gauge("cencomm_websockets_connected", "Open websockets in this process")
MESSAGES_POSTED = Counter(
    "cencomm_messages_posted_total", "Messages and seizure alerts stored", ["kind"]
)
EVENTS_DELIVERED = Counter("cencomm_events_delivered_total", "Event frames sent to sockets")
GAPS_FILLED = Counter(
    "cencomm_gap_fills_total", "Times a socket fetched missed events from the database"
)
INBOX_OVERFLOWS = Counter(
    "cencomm_socket_inbox_overflows_total",
    "Times a slow socket's event inbox was full and it caught up from the database",
)
FANOUT_SECONDS = Histogram(
    "cencomm_event_fanout_seconds",
    "From the commit of an event to its frame leaving this process, per socket",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
ADMISSIONS_DEFERRED = Counter(
    "cencomm_websocket_admissions_deferred_total",
    "Handshakes closed with 4503 after waiting too long for a place (messaging/admission.py)",
)
TRANSFER_ROWS = Counter(
    "cencomm_transfer_rows_total", "Seizures written to the CEN database", ["operation"]
)
TRANSFER_BATCHES = Counter(
    "cencomm_transfer_batches_total", "Transfer batches committed", ["operation"]
)


def _allowed(request: HttpRequest) -> bool:
    # The connection's own peer, never a forwarding header: the scraper talks to each
    # daphne process directly, and a header is whatever its sender wrote.
    address = request.META.get("REMOTE_ADDR", "")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if not any(
        ip in ipaddress.ip_network(network) for network in settings.METRICS_ALLOWED_NETWORKS
    ):
        return False
    if not settings.METRICS_TOKEN:
        return True
    # A proxy that forwards /metrics by mistake is itself inside the allowed networks;
    # the token keeps the metrics from whoever is behind it.
    scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        token.strip().encode(), settings.METRICS_TOKEN.encode()
    )


def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return HttpResponseNotFound()
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
