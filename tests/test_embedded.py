"""The embedded default — SQLite files and the in-memory channel layer — serves a page and a websocket."""

import asyncio
import json
import os
import re
import subprocess
import sys
import urllib.request
import uuid

import pytest
import websockets

from tests.live import ROOT, free_port

pytestmark = pytest.mark.embedded


def run(command: list[str], env: dict) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_newcomer_gets_a_page_and_a_websocket_with_neither_postgresql_nor_redis(tmp_path):
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "DEBUG": "1",
        "CENCOMM_VAR_DIR": str(tmp_path),
        "CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{port}",
        "DJANGO_SETTINGS_MODULE": "cencomm.settings",
    }
    run(["migrate", "--database", "default", "-v", "0"], env)
    run(["migrate", "--database", "cen", "-v", "0"], env)
    run(["seed_demo"], env)
    key = re.search(r"[0-9a-f]{40}", run(["drf_create_token", "officer.fr"], env)).group(0)
    assert (tmp_path / "cencomm.sqlite3").exists() and (tmp_path / "cen.sqlite3").exists()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "cencomm.asgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _attempt in range(100):
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=1)
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                asyncio.run(asyncio.sleep(0.1))
        assert page.status == 200 and b'name="username"' in page.read()

        async def talk():
            async with websockets.connect(
                f"ws://127.0.0.1:{port}/ws/", additional_headers={"Authorization": f"Token {key}"}
            ) as socket:
                hello = json.loads(await socket.recv())
                assert hello["type"] == "hello" and "demo-2026" in hello["groups"]
                client_id = str(uuid.uuid4())
                await socket.send(
                    json.dumps(
                        {
                            "type": "message.post",
                            "group": "demo-2026",
                            "client_id": client_id,
                            "kind": "text",
                            "body": "hello **world**",
                        }
                    )
                )
                frames = [json.loads(await asyncio.wait_for(socket.recv(), 10)) for _ in range(2)]
                return {frame["type"]: frame for frame in frames}

        frames = asyncio.run(talk())
        assert frames["message.accepted"]["group"] == "demo-2026"
        assert "<strong>world</strong>" in frames["event"]["data"]["html"]

        async def browser_without_origin():
            with pytest.raises(websockets.InvalidStatus):
                async with websockets.connect(
                    f"ws://127.0.0.1:{port}/ws/",
                    additional_headers={"Origin": "http://evil.example"},
                ):
                    pass

        asyncio.run(browser_without_origin())
    finally:
        server.terminate()
        server.wait(timeout=10)
