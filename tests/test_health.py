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
    from cencomm.logging import ContextFilter, JsonFormatter

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
