"""The production proxy configuration, exercised: nginx in front of two daphne processes."""

import asyncio
import json
import os
import shutil
import subprocess
import urllib.request
import uuid
from pathlib import Path

import pytest
import websockets
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from tests.live import ROOT, free_port, start_daphne

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
pytestmark = pytest.mark.django_db(transaction=True)


def nginx_config(tmp: Path, port: int, upstreams: list[int]) -> str:
    servers = "\n".join(f"        server 127.0.0.1:{upstream};" for upstream in upstreams)
    temp = tmp / "nginx-temp"
    # Workers run as the test's own user, so that they may read its temporary folders.
    user = "user root;" if os.geteuid() == 0 else ""
    return f"""
{user}
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    upstream cencomm {{
        least_conn;
{servers}
        keepalive 8;
    }}
    server {{
        listen 127.0.0.1:{port};
        set $static_parent {tmp};
        include {ROOT}/docker/nginx/cencomm-locations.conf;
    }}
}}
"""


@pytest.fixture
def proxied(tmp_path, world, settings):
    if not Path(NGINX).exists():
        pytest.fail("nginx is missing: the test command installs it (apt-get install nginx-light)")
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", interactive=False, verbosity=0)
    (tmp_path / "nginx-temp").mkdir()
    servers = [start_daphne(), start_daphne()]
    port = free_port()
    config = tmp_path / "nginx.conf"
    config.write_text(nginx_config(tmp_path, port, [server.port for server in servers]))
    nginx = subprocess.Popen(
        [NGINX, "-c", str(config), "-p", str(tmp_path)], stderr=subprocess.PIPE
    )
    try:
        for _attempt in range(50):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=1)
                break
            except OSError:
                if nginx.poll() is not None:
                    pytest.fail(nginx.stderr.read().decode())
                asyncio.run(asyncio.sleep(0.1))
        yield port, servers
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        for server in servers:
            server.stop()


def test_pages_static_files_and_sockets_pass_through_the_proxy(proxied, world):
    port, servers = proxied
    page = urllib.request.urlopen(f"http://127.0.0.1:{port}/login/")
    assert page.status == 200 and b'name="username"' in page.read()
    assert len(page.headers["X-Request-ID"]) >= 8
    css = urllib.request.urlopen(f"http://127.0.0.1:{port}/static/css/cencomm.css")
    assert css.status == 200 and b".topbar" in css.read()
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics")
    assert refused.value.code == 404

    sender = Token.objects.create(user=world.officer_fr).key
    reader = Token.objects.create(user=world.officer_de).key
    body = f"through the proxy {uuid.uuid4()}"

    async def exchange():
        # The reader sits on daphne 2 directly; the sender goes through nginx.
        async with (
            websockets.connect(
                servers[1].ws_url, additional_headers={"Authorization": f"Token {reader}"}
            ) as direct,
            websockets.connect(
                f"ws://127.0.0.1:{port}/ws/",
                additional_headers={"Authorization": f"Token {sender}"},
            ) as via_proxy,
        ):
            hello = json.loads(await direct.recv())
            assert hello["type"] == "hello"
            assert json.loads(await via_proxy.recv())["type"] == "hello"
            # Live events flow once the client has synced its cursors.
            await direct.send(json.dumps({"type": "sync", "cursors": hello["groups"]}))
            await via_proxy.send(
                json.dumps(
                    {
                        "type": "message.post",
                        "group": world.group.slug,
                        "client_id": str(uuid.uuid4()),
                        "body": body,
                    }
                )
            )
            while True:
                frame = json.loads(await asyncio.wait_for(direct.recv(), timeout=10))
                if frame.get("type") == "event" and frame["event"] == "message.created":
                    return frame

    frame = asyncio.run(exchange())
    assert body in frame["data"]["html"]
