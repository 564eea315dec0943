"""A soak of the deployed shape: is memory flat and are errors zero after half an hour?

    .venv/bin/python -m tests.benchmarks.soak --minutes 30     # every 30 s, a line
    .venv/bin/python -m tests.benchmarks.soak --minutes 1 --interval 10 --no-nginx

Runs what docker/compose runs — nginx in front of two daphne processes, the task worker
(`manage.py db_worker`), PostgreSQL and Redis — on databases of its own (`cencomm_soak`,
`cencomm_soak_cen`, created and migrated here, dropped at the end) and Redis database 15
(emptied before and after), under a steady mix, all to 127.0.0.1:

- websocket posts in 10 groups of 20 members (every member connected, each checking that
  it receives every message of its group exactly once, live or through `sync`);
- reconnects: a member's socket closed and opened again, syncing from its last seq;
- seizure reports over the REST API; page views with a signed-in session; API reads.

Every interval it reports each process's RSS, PostgreSQL connections (pg_stat_activity,
per process), errors (HTTP 5xx, other failed requests, websocket errors, deliveries not
arrived after 15 s, error lines in the servers' logs) and p99 latencies. Results go to
var/benchmarks/soak-<time>.json and a Markdown table on standard output. Exits 1 if
anything failed. See docs/performance.md.
"""

import argparse
import asyncio
import datetime
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import psycopg
import redis

from tests.benchmarks import lightws
from tests.live import free_port

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("SOAK_REDIS_URL", "redis://127.0.0.1:6379/15")
DATABASES = ("cencomm_soak", "cencomm_soak_cen")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
STAMP = re.compile(r"soak\|(\d+)\|(\d+)\|([\d.]+)")
LOST_AFTER = 15.0  # seconds: a delivery not there by then counts as lost
LOG_ERROR = re.compile(r"Traceback|\bERROR\b|\bCRITICAL\b")


def env_for(name: str, port: int = 0, **extra) -> dict:
    application = f"cencomm-soak-{name}"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "DJANGO_SETTINGS_MODULE": "cencomm.settings",
        "DATABASE_URL": f"{PG}/{DATABASES[0]}?application_name={application}",
        "CEN_DATABASE_URL": f"{PG}/{DATABASES[1]}?application_name={application}",
        "REDIS_URL": REDIS_URL,
        "CHANNEL_LAYER_PREFIX": "soak",
        "SECRET_KEY": "soak-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-0123",
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    # Settings under study pass through, e.g. GC_THRESHOLDS=700,10,10.
    env.update(
        {
            k: v
            for k, v in os.environ.items()
            if k.startswith(("WEBSOCKET_", "GC_", "DATABASE_POOL", "TRACE_"))
        }
    )
    env.update(extra)
    return env


def manage(*arguments: str, capture: bool = False) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *arguments],
        cwd=ROOT,
        env=env_for("setup"),
        check=True,
        capture_output=capture,
        text=True,
    )
    return result.stdout if capture else ""


def databases_create():
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as connection:
        for name in DATABASES:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
    for alias in ("default", "cen"):
        manage("migrate", "--database", alias, "-v", "0")


def databases_drop():
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as connection:
        for name in DATABASES:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_flush():
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()


def nginx_config(tmp: Path, port: int, upstreams: list[int]) -> str:
    """The production locations (docker/nginx), as tests/test_deploy.py runs them."""
    servers = "\n".join(f"        server 127.0.0.1:{upstream};" for upstream in upstreams)
    temp = tmp / "nginx-temp"
    user = "user root;" if os.geteuid() == 0 else ""
    return f"""
{user}
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 2048; }}
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


class Deployment:
    """Two daphne processes, the worker and (optionally) nginx, logs in `folder`."""

    def __init__(self, folder: Path, use_nginx: bool, trace_memory: bool = False):
        self.folder = folder
        self.trace_memory = trace_memory
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.log_offsets: dict[str, int] = {}
        self.ports = [free_port(), free_port()]
        self.port = free_port() if use_nginx else None
        self.use_nginx = use_nginx

    def _start(self, name: str, command: list[str], env: dict | None):
        log = self.folder / f"{name}.log"
        self.logs[name] = log
        self.log_offsets[name] = 0
        self.processes[name] = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
        )

    def start(self):
        front = self.port or self.ports[0]
        for number, port in enumerate(self.ports, 1):
            self._start(
                f"daphne{number}",
                [
                    PYTHON,
                    "-m",
                    "tests.benchmarks.traced_daphne"
                    if self.trace_memory and number == 1
                    else "daphne",
                    "-b",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "cencomm.asgi:application",
                ],
                env_for(
                    f"daphne{number}",
                    front,
                    CSRF_TRUSTED_ORIGINS=f"http://127.0.0.1:{front}",
                    TRACE_OUT=str(self.folder),
                ),
            )
        self._start("worker", [PYTHON, "manage.py", "db_worker"], env_for("worker", front))
        for port in self.ports:
            wait_http(f"http://127.0.0.1:{port}/health/", self.processes)
        if self.use_nginx:
            (self.folder / "nginx-temp").mkdir(exist_ok=True)
            (self.folder / "static").mkdir(exist_ok=True)
            config = self.folder / "nginx.conf"
            config.write_text(nginx_config(self.folder, self.port, self.ports))
            self._start("nginx", [NGINX, "-c", str(config), "-p", str(self.folder)], None)
            wait_http(f"http://127.0.0.1:{self.port}/health/", self.processes)

    @property
    def http_base(self) -> str:
        return f"http://127.0.0.1:{self.port or self.ports[0]}"

    def ws_urls(self) -> list[str]:
        if self.use_nginx:
            return [f"ws://127.0.0.1:{self.port}/ws/"]
        return [f"ws://127.0.0.1:{port}/ws/" for port in self.ports]

    def pids(self) -> dict[str, list[int]]:
        """Each process, nginx with its workers."""
        found = {}
        for name, process in self.processes.items():
            pids = [process.pid]
            children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
            if name == "nginx" and children.exists():
                pids += [int(pid) for pid in children.read_text().split()]
            found[name] = pids
        return found

    def trace(self) -> None:
        """Ask the traced daphne for a tracemalloc report (traced_daphne.py)."""
        if self.trace_memory:
            self.processes["daphne1"].send_signal(signal.SIGUSR1)

    def new_log_errors(self) -> dict[str, list[str]]:
        """Error lines the processes logged since the last call."""
        found = {}
        for name, log in self.logs.items():
            with log.open("rb") as handle:
                handle.seek(self.log_offsets[name])
                text = handle.read().decode(errors="replace")
                self.log_offsets[name] = handle.tell()
            lines = [line for line in text.splitlines() if LOG_ERROR.search(line)]
            if lines:
                found[name] = lines
        return found

    def stop(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_http(url: str, processes: dict[str, subprocess.Popen], seconds: float = 180):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def rss_mib(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return round(total / 1024, 1)


def pg_connections() -> dict[str, int]:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as connection:
        rows = connection.execute(
            "SELECT application_name, count(*) FROM pg_stat_activity "
            "WHERE datname = ANY(%s) GROUP BY 1",
            (list(DATABASES),),
        ).fetchall()
    return {name.removeprefix("cencomm-soak-") or "other": count for name, count in rows}


def sockets_gauge(ports: list[int]) -> int | None:
    """What the daphne processes believe is open: cencomm_websockets_connected, summed."""
    total = 0
    for port in ports:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
                text = answer.read().decode()
        except OSError:
            return None
        for metric in text.splitlines():
            if metric.startswith("cencomm_websockets_connected "):
                total += int(float(metric.split()[1]))
    return total


def redis_keys() -> int:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        return client.dbsize()
    finally:
        client.close()


def p99(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1)


class Interval:
    """What happened since the last report."""

    def __init__(self):
        self.counts: Counter = Counter()
        self.ws_ms: list[float] = []
        self.http_ms: list[float] = []
        self.failures: list[str] = []


class Member:
    def __init__(self, index: int, row: dict, soak: "Soak"):
        self.index = index
        self.group = row["group"]
        self.operation = row["operation"]
        self.token = row["token"]
        self.session = row["session"]
        self.soak = soak
        self.socket = None
        self.cursor: int | None = None
        self.seen: set[int] = set()
        self.busy = False

    async def connect(self, url: str):
        socket = await lightws.connect(url, {"Authorization": f"Token {self.token}"}, timeout=60)
        hello = json.loads(await socket.recv())
        if hello.get("type") != "hello":
            raise RuntimeError(f"no hello: {hello}")
        head = hello["groups"][self.group]
        if self.cursor is None:
            self.cursor = head
        socket.handler = self.on_frame
        socket.on_close = self.on_close
        for data in socket.pending:
            self.on_frame(data)
        socket.pending.clear()
        self.socket = socket
        await socket.send(json.dumps({"type": "sync", "cursors": {self.group: self.cursor}}))

    def on_close(self):
        self.soak.now.counts["ws_closed_by_server"] += 1
        self.soak.now.failures.append(f"member {self.index}: socket closed by the server")

    def on_frame(self, data: bytes):
        frame = json.loads(data)
        kind = frame.get("type")
        if kind == "event":
            self.on_event(frame, live=True)
        elif kind == "sync.page":
            for event in frame["events"]:
                self.on_event(event, live=False)
        elif kind == "message.accepted":
            self.soak.now.counts["ws_accepted"] += 1
        elif kind == "error":
            self.soak.now.counts["ws_errors"] += 1
            self.soak.now.failures.append(f"member {self.index}: {frame}")
        elif kind == "resync_required":
            self.soak.now.counts["ws_resync_required"] += 1

    def on_event(self, event: dict, *, live: bool):
        seq = event["seq"]
        if seq in self.seen:
            self.soak.now.counts["ws_duplicates"] += 1
            return
        self.seen.add(seq)
        self.cursor = max(self.cursor or 0, seq)
        if event.get("event") != "message.created":
            return
        match = STAMP.search(event["data"].get("html", ""))
        if match is None:
            return
        key = (int(match[1]), int(match[2]))
        outstanding = self.soak.outstanding.get(key)
        if outstanding is not None:
            outstanding[1] -= 1
            if outstanding[1] <= 0:
                del self.soak.outstanding[key]
        self.soak.now.counts["deliveries"] += 1
        if live:
            self.soak.now.ws_ms.append((time.perf_counter() - float(match[3])) * 1000)
        else:
            self.soak.now.counts["deliveries_by_sync"] += 1


class Soak:
    def __init__(self, arguments, deployment: Deployment, rows: list[dict]):
        self.arguments = arguments
        self.deployment = deployment
        self.members = [Member(index, row, self) for index, row in enumerate(rows)]
        self.group_sizes = Counter(member.group for member in self.members)
        by_group: dict[str, list[Member]] = {}
        for member in self.members:
            by_group.setdefault(member.group, []).append(member)
        self.senders = [
            m for group in by_group.values() for m in group[: arguments.senders_per_group]
        ]
        self.sender_ids = {m.index for m in self.senders}
        self.outstanding: dict[tuple[int, int], list] = {}
        self.sent: Counter = Counter()
        self.now = Interval()
        self.samples: list[dict] = []
        self.stopping = False
        self.limit = asyncio.Semaphore(arguments.concurrency)
        self.total: Counter = Counter()

    # websocket load
    async def connect_all(self):
        urls = self.deployment.ws_urls()
        for start in range(0, len(self.members), 50):
            await asyncio.gather(
                *(
                    member.connect(urls[member.index % len(urls)])
                    for member in self.members[start : start + 50]
                )
            )

    async def post(self):
        member = random.choice(self.senders)
        if member.socket is None or member.socket.closed:
            self.now.counts["posts_skipped"] += 1
            return
        number = self.sent[member.index]
        self.sent[member.index] += 1
        now = time.perf_counter()
        self.outstanding[(member.index, number)] = [now, self.group_sizes[member.group]]
        await member.socket.send(
            json.dumps(
                {
                    "type": "message.post",
                    "group": member.group,
                    "client_id": str(uuid.uuid4()),
                    "body": f"soak|{member.index}|{number}|{now:.6f}",
                }
            )
        )
        self.now.counts["posts"] += 1

    async def reconnect(self):
        candidates = [m for m in self.members if m.index not in self.sender_ids and not m.busy]
        member = random.choice(candidates)
        member.busy = True
        try:
            if member.socket is not None:
                member.socket.on_close = None
                await member.socket.close()
            await asyncio.sleep(random.uniform(0.1, 2.0))  # events pass while it is away
            await member.connect(random.choice(self.deployment.ws_urls()))
            self.now.counts["reconnects"] += 1
        except Exception as error:
            self.now.counts["reconnect_failures"] += 1
            self.now.failures.append(f"reconnect {member.index}: {error!r}")
        finally:
            member.busy = False

    # HTTP load
    async def http(
        self, name: str, method: str, path: str, *, member: Member, body=None, cookie=False
    ):
        headers = {"Accept": "application/json" if path.startswith("/api/") else "text/html"}
        if cookie:
            headers["Cookie"] = f"sessionid={member.session}"
        else:
            headers["Authorization"] = f"Token {member.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(
            self.deployment.http_base + path, data=data, headers=headers, method=method
        )

        def call() -> int:
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    answer.read()
                    return answer.status
            except urllib.error.HTTPError as error:
                error.read()
                return error.code

        started = time.perf_counter()
        try:
            status = await asyncio.to_thread(call)
        except OSError as error:
            self.now.counts["http_failures"] += 1
            self.now.failures.append(f"{name} {path}: {error!r}")
            return
        self.now.http_ms.append((time.perf_counter() - started) * 1000)
        self.now.counts[f"{name}"] += 1
        if status >= 500:
            self.now.counts["http_5xx"] += 1
            self.now.failures.append(f"{name} {path}: {status}")
        elif status >= 400:
            self.now.counts["http_4xx"] += 1
            self.now.failures.append(f"{name} {path}: {status}")

    async def seizure(self):
        member = random.choice(self.members)
        body = {
            "client_uuid": str(uuid.uuid4()),
            "seizure_date": datetime.date.today().isoformat(),
            "reporting_country": "BE",
            "place": "Antwerp",
            "location_type": "seaport",
            "transport_mode": "sea",
            "detection_method": "risk_profiling",
            "commodity_category": "drugs",
            "commodity_description": "Cocaine in a reefer container",
            "quantity": f"{random.randint(1, 900)}.5",
            "unit": "kg",
            "direction": "import",
            "departure_country": "EC",
            "destination_country": "BE",
        }
        await self.http(
            "seizures",
            "POST",
            f"/api/v1/operations/{member.operation}/seizures/",
            member=member,
            body=body,
        )

    async def page(self):
        member = random.choice(self.members)
        path = random.choice(
            [f"/groups/{member.group}/", "/groups/", f"/operations/{member.operation}/"]
        )
        await self.http("pages", "GET", path, member=member, cookie=True)

    async def api(self):
        member = random.choice(self.members)
        path = random.choice(
            [
                "/api/v1/groups/",
                f"/api/v1/groups/{member.group}/messages/?after={max(0, (member.cursor or 0) - 50)}&limit=50",
                f"/api/v1/operations/{member.operation}/seizures/?limit=20",
            ]
        )
        await self.http("api", "GET", path, member=member)

    async def steady(self, rate: float, action):
        """Start `action` `rate` times a second; an action still waiting for a free slot
        is counted as skipped (the servers are behind), never queued without bound."""
        if rate <= 0:
            return
        interval = 1 / rate
        next_at = time.perf_counter() + random.uniform(0, interval)
        tasks = set()
        while not self.stopping:
            delay = next_at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            next_at += interval
            if self.limit.locked():
                self.now.counts["skipped_overloaded"] += 1
                continue

            async def run():
                async with self.limit:
                    await action()

            task = asyncio.create_task(run())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks, return_exceptions=True)

    # reports
    def sample(self, started: float, *, final: bool = False):
        interval, self.now = self.now, Interval()
        lost_limit = time.perf_counter() - (0 if final else LOST_AFTER)
        lost = sum(1 for sent_at, remaining in self.outstanding.values() if sent_at < lost_limit)
        lost_deliveries = sum(
            remaining for sent_at, remaining in self.outstanding.values() if sent_at < lost_limit
        )
        log_errors = self.deployment.new_log_errors()
        pids = self.deployment.pids()
        row = {
            "minute": round((time.perf_counter() - started) / 60, 1),
            "rss_mib": {name: rss_mib(pid_list) for name, pid_list in pids.items()},
            "pg_connections": pg_connections(),
            "sockets_open": sum(
                1 for m in self.members if m.socket is not None and not m.socket.closed
            ),
            "sockets_gauge": sockets_gauge(self.deployment.ports),
            "redis_keys": redis_keys(),
            "counts": dict(interval.counts),
            "ws_p99_ms": p99(interval.ws_ms),
            "http_p99_ms": p99(interval.http_ms),
            "undelivered_messages": lost,
            "undelivered_deliveries": lost_deliveries,
            "log_errors": {name: len(lines) for name, lines in log_errors.items()},
            "log_errors_by_message": dict(
                Counter(error_message(text) for lines in log_errors.values() for text in lines)
            ),
            "failures": interval.failures[:20],
            "log_error_lines": {name: lines[:10] for name, lines in log_errors.items()},
            "load_average": [round(v, 2) for v in os.getloadavg()],
        }
        row["errors"] = (
            interval.counts["http_5xx"]
            + interval.counts["http_4xx"]
            + interval.counts["http_failures"]
            + interval.counts["ws_errors"]
            + interval.counts["ws_closed_by_server"]
            + interval.counts["reconnect_failures"]
            + sum(row["log_errors"].values())
        )
        self.total.update(interval.counts)
        self.samples.append(row)
        print(line(row), file=sys.stderr, flush=True)
        for failure in row["failures"][:5]:
            print(f"    {failure}", file=sys.stderr)
        for name, lines in row["log_error_lines"].items():
            for text in lines[:3]:
                print(f"    {name}: {text}", file=sys.stderr)

    async def run(self) -> None:
        arguments = self.arguments
        await self.connect_all()
        await asyncio.sleep(1)
        started = time.perf_counter()
        self.sample(started)  # the baseline: connected, no load yet
        traced_at = started + self.arguments.trace_after * 60
        loops = [
            asyncio.create_task(self.steady(arguments.posts, self.post)),
            asyncio.create_task(self.steady(arguments.reconnects, self.reconnect)),
            asyncio.create_task(self.steady(arguments.seizures, self.seizure)),
            asyncio.create_task(self.steady(arguments.pages, self.page)),
            asyncio.create_task(self.steady(arguments.api, self.api)),
        ]
        end = started + arguments.minutes * 60
        while time.perf_counter() < end:
            await asyncio.sleep(min(arguments.interval, max(0.0, end - time.perf_counter())))
            self.sample(started)
            if self.deployment.trace_memory and time.perf_counter() >= traced_at:
                # The first starts tracing; the others report what is still alive since.
                self.deployment.trace()
        self.stopping = True
        await asyncio.gather(*loops)
        # Let the last messages arrive, then everything still missing is lost.
        deadline = time.perf_counter() + LOST_AFTER
        while self.outstanding and time.perf_counter() < deadline:
            await asyncio.sleep(0.2)
        self.sample(started, final=True)
        for member in self.members:
            if member.socket is not None:
                member.socket.on_close = None
                await member.socket.close()


def error_message(text: str) -> str:
    """A logged error's message (the JSON log's `message`), to count them by kind."""
    try:
        return json.loads(text)["message"][:120]
    except (ValueError, KeyError, TypeError):
        return text[:120]


def line(row: dict) -> str:
    counts = row["counts"]
    rss = " ".join(f"{name} {mib:.0f}" for name, mib in row["rss_mib"].items())
    pg = sum(row["pg_connections"].values())
    return (
        f"{row['minute']:5.1f} min  RSS MiB: {rss}  pg {pg}  "
        f"posts {counts.get('posts', 0)} deliveries {counts.get('deliveries', 0)} "
        f"reconnects {counts.get('reconnects', 0)} seizures {counts.get('seizures', 0)} "
        f"pages {counts.get('pages', 0)} api {counts.get('api', 0)}  "
        f"ws p99 {row['ws_p99_ms']} ms  http p99 {row['http_p99_ms']} ms  "
        f"errors {row['errors']}  undelivered {row['undelivered_messages']}  "
        f"sockets open {row['sockets_open']} gauge {row['sockets_gauge']}  redis keys {row['redis_keys']}  "
        f"load {row['load_average'][0]}"
    )


def render(report: dict) -> str:
    names = list(report["samples"][0]["rss_mib"])
    lines = [
        "| minute | "
        + " | ".join(f"RSS {name} MiB" for name in names)
        + " | PG connections | posts | deliveries | reconnects | HTTP requests | ws p99 ms | HTTP p99 ms | errors | undelivered | sockets open / gauge | Redis keys |",
        "|---" * (len(names) + 11) + "|",
    ]
    for row in report["samples"]:
        counts = row["counts"]
        http = sum(counts.get(key, 0) for key in ("seizures", "pages", "api"))
        lines.append(
            f"| {row['minute']} | "
            + " | ".join(f"{row['rss_mib'][name]:.0f}" for name in names)
            + f" | {sum(row['pg_connections'].values())} | {counts.get('posts', 0)} | {counts.get('deliveries', 0)}"
            f" | {counts.get('reconnects', 0)} | {http} | {row['ws_p99_ms']} | {row['http_p99_ms']}"
            f" | {row['errors']} | {row['undelivered_deliveries']}"
            f" | {row['sockets_open']} / {row['sockets_gauge']} | {row['redis_keys']} |"
        )
    lines.append("")
    lines.append(f"Totals: {json.dumps(report['totals'])}")
    logged = Counter()
    for row in report["samples"]:
        logged.update(row["log_errors_by_message"])
    lines.append(f"Errors logged by the servers: {json.dumps(dict(logged))}")
    lines.append(f"Verdict: {report['verdict']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--interval", type=float, default=30, help="seconds between reports")
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument(
        "--members", type=int, default=200, help="all connected, spread over the groups"
    )
    parser.add_argument("--senders-per-group", type=int, default=2)
    parser.add_argument("--posts", type=float, default=10, help="websocket posts per second")
    parser.add_argument("--reconnects", type=float, default=0.5, help="per second")
    parser.add_argument(
        "--seizures", type=float, default=1, help="seizure reports per second (REST)"
    )
    parser.add_argument("--pages", type=float, default=4, help="page views per second")
    parser.add_argument("--api", type=float, default=6, help="API reads per second")
    parser.add_argument("--concurrency", type=int, default=40, help="actions in flight at most")
    parser.add_argument("--no-nginx", dest="nginx", action="store_false")
    parser.add_argument("--keep", action="store_true", help="keep the databases and logs")
    parser.add_argument(
        "--trace-memory",
        action="store_true",
        help="run daphne1 under tracemalloc and keep its reports (traced_daphne.py)",
    )
    parser.add_argument(
        "--trace-after", type=float, default=2, help="minutes before the tracing baseline"
    )
    arguments = parser.parse_args(argv)
    if arguments.nginx and not Path(NGINX).exists():
        print("nginx is missing: running without it (--no-nginx)", file=sys.stderr)
        arguments.nginx = False
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    folder = Path(tempfile.mkdtemp(prefix="cencomm-soak-"))
    deployment = Deployment(folder, arguments.nginx, arguments.trace_memory)
    began = time.strftime("%Y-%m-%d %H:%M:%S")
    try:
        redis_flush()
        databases_create()
        manage(
            "seed_demo",
            "--force",
            "--bench",
            str(arguments.groups),
            str(arguments.members),
            "--bench-tokens",
            os.devnull,
            capture=True,
        )
        rows = json.loads(
            subprocess.run(
                [PYTHON, "-m", "tests.benchmarks.soak_world"],
                cwd=ROOT,
                env=env_for("setup"),
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        deployment.start()
        soak = Soak(arguments, deployment, rows)
        asyncio.run(soak.run())
    finally:
        deployment.stop()
        traces = sorted(folder.glob("trace-*.txt"), key=lambda path: int(path.stem[6:]))
        if traces:
            kept = ROOT / "var" / "benchmarks" / f"soak-trace-{time.strftime('%Y%m%d-%H%M%S')}.txt"
            kept.parent.mkdir(parents=True, exist_ok=True)
            kept.write_text(traces[-1].read_text())
            print(f"tracemalloc's last report: {kept}", file=sys.stderr)
        if not arguments.keep:
            databases_drop()
            redis_flush()
            shutil.rmtree(folder, ignore_errors=True)
    samples = soak.samples
    errors = sum(row["errors"] for row in samples)
    undelivered = samples[-1]["undelivered_deliveries"]
    loaded = samples[1:] or samples
    growth = {
        name: round(loaded[-1]["rss_mib"][name] - loaded[0]["rss_mib"][name], 1)
        for name in loaded[0]["rss_mib"]
    }
    verdict = (
        f"{'PASS' if errors == 0 and undelivered == 0 else 'FAIL'}: {errors} errors, "
        f"{undelivered} deliveries lost; RSS change from the first loaded sample to the last "
        f"(MiB): {growth}"
    )
    report = {
        "began": began,
        "setup": {
            key: getattr(arguments, key)
            for key in (
                "minutes",
                "interval",
                "groups",
                "members",
                "senders_per_group",
                "posts",
                "reconnects",
                "seizures",
                "pages",
                "api",
                "nginx",
            )
        },
        "samples": samples,
        "totals": dict(soak.total),
        "verdict": verdict,
    }
    out = ROOT / "var" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"soak-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(report, indent=2))
    print(render(report))
    return 0 if errors == 0 and undelivered == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
