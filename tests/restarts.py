"""What the restart tests share: servers of the test's own (Redis, a PostgreSQL cluster),
and a light websocket client that behaves as docs/protocol.md tells clients to.

The client keeps a cursor per group, reconnects with back-off and jitter after any
close but 4401, syncs on every hello, keeps its posts until they are accepted and
sends them again after an `unavailable` error or a reconnection (as static/js/group.js
does). It records every seq it receives, so that a test can compare them with the
database's: nothing missing, nothing twice.
"""

import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import websockets

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing answers on port {port} after {timeout} s")


class RedisServer:
    """A redis-server of the test's own, without persistence: a restart empties it."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port, 10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


class PostgresCluster:
    """A PostgreSQL cluster of the test's own (initdb + pg_ctl) in a temporary directory.

    initdb refuses to run as root: as root, the cluster belongs to the `postgres` user.
    """

    def __init__(self):
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="cencomm-pg-"))
        self.data = self.directory / "data"
        self.as_root = os.geteuid() == 0

    def _run(self, *command: str, check=True) -> subprocess.CompletedProcess:
        if self.as_root:
            command = ("runuser", "-u", "postgres", "--", *command)
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        if self.as_root:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run(
            str(POSTGRES_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
        )
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.directory}'\n"
                "fsync = off\nmax_connections = 100\n"
            )

    def start(self) -> None:
        self._run(
            str(POSTGRES_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.directory / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._run(str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def create_database(self, name: str) -> None:
        self._run(str(POSTGRES_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), name)

    def destroy(self) -> None:
        self._run(
            str(POSTGRES_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-m",
            "immediate",
            "-w",
            "stop",
            check=False,
        )
        shutil.rmtree(self.directory, ignore_errors=True)


def kill_process(process: subprocess.Popen) -> None:
    """Kill at once, as a crash would: no socket is closed cleanly."""
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)


class Client:
    """One program on a websocket, as docs/protocol.md describes a well-behaved client."""

    FIRST_RETRY, MAX_RETRY = 0.5, 5.0  # as static/js/socket.js

    def __init__(self, url: str, token: str, *, name: str = "", post_to: str | None = None):
        self.url, self.token, self.name = url, token, name
        self.post_to = post_to  # a group to post to now and then, or None
        self.cursors: dict[str, int] = {}
        self.received: dict[str, list[int]] = {}  # every seq, in arrival order
        self.pending: dict[str, dict] = {}  # client_id -> post frame, until accepted
        self.accepted: dict[str, int] = {}  # client_id -> seq
        self.errors: Counter = Counter()
        self.closes: list[int] = []
        self.revoked: set[str] = set()
        self.connections = 0
        self.hello_at: list[float] = []
        self.socket = None
        self.online = asyncio.Event()
        self.ended = False  # closed with 4401: signed out for good
        self.refused = 0  # handshakes that failed (HTTP status, connection refused)
        self.sending: set[asyncio.Task] = set()
        self.refusal = ""  # the last handshake failure
        self.resend_timer: asyncio.TimerHandle | None = None
        self.unsynced: set[str] = set()  # groups whose sync got `unavailable`

    async def run(self, stop: asyncio.Event, *, first_delay: float = 0.0) -> None:
        attempt = 0
        await asyncio.sleep(first_delay)
        while not stop.is_set() and not self.ended:
            try:
                async with websockets.connect(
                    self.url,
                    additional_headers={"Authorization": f"Token {self.token}"},
                    open_timeout=30,
                    ping_interval=None,
                    max_queue=None,
                ) as socket:
                    self.socket = socket
                    self.connections += 1
                    await self._session(socket, stop)
                    attempt = 0
            except websockets.ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else 1006
                self.closes.append(code)
                if code == 4401:
                    self.ended = True
                    break
                if code != 4503:
                    attempt = 0
            except (
                OSError,
                websockets.InvalidStatus,
                websockets.InvalidHandshake,
                TimeoutError,
            ) as error:
                self.refused += 1
                self.refusal = repr(error)[:200]
            finally:
                self.socket = None
                self.online.clear()
                if self.resend_timer is not None:
                    self.resend_timer.cancel()
                    self.resend_timer = None
            if stop.is_set() or self.ended:
                break
            # Back-off with jitter: 0.5 s doubling to 5 s, each wait between 0.5 and 1.5
            # times its step, so that clients cut off together come back spread out.
            step = min(self.MAX_RETRY, self.FIRST_RETRY * 2**attempt)
            attempt += 1
            await asyncio.sleep(step * (0.5 + random.random()))

    async def _session(self, socket, stop: asyncio.Event) -> None:
        poster = None
        try:
            async for text in socket:
                frame = json.loads(text)
                kind = frame["type"]
                if kind == "hello":
                    self.hello_at.append(time.monotonic())
                    for group in list(self.cursors):
                        if group not in frame["groups"]:
                            del self.cursors[group]
                    for group in frame["groups"]:
                        self.cursors.setdefault(group, 0)
                    await socket.send(json.dumps({"type": "sync", "cursors": self.cursors}))
                    for post in list(self.pending.values()):
                        await socket.send(json.dumps(post))
                    self.online.set()
                    if self.post_to and poster is None:
                        poster = asyncio.ensure_future(self._post_now_and_then(socket, stop))
                elif kind == "sync.page":
                    for event in frame["events"]:
                        self._event(frame["group"], event["seq"])
                elif kind == "event":
                    self._event(frame["group"], frame["seq"])
                elif kind == "message.accepted":
                    self.pending.pop(frame["client_id"], None)
                    self.accepted[frame["client_id"]] = frame["seq"]
                elif kind == "access.revoked":
                    self.revoked.add(frame["group"])
                    self.cursors.pop(frame["group"], None)
                elif kind == "access.granted":
                    self.cursors.setdefault(frame["group"], frame["seq"])
                elif kind == "error":
                    self.errors[frame["code"]] += 1
                    if frame["code"] in ("unavailable", "rate_limited"):
                        # Nothing was stored: send what still waits again a little later.
                        if frame["code"] == "unavailable" and "client_id" not in frame:
                            self.unsynced.add(frame.get("group"))
                        self._resend_soon(socket)
                    elif frame.get("client_id"):
                        self.pending.pop(frame["client_id"], None)
        finally:
            if poster is not None:
                poster.cancel()

    def _resend_soon(self, socket) -> None:
        """One resend at a time, 2 to 3 s later (as static/js/group.js does)."""
        if self.resend_timer is not None:
            return

        def resend():
            self.resend_timer = None
            if socket is not self.socket:
                return  # reconnected meanwhile: the hello sent everything again
            frames = list(self.pending.values())
            groups = {g: self.cursors[g] for g in self.unsynced if g in self.cursors}
            self.unsynced.clear()
            if groups:
                frames.insert(0, {"type": "sync", "cursors": groups})
            task = asyncio.ensure_future(self._send_quietly(socket, frames))
            self.sending.add(task)
            task.add_done_callback(self.sending.discard)

        self.resend_timer = asyncio.get_running_loop().call_later(2 + random.random(), resend)

    @staticmethod
    async def _send_quietly(socket, frames: list[dict]) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            for frame in frames:
                await socket.send(json.dumps(frame))

    def _event(self, group: str, seq: int) -> None:
        self.received.setdefault(group, []).append(seq)
        if seq > self.cursors.get(group, 0):
            self.cursors[group] = seq

    async def _post_now_and_then(self, socket, stop: asyncio.Event, every: float = 0.2):
        number = 0
        while not stop.is_set() and self.post_to and self.post_to in self.cursors:
            client_id = str(uuid.uuid4())
            frame = {
                "type": "message.post",
                "group": self.post_to,
                "client_id": client_id,
                "body": f"{self.name} {number}",
            }
            self.pending[client_id] = frame
            number += 1
            try:
                await socket.send(json.dumps(frame))
            except websockets.ConnectionClosed:
                return
            await asyncio.sleep(every)

    def summary(self) -> dict:
        return {
            "errors": dict(self.errors),
            "closes": self.closes,
            "refused": self.refused,
            "refusal": self.refusal,
            "accepted": len(self.accepted),
            "pending": len(self.pending),
            "cursors": self.cursors,
        }

    def caught_up(self, heads: dict[str, int]) -> bool:
        return all(self.cursors.get(group) == head for group, head in heads.items())


# What a cluster of the test's own holds: migrated databases, and one group with three
# posting members (the same services as the demo world; tokens as the API makes them).
_WORLD_SCRIPT = """
import datetime, json
import django
django.setup()
from django.contrib.auth import get_user_model
from groups.models import Administration, Region, Role
from groups.services import membership_add, profile_ensure
from operations.services import operation_create
from core.vocabularies import CommodityCategory
from groups.two_factor import token_issue

users = {}
for username, country in [("ocu", "BE"), ("officer.fr", "FR"), ("officer.de", "DE"), ("officer.nl", "NL")]:
    administration, _ = Administration.objects.get_or_create(
        country=country, defaults={"name": f"Customs {country}", "region": Region.EUROPE}
    )
    users[username] = get_user_model().objects.create_user(username=username, password="x" * 12)
    profile_ensure(user=users[username], administration=administration)
today = datetime.date.today()
operation = operation_create(
    code="RESTART-2026", name="Restart", commodity_focus=CommodityCategory.DRUGS,
    coordinating_administration=Administration.objects.get(country="BE"),
    planned_start=today - datetime.timedelta(days=1), planned_end=today + datetime.timedelta(days=9),
    created_by=users["ocu"],
)
for username in ("officer.fr", "officer.de", "officer.nl"):
    membership_add(group=operation.group, user=users[username], role=Role.MEMBER, added_by=users["ocu"])
print(json.dumps({
    "group": operation.group.slug,
    "tokens": {u: token_issue(user=users[u], second_factor=False).key for u in ("officer.fr", "officer.de", "officer.nl")},
}))
"""


def prepare_cluster(cluster: PostgresCluster, environment: dict) -> dict:
    """Create and migrate both databases in the cluster, as an operator would, and
    make a group with three members. Returns the group's slug and the members' tokens."""
    cluster.create_database("cencomm")
    cluster.create_database("cencomm_cen")
    for alias in ("default", "cen"):
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--database", alias, "--no-input", "-v", "0"],
            cwd=ROOT,
            env=environment,
            check=True,
            capture_output=True,
            timeout=300,
        )
    made = subprocess.run(
        [sys.executable, "-c", _WORLD_SCRIPT],
        cwd=ROOT,
        env=environment,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(made.stdout.strip().splitlines()[-1])


# ---- a reconnect storm ---------------------------------------------------------------------


class ConnectionSampler:
    """Counts a server's PostgreSQL connections (pg_stat_activity, by application_name)."""

    def __init__(self, dsn: str, application: str):
        self.dsn, self.application = dsn, application
        self.samples: list[int] = []
        self._stop = asyncio.Event()

    async def run(self) -> None:
        import psycopg

        async with await psycopg.AsyncConnection.connect(self.dsn, autocommit=True) as connection:
            while not self._stop.is_set():
                cursor = await connection.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                    [self.application],
                )
                self.samples.append((await cursor.fetchone())[0])
                await asyncio.sleep(0.05)

    def stop(self) -> int:
        self._stop.set()
        return max(self.samples, default=0)


async def reconnect_storm(
    *,
    clients: int,
    tokens: list[str],
    group: str,
    start_server,
    kill_server,
    post_while_down,
    head_now,
    sampler: ConnectionSampler,
    catch_up_timeout: float,
) -> dict:
    """Connect ``clients`` sockets, kill their server, post while it is down, start it
    again on the same port, and measure how long until every client has caught up.

    ``start_server()`` (blocking) returns the server's websocket URL once it answers;
    the other callables are blocking too and run in threads.
    """
    url = await asyncio.to_thread(start_server)
    stop = asyncio.Event()
    crowd = [
        Client(url, tokens[number % len(tokens)], name=str(number)) for number in range(clients)
    ]
    sampling = asyncio.ensure_future(sampler.run())
    # Connect them in a stream, not all in the same millisecond (a page load is spread too).
    tasks = [
        asyncio.ensure_future(client.run(stop, first_delay=number * 0.002))
        for number, client in enumerate(crowd)
    ]
    started = time.monotonic()
    try:
        try:
            await _wait(lambda: all(c.online.is_set() for c in crowd), 120)
        except AssertionError:
            offline = [c for c in crowd if not c.online.is_set()]
            raise AssertionError(
                f"{len(offline)} of {clients} not connected within 120 s; for instance "
                f"{[c.summary() for c in offline[:3]]}"
            ) from None
        connected_in = time.monotonic() - started
        head = await asyncio.to_thread(head_now)
        await _wait(lambda: all(c.caught_up({group: head}) for c in crowd), 30)

        await asyncio.to_thread(kill_server)
        killed_at = time.monotonic()
        await _wait(lambda: not any(c.online.is_set() for c in crowd), 10)
        await asyncio.to_thread(post_while_down)
        head = await asyncio.to_thread(head_now)
        sampler.samples.clear()
        await asyncio.to_thread(start_server)
        back_at = time.monotonic()
        try:
            caught_up_in = await _wait(
                lambda: all(c.caught_up({group: head}) for c in crowd), catch_up_timeout
            )
        except AssertionError:
            late = [c for c in crowd if not c.caught_up({group: head})]
            raise AssertionError(
                f"{len(late)} of {clients} not caught up within {catch_up_timeout} s "
                f"(head {head}; {sum(c.online.is_set() for c in crowd)} online); "
                f"for instance {[c.summary() for c in late[:3]]}"
            ) from None
        reconnected = [c.hello_at[-1] - back_at for c in crowd]
    finally:
        stop.set()
        peak = sampler.stop()
        await asyncio.gather(
            *(c.socket.close() for c in crowd if c.socket is not None), return_exceptions=True
        )
        await asyncio.gather(*tasks, sampling, return_exceptions=True)
    reconnected.sort()
    return {
        "clients": clients,
        "connected_in": round(connected_in, 2),
        "down_for": round(back_at - killed_at, 2),
        "caught_up_in": round(caught_up_in, 2),
        "first_hello_after": round(reconnected[0], 2),
        "median_hello_after": round(reconnected[len(reconnected) // 2], 2),
        "last_hello_after": round(reconnected[-1], 2),
        "peak_connections": peak,
        "errors": sum((c.errors for c in crowd), Counter()),
        "closes_after_restart": Counter(
            code for c in crowd for code in c.closes[1:]
        ),  # the first close of each is the kill (1006)
        "received": [c.received.get(group, []) for c in crowd],
        "head": head,
    }


async def _wait(condition, timeout: float, step: float = 0.05) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s")
        await asyncio.sleep(step)
    return time.monotonic() - started
