import json
import logging

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db(databases=["default", "cen"])


def test_health_checks_both_databases_and_redis(client, settings):
    response = client.get("/health/")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cen_database"} | (
        {"redis"} if settings.REDIS_URL else set()
    )
    assert all(check["ok"] for check in body["checks"].values())


def test_health_says_unavailable_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == {"ok": False, "error": "ConnectionError"}


def test_metrics_are_served_to_the_local_scraper_only(client):
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert b"cencomm_websockets_connected" in response.content
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404


def test_every_response_carries_a_request_id_and_logs_are_json(client, caplog):
    from core.logging import ContextFilter, JsonFormatter

    response = client.get("/login/", HTTP_X_REQUEST_ID="abcdef123456")
    assert response["X-Request-ID"] == "abcdef123456"
    assert len(client.get("/login/")["X-Request-ID"]) == 32
    record = logging.LogRecord(
        "cencomm", logging.INFO, __file__, 1, "seizure %s validated", ("x",), None
    )
    ContextFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "seizure x validated"
    assert {"request_id", "user_id", "level", "time"} <= set(line)


@override_settings(METRICS_ALLOWED_NETWORKS=["10.0.0.0/8"])
def test_metrics_networks_come_from_settings(client):
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_posting_counts_in_the_metrics(world, client):
    import uuid

    from prometheus_client import REGISTRY

    from messaging.services import message_post

    before = REGISTRY.get_sample_value("cencomm_messages_posted_total", {"kind": "alert"}) or 0
    message_post(
        author=world.officer_fr, group=world.group, body="x", client_id=uuid.uuid4(), kind="alert"
    )
    assert (
        REGISTRY.get_sample_value("cencomm_messages_posted_total", {"kind": "alert"}) == before + 1
    )


@pytest.mark.django_db(transaction=True)
async def test_sockets_and_deliveries_count_in_the_metrics(world):
    import uuid

    from asgiref.sync import sync_to_async
    from channels.testing import WebsocketCommunicator
    from prometheus_client import REGISTRY
    from rest_framework.authtoken.models import Token

    from cencomm.asgi import application
    from messaging.services import message_post

    key = (await sync_to_async(Token.objects.create)(user=world.officer_de)).key
    sockets = REGISTRY.get_sample_value("cencomm_websockets_connected") or 0
    delivered = REGISTRY.get_sample_value("cencomm_events_delivered_total") or 0
    communicator = WebsocketCommunicator(
        application, "/ws/", headers=[(b"authorization", f"Token {key}".encode())]
    )
    await communicator.connect()
    hello = await communicator.receive_json_from(timeout=5)
    await communicator.send_json_to({"type": "sync", "cursors": hello["groups"]})
    await communicator.receive_json_from(timeout=5)
    assert REGISTRY.get_sample_value("cencomm_websockets_connected") == sockets + 1
    await sync_to_async(message_post)(
        author=world.officer_fr, group=world.group, body="x", client_id=uuid.uuid4()
    )
    frame = await communicator.receive_json_from(timeout=5)
    assert frame["type"] == "event"
    assert REGISTRY.get_sample_value("cencomm_events_delivered_total") == delivered + 1
    assert (REGISTRY.get_sample_value("cencomm_event_fanout_seconds_count") or 0) >= 1
    await communicator.disconnect()
    assert REGISTRY.get_sample_value("cencomm_websockets_connected") == sockets
