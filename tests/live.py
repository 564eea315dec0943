"""A real daphne process serving the test databases, for browser and protocol tests."""

import collections
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.db import connections

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def application_name(port: int) -> str:
    """How the server on this port names its PostgreSQL connections (pg_stat_activity)."""
    return f"cencomm-live-{port}"


def _database_url(alias: str, port: int) -> str:
    database = connections[alias].settings_dict
    if database["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{database['NAME']}"
    user = database.get("USER") or ""
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    host = database.get("HOST") or "127.0.0.1"
    database_port = database.get("PORT") or 5432
    return (
        f"postgres://{user}{password}@{host}:{database_port}/{database['NAME']}"
        f"?application_name={application_name(port)}"
    )


def server_environment(port: int, **extra) -> dict:
    """The test process's own databases, Redis database and channel prefix, for a child."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "CI"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="tests.live_settings",
        DATABASE_URL=_database_url("default", port),
        CEN_DATABASE_URL=_database_url("cen", port),
        SECRET_KEY=settings.SECRET_KEY,
        DEBUG="1",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        CSRF_TRUSTED_ORIGINS=f"http://127.0.0.1:{port},http://localhost:{port}",
        CHANNEL_LAYER_PREFIX=settings.CHANNEL_LAYER_PREFIX,
        PYTHONUNBUFFERED="1",
    )
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    env.update(extra)
    return env


class LiveServer:
    def __init__(self, port: int, process: subprocess.Popen):
        self.port = port
        self.process = process
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}/ws/"
        # Read standard error as it comes: daphne logs every connection, and a full pipe
        # would stop the server in the middle of a test with many sockets.
        self._errors: collections.deque[bytes] = collections.deque(maxlen=20000)
        self._reader = threading.Thread(target=self._read_errors, daemon=True)
        self._reader.start()

    def _read_errors(self) -> None:
        for line in iter(self.process.stderr.readline, b""):
            self._errors.append(line)

    def stop(self) -> str:
        """Stop the process; returns what it wrote to standard error (for failure reports)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=10)
        return b"".join(self._errors).decode(errors="replace")


def start_daphne(port: int | None = None, *, daphne_args=(), **extra_env) -> LiveServer:
    port = port or free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            *daphne_args,
            "cencomm.asgi:application",
        ],
        cwd=ROOT,
        env=server_environment(port, **extra_env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    # A loaded machine (a whole suite beside a benchmark) can take a minute to start it.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daphne exited: {process.stderr.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=1)
            return LiveServer(port, process)
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("daphne did not answer within 90 seconds")


def in_thread(function, /, *args, **kwargs):
    """Call a service from a thread of its own.

    Playwright's synchronous API keeps an event loop running in the test's thread,
    where the channel layer's async_to_sync cannot run; a plain thread can.
    """
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    def call():
        try:
            return function(*args, **kwargs)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()
