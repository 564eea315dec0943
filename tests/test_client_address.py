"""One client address for everything that keys on it (audit, lockout, throttles, /metrics),
taken from X-Forwarded-For only when the connection comes from a trusted proxy."""

import http.client
import json
import shlex
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import redis
from axes.models import AccessAttempt
from django.core.cache import cache, caches
from rest_framework.test import APIClient

import core.throttling
from core.logging import client_address
from core.models import AuditEntry
from tests.conftest import PASSWORD
from tests.live import ROOT, LiveServer, free_port, server_environment
from tests.test_deploy import NGINX, nginx_config

PROXY = "10.0.0.2"
OUTSIDER = "203.0.113.9"


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = [PROXY, "10.1.0.0/16"]


def test_no_proxy_is_trusted_by_default():
    environment = {"PATH": "/usr/bin:/bin", "DEBUG": "1"}
    script = "from django.conf import settings; print(settings.TRUSTED_PROXIES)"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        cwd=ROOT,
        env={**environment, "DJANGO_SETTINGS_MODULE": "cencomm.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"


def test_an_untrusted_peer_is_the_client_whatever_its_header_says(behind_proxy):
    assert client_address(OUTSIDER, "198.51.100.7") == OUTSIDER
    assert client_address(OUTSIDER, f"198.51.100.7, {PROXY}") == OUTSIDER


def test_behind_a_trusted_proxy_the_client_is_the_right_most_untrusted_entry(behind_proxy):
    assert client_address(PROXY, "198.51.100.7") == "198.51.100.7"
    # The client wrote the left entries; the proxies appended the right ones.
    assert client_address(PROXY, "192.0.2.1, 198.51.100.7") == "198.51.100.7"
    assert client_address(PROXY, "192.0.2.1, 198.51.100.7, 10.1.4.4") == "198.51.100.7"
    assert client_address(PROXY, "") == PROXY
    assert client_address(PROXY, "not-an-address") == PROXY


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert client_address(PROXY, "198.51.100.7") == PROXY


@pytest.mark.django_db
def test_a_failed_login_is_keyed_on_the_peer_or_on_what_the_trusted_proxy_saw(
    client, world, settings, behind_proxy
):
    settings.AXES_ENABLED = True
    forged = {"username": "officer.fr", "password": "wrong"}
    client.post("/login/", forged, REMOTE_ADDR=OUTSIDER, HTTP_X_FORWARDED_FOR="192.0.2.1")
    client.post("/login/", forged, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="192.0.2.1, 192.0.2.2")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {
        OUTSIDER,
        "192.0.2.2",
    }


@pytest.mark.django_db
def test_the_audit_trail_records_the_same_address(client, world, behind_proxy):
    client.post(
        "/login/",
        {"username": "officer.fr", "password": PASSWORD},
        REMOTE_ADDR=OUTSIDER,
        HTTP_X_FORWARDED_FOR="192.0.2.1",
    )
    client.logout()
    client.post(
        "/login/",
        {"username": "officer.de", "password": PASSWORD},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="192.0.2.1, 192.0.2.2",
    )
    logins = AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN).order_by("pk")
    assert [(entry.actor_name, entry.ip) for entry in logins] == [
        ("officer.fr", OUTSIDER),
        ("officer.de", "192.0.2.2"),
    ]


@pytest.fixture
def token_throttle(monkeypatch):
    monkeypatch.setattr(core.throttling.AnonRateThrottle, "rate", "3/minute", raising=False)
    cache.delete(f"throttle_anon_{OUTSIDER}")
    yield
    cache.delete(f"throttle_anon_{OUTSIDER}")


@pytest.mark.django_db
def test_the_token_endpoint_throttle_holds_across_header_rotation_and_lives_in_redis(
    world, settings, token_throttle
):
    api = APIClient(REMOTE_ADDR=OUTSIDER)
    statuses = [
        api.post(
            "/api/v1/auth/token/",
            {"username": "officer.fr", "password": "wrong"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}",
        ).status_code
        for attempt in range(4)
    ]
    assert statuses == [400, 400, 400, 429]

    assert settings.REDIS_URL, "the throttle is checked on the real Redis"
    # Another process's cache client sees this one's count.
    other_client = caches.create_connection("default")
    assert other_client is not cache
    assert len(other_client.get(f"throttle_anon_{OUTSIDER}")) == 3
    raw = redis.Redis.from_url(settings.REDIS_URL)
    assert raw.exists(cache.make_key(f"throttle_anon_{OUTSIDER}")) == 1


def test_metrics_want_the_token_when_one_is_set(client, settings):
    settings.METRICS_TOKEN = "scrape-secret-0123456789"
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404
    wrong = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 404
    good = client.get(
        "/metrics", REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION="Bearer scrape-secret-0123456789"
    )
    assert good.status_code == 200 and b"cencomm_websockets_connected" in good.content
    outside = client.get(
        "/metrics", REMOTE_ADDR=OUTSIDER, HTTP_AUTHORIZATION="Bearer scrape-secret-0123456789"
    )
    assert outside.status_code == 404


def test_metrics_refuse_a_forged_header_from_an_outside_peer(client, settings):
    settings.TRUSTED_PROXIES = [OUTSIDER]
    response = client.get("/metrics", REMOTE_ADDR=OUTSIDER, HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert response.status_code == 404


def production_daphne(**environment) -> LiveServer:
    """daphne started as docker/entrypoint.sh starts it, on a port of the test's own."""
    line = next(
        line
        for line in (ROOT / "docker/entrypoint.sh").read_text().splitlines()
        if line.strip().startswith("exec daphne")
    )
    arguments = shlex.split(line.strip().removeprefix("exec ").removesuffix(";;"))
    arguments[arguments.index("--bind") + 1] = "127.0.0.1"
    port = free_port()
    arguments[arguments.index("--port") + 1] = str(port)
    process = subprocess.Popen(
        [sys.executable, "-m", *arguments],
        cwd=ROOT,
        env=server_environment(port, **environment),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(process.stderr.read().decode()[-2000:])
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=1)
            return LiveServer(port, process)
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("daphne did not answer within 30 seconds")


def get_status(port: int, path: str, headers: dict, source: str = "127.0.0.1") -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, source_address=(source, 0))
    try:
        connection.request("GET", path, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_production_daphne_judges_metrics_on_the_real_peer_not_the_header(world):
    server = production_daphne(METRICS_ALLOWED_NETWORKS="10.0.0.0/8", TRUSTED_PROXIES="")
    try:
        assert get_status(server.port, "/metrics", {"X-Forwarded-For": "10.1.2.3"}) == 404
    finally:
        server.stop()


@pytest.mark.django_db(transaction=True)
def test_behind_nginx_the_lockout_keys_on_the_address_nginx_saw(tmp_path, world):
    """nginx (at 127.0.0.1, trusted) in front of daphne; the client comes from 127.0.0.3."""
    if not Path(NGINX).exists():
        pytest.fail("nginx is missing: the test command installs it (apt-get install nginx-light)")
    (tmp_path / "nginx-temp").mkdir()
    server = production_daphne(TRUSTED_PROXIES="127.0.0.1")
    port = free_port()
    config = tmp_path / "nginx.conf"
    config.write_text(nginx_config(tmp_path, port, [server.port]))
    nginx = subprocess.Popen([NGINX, "-c", str(config), "-p", str(tmp_path)])
    try:
        for _attempt in range(50):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        connection = http.client.HTTPConnection("127.0.0.1", port, source_address=("127.0.0.3", 0))
        connection.request(
            "POST",
            "/api/v1/auth/token/",
            body=json.dumps({"username": "officer.fr", "password": "wrong"}),
            headers={"Content-Type": "application/json", "X-Forwarded-For": "192.0.2.77"},
        )
        assert connection.getresponse().status == 400
        connection.close()
        assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["127.0.0.3"]
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        server.stop()
