"""The real-time benchmark: the platform beside two references, in one run.

    .venv/bin/python -m tests.benchmarks.realtime            # full run (a few minutes)
    .venv/bin/python -m tests.benchmarks.realtime --quick    # one small step of each
    .venv/bin/python -m tests.benchmarks.realtime --shape big   # one group of 1,000, 10 senders
    .venv/bin/python -m tests.benchmarks.realtime --shape many  # 100 groups of 20 + 5,000 idle

Shapes (--shape): `groups` (the default) 50 groups of 10 with one sender each; `big` one
group of 1,000 members with 10 senders; `many` 100 groups of 20 with one sender each and
5,000 idle sockets connected besides (members of quiet groups of 50, synced, never sent
to).

It uses its own PostgreSQL databases (cencomm_bench, cencomm_bench_cen) and Redis
database 12 on the local services, starts a fresh server for every step, and prints a
Markdown report (also written to var/benchmarks/realtime-<time>.json). See
docs/performance.md for the method and the results.
"""

import argparse
import asyncio
import dataclasses
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import time
import uuid
from importlib.metadata import version
from pathlib import Path

import psycopg
import websockets

from tests.benchmarks.load import Client, Protocol, close_all, connect_all, run_load
from tests.live import free_port

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")


def platform_env(port: int, **extra) -> dict:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "DJANGO_SETTINGS_MODULE": "cencomm.settings",
        "DATABASE_URL": f"{PG}/cencomm_bench",
        "CEN_DATABASE_URL": f"{PG}/cencomm_bench_cen",
        "REDIS_URL": REDIS_URL,
        "CHANNEL_LAYER_PREFIX": f"bench-{uuid.uuid4().hex[:8]}",
        "SECRET_KEY": "benchmark-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{port}",
        # The benchmark's senders post faster than one officer could: lift the limiter.
        "WEBSOCKET_RATE_BURST": "1000000",
        "WEBSOCKET_RATE_PER_SECOND": "1000000",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    # Settings under study can be passed through, e.g. WEBSOCKET_DATABASE_THREADS=1.
    env.update(
        {
            key: value
            for key, value in os.environ.items()
            if key.startswith(("WEBSOCKET_", "SYNC_", "GC_"))
        }
    )
    env.update(extra)
    return env


def prepare_databases():
    """Fresh databases for every run: what earlier runs left (hundreds of thousands of
    messages) would make one run's figures depend on how many came before it."""
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as connection:
        for name in ("cencomm_bench", "cencomm_bench_cen"):
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
    env = platform_env(0)
    for alias in ("default", "cen"):
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--database", alias, "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )


# Shapes of load: groups, members in them, senders, idle sockets besides, default rates
# (messages per second, all senders together; deliveries = rate x group size).
SHAPES = {
    "groups": {
        "groups": 50,
        "members": 500,
        "senders": 50,
        "idle": 0,
        "rates": "100,200,250,275,300,400,450,500,550,600",
        "quick_rate": "100",
    },
    "big": {
        "groups": 1,
        "members": 1000,
        "senders": 10,
        "idle": 0,
        "rates": "1,2,4,6,8,12,16,24",
        "quick_rate": "2",
        # 10 senders at 1 msg/s send every 10 s: steps long enough for several each.
        "duration": 20.0,
    },
    "many": {
        "groups": 100,
        "members": 2000,
        "senders": 100,
        "idle": 5000,
        "rates": "10,25,50,100,200",
        "quick_rate": "25",
    },
}
IDLE_PREFIX = "bench-idle-"


def build_world(operations: int, members: int, idle: int = 0) -> dict[str, list[str]]:
    started = time.perf_counter()
    result = subprocess.run(
        [
            PYTHON,
            "manage.py",
            "seed_demo",
            "--force",
            "--bench",
            str(operations),
            str(members),
            "--bench-tokens",
            "-",
            "--bench-idle",
            str(idle),
        ],
        cwd=ROOT,
        env=platform_env(0),
        capture_output=True,
        text=True,
        check=True,
    )
    print(
        f"benchmark world: {operations} operations, {members} members, {idle} idle "
        f"in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def start(kind: str, port: int) -> subprocess.Popen:
    if kind == "platform":
        command = [
            PYTHON,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "cencomm.asgi:application",
        ]
        env = platform_env(port)
    elif kind == "plain":
        command = [
            PYTHON,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "tests.benchmarks.plain_chat:application",
        ]
        env = {**platform_env(port), "CHANNEL_LAYER_PREFIX": f"plain-{uuid.uuid4().hex[:8]}"}
        env.pop("DJANGO_SETTINGS_MODULE")
    else:
        command = [PYTHON, "-m", "tests.benchmarks.bare_server", str(port)]
        env = platform_env(port)
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            asyncio.run(_probe(port, kind))
            return process
        except (OSError, websockets.InvalidStatus, websockets.InvalidHandshake, TimeoutError):
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{kind} server did not start")


async def _probe(port: int, kind: str):
    if kind == "platform":
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /health/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        status = await reader.readline()
        writer.close()
        if b" 200 " not in status:
            raise OSError(status)
        return
    url = f"ws://127.0.0.1:{port}/ws/" if kind != "bare" else f"ws://127.0.0.1:{port}/"
    async with websockets.connect(
        url + ("?group=probe" if kind != "platform" else ""), open_timeout=2
    ) as _socket:
        pass


def stop(process: subprocess.Popen):
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def idle_clients_for(world: dict[str, list[str]], count: int) -> list[Client]:
    """Sockets in quiet groups: connected (and synced) beside the load, never sent to."""
    clients = []
    for slug, tokens in world.items():
        if slug.startswith(IDLE_PREFIX):
            clients.extend(
                Client(index=-1 - len(clients) - i, group=slug, token=token)
                for i, token in enumerate(tokens)
            )
    return clients[:count]


def clients_for(world: dict[str, list[str]], members: int) -> list[Client]:
    clients = []
    slugs = [slug for slug in world if not slug.startswith(IDLE_PREFIX)]
    # Round-robin so that the first S clients (the senders) are spread over the groups.
    position = 0
    while len(clients) < members:
        slug = slugs[position % len(slugs)]
        tokens = world[slug]
        index = position // len(slugs)
        if index < len(tokens):
            clients.append(Client(index=len(clients), group=slug, token=tokens[index]))
        position += 1
    return clients


def one_step(
    kind: str,
    world,
    *,
    members: int,
    senders: int,
    rate: float,
    duration: float,
    processes: int = 1,
    idle: int = 0,
):
    """One rate step on fresh servers; `processes` > 1 spreads the clients over several;
    `idle` sockets in quiet groups are connected first and stay connected throughout."""
    ports = [free_port() for _ in range(processes)]
    servers = [start(kind, port) for port in ports]
    try:
        urls = [
            f"ws://127.0.0.1:{port}/ws/" if kind != "bare" else f"ws://127.0.0.1:{port}/"
            for port in ports
        ]
        protocols = [Protocol(kind, url) for url in urls]
        clients = clients_for(world, members)
        quiet = idle_clients_for(world, idle)

        async def scenario():
            for index, protocol in enumerate(protocols):
                # In small batches, as browsers would come (not 100 handshakes at once).
                await connect_all(protocol, quiet[index :: len(protocols)], batch=25)
            started = time.perf_counter()
            for index, protocol in enumerate(protocols):
                await connect_all(protocol, clients[index :: len(protocols)])
            connect_seconds = time.perf_counter() - started
            await asyncio.sleep(1.0)
            result = await run_load(
                protocols[0],
                clients,
                senders=senders,
                rate=rate,
                duration=duration,
                connect_seconds=connect_seconds,
            )
            await close_all(clients + quiet)
            return result

        result = asyncio.run(scenario())
        if Protocol.connect_retries:
            print(f"{kind}: {Protocol.connect_retries} handshakes tried again", file=sys.stderr)
            Protocol.connect_retries = 0
        if processes > 1:
            result.kind = f"{kind}×{processes}"
        return result
    finally:
        for server in servers:
            stop(server)


def catch_up(world, *, events: int) -> dict:
    """A client that missed `events` events reconnects: how long until it has them all?"""
    slug = next(iter(world))
    token = world[slug][0]
    result = subprocess.run(
        [PYTHON, "-m", "tests.benchmarks.tasks", "missed-events", slug, str(events)],
        cwd=ROOT,
        env=platform_env(0),
        capture_output=True,
        text=True,
        check=True,
    )
    cursor, head = map(int, result.stdout.split()[-2:])
    port = free_port()
    process = start("platform", port)
    try:

        async def scenario():
            async with websockets.connect(
                f"ws://127.0.0.1:{port}/ws/",
                additional_headers={"Authorization": f"Token {token}"},
                max_size=None,
            ) as socket:
                await socket.recv()
                started = time.perf_counter()
                await socket.send(json.dumps({"type": "sync", "cursors": {slug: cursor}}))
                received = []
                while True:
                    frame = json.loads(await socket.recv())
                    if frame["type"] == "sync.page":
                        received.extend(event["seq"] for event in frame["events"])
                        if not frame["limited"]:
                            break
                return time.perf_counter() - started, received

        seconds, received = asyncio.run(scenario())
    finally:
        stop(process)
    return {
        "events": events,
        "seconds": round(seconds, 3),
        "complete_and_in_order": received == list(range(cursor + 1, head + 1)),
    }


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def idle_memory(world, *, connections: int) -> dict:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, connections * 2 + 1000)), hard))
    tokens = [token for tokens in world.values() for token in tokens]
    port = free_port()
    process = start("platform", port)
    try:
        time.sleep(1)
        before = rss_kib(process.pid)

        async def scenario():
            sockets = []
            for start_index in range(0, connections, 200):
                batch = [
                    websockets.connect(
                        f"ws://127.0.0.1:{port}/ws/",
                        additional_headers={"Authorization": f"Token {tokens[i % len(tokens)]}"},
                        open_timeout=120,
                    )
                    for i in range(start_index, min(connections, start_index + 200))
                ]
                sockets.extend(await asyncio.gather(*batch))
            await asyncio.sleep(3)
            after = rss_kib(process.pid)
            await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
            return after

        after = asyncio.run(scenario())
    finally:
        stop(process)
    return {
        "connections": connections,
        "rss_before_mib": round(before / 1024, 1),
        "rss_after_mib": round(after / 1024, 1),
        "kib_per_connection": round((after - before) / connections, 1),
    }


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "versions": {
            name: version(name)
            for name in (
                "Django",
                "channels",
                "channels-redis",
                "daphne",
                "redis",
                "websockets",
                "psycopg",
            )
        },
    }


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one small step of each server")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="groups")
    parser.add_argument("--members", type=int, help="active members (default: the shape's)")
    parser.add_argument("--groups", type=int, help="active groups (default: the shape's)")
    parser.add_argument("--senders", type=int, help="senders (default: the shape's)")
    parser.add_argument("--idle", type=int, help="idle sockets besides (default: the shape's)")
    parser.add_argument("--duration", type=float, help="seconds per step (default: 8)")
    parser.add_argument(
        "--rates",
        help="messages per second, all senders together (default: the shape's)",
    )
    parser.add_argument("--kinds", default="plain,platform,bare")
    parser.add_argument(
        "--give-up-ms",
        type=float,
        default=5000,
        help="a server whose p99 passed this (or that lost deliveries) is not tried at higher rates",
    )
    parser.add_argument(
        "--catch-up", type=int, help="missed events for the catch-up measure (default shape: 10000)"
    )
    parser.add_argument(
        "--idle-memory", type=int, help="sockets for the idle memory measure (default shape: 5000)"
    )
    parser.add_argument(
        "--processes", type=int, default=1, help="also measure the platform on this many processes"
    )
    arguments = parser.parse_args()
    # Stopped with SIGTERM: still stop the servers of the current step.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    shape = SHAPES[arguments.shape]
    rates_given = arguments.rates is not None
    for name in ("members", "groups", "senders", "idle", "rates"):
        if getattr(arguments, name) is None:
            setattr(arguments, name, shape[name])
    if arguments.duration is None:
        arguments.duration = shape.get("duration", 8.0)
    # Catch-up and idle memory do not depend on the shape: measured with the default one.
    default_shape = arguments.shape == "groups"
    if arguments.catch_up is None:
        arguments.catch_up = 10000 if default_shape else 0
    if arguments.idle_memory is None:
        arguments.idle_memory = 5000 if default_shape else 0
    if arguments.quick:
        arguments.rates, arguments.duration, arguments.catch_up, arguments.idle_memory = (
            arguments.rates if rates_given else shape["quick_rate"],
            min(arguments.duration, 5.0),
            1000 if arguments.catch_up else 0,
            200 if arguments.idle_memory else 0,
        )
    # Thousands of sockets on both ends (the servers inherit the limit).
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    load_before = os.getloadavg()
    prepare_databases()
    world = build_world(arguments.groups, arguments.members, arguments.idle)
    results = []
    given_up: set[str] = set()
    for rate in [float(r) for r in arguments.rates.split(",")]:
        for kind in arguments.kinds.split(","):
            if kind in given_up:
                continue
            result = one_step(
                kind,
                world,
                members=arguments.members,
                senders=arguments.senders,
                rate=rate,
                duration=arguments.duration,
                idle=arguments.idle,
            )
            print(result.line(), file=sys.stderr)
            results.append(result)
            if result.p99_ms > arguments.give_up_ms or result.missing:
                # Past its capacity a server only gets slower (a step can take minutes).
                given_up.add(kind)
        if arguments.processes > 1 and "platform" in arguments.kinds:
            result = one_step(
                "platform",
                world,
                members=arguments.members,
                senders=arguments.senders,
                rate=rate,
                duration=arguments.duration,
                processes=arguments.processes,
                idle=arguments.idle,
            )
            print(result.line(), file=sys.stderr)
            results.append(result)
    report = {
        "machine": machine(),
        "setup": {
            "shape": arguments.shape,
            "members": arguments.members,
            "groups": arguments.groups,
            "senders": arguments.senders,
            "idle": arguments.idle,
            "duration": arguments.duration,
            "load_average_before": [round(v, 2) for v in load_before],
            "load_average_after": [round(v, 2) for v in os.getloadavg()],
        },
        "steps": [
            {
                **dataclasses.asdict(result),
                "deliveries_per_second": round(result.deliveries_per_second),
            }
            for result in results
        ],
        "catch_up": catch_up(world, events=arguments.catch_up) if arguments.catch_up else None,
        "idle": idle_memory(world, connections=arguments.idle_memory)
        if arguments.idle_memory
        else None,
    }
    out = ROOT / "var" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"realtime-{arguments.shape}-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps(report, indent=2)
    )
    print(render(report))


def best(steps: list[dict], kind: str, p99_limit: float) -> dict | None:
    good = [
        s
        for s in steps
        if s["kind"] == kind
        and s["p99_ms"] <= p99_limit
        and s["missing"] == 0
        and s["duplicated"] == 0
        and s["out_of_order"] == 0
    ]
    return max(good, key=lambda s: s["deliveries_per_second"], default=None)


def render(report: dict) -> str:
    setup = report["setup"]
    lines = [
        f"Shape {setup['shape']}: {setup['members']} members in {setup['groups']} groups, "
        f"{setup['senders']} senders, {setup['idle']} idle sockets; load average "
        f"{setup['load_average_before']} before, {setup['load_average_after']} after",
        "",
        "| server | offered msg/s | deliveries/s | p50 ms | p95 ms | p99 ms | max ms | missing | dup | out of order | connect s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in report["steps"]:
        lines.append(
            f"| {s['kind']} | {s['rate']:.0f} | {s['deliveries_per_second']} | {s['p50_ms']:.1f} | {s['p95_ms']:.1f} | {s['p99_ms']:.1f} | {s['max_ms']:.1f} | {s['missing']} | {s['duplicated']} | {s['out_of_order']} | {s['connect_seconds']:.2f} |"
        )
    lines.append("")
    for limit in (100, 250, 1000):
        row = []
        for kind in ("plain", "platform", "bare"):
            chosen = best(report["steps"], kind, limit)
            row.append(f"{kind}: {chosen['deliveries_per_second'] if chosen else 0}/s")
        lines.append(f"Highest rate with p99 ≤ {limit} ms and nothing lost — " + ", ".join(row))
    plain, ours = best(report["steps"], "plain", 100), best(report["steps"], "platform", 100)
    if plain and ours:
        lines.append(
            f"Platform / plain Channels at p99 ≤ 100 ms: {ours['deliveries_per_second'] / plain['deliveries_per_second']:.2f}×"
        )
    if plain and ours:
        lines.append(
            f"Against the target (3× plain): {ours['deliveries_per_second'] / plain['deliveries_per_second'] / 3:.0%}"
        )
    if report["catch_up"]:
        lines.append(f"Catch-up: {report['catch_up']}")
    if report["idle"]:
        lines.append(f"Idle memory: {report['idle']}")
    lines.append(f"Machine: {report['machine']}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
