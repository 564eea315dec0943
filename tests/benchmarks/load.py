"""An asyncio WebSocket load client for the platform and the two references.

N clients spread over G groups; S of them send at a total rate R. Every message carries
its sender, its number and its send time, so each receiving client checks its own
stream: latency from send to receipt, and for every sender whether anything was
missing, duplicated or out of order.
"""

import asyncio
import itertools
import json
import re
import statistics
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from tests.benchmarks import lightws

STAMP = re.compile(rb"(\d+)\|(\d+)\|([\d.]+)")


@dataclass
class Client:
    index: int
    group: str
    token: str | None = None
    connection: object = None
    latencies: list[float] = field(default_factory=list)
    streams: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    accepted: int = 0
    errors: int = 0


@dataclass
class Result:
    kind: str
    clients: int
    groups: int
    senders: int
    rate: float
    duration: float
    connect_seconds: float
    sent: int
    expected: int
    delivered: int
    missing: int
    duplicated: int
    out_of_order: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int

    @property
    def deliveries_per_second(self) -> float:
        return self.delivered / self.duration if self.duration else 0.0

    def line(self) -> str:
        return (
            f"{self.kind:9} rate {self.rate:6.0f} msg/s  delivered {self.deliveries_per_second:8.0f}/s  "
            f"p50 {self.p50_ms:6.1f}  p95 {self.p95_ms:6.1f}  p99 {self.p99_ms:7.1f}  max {self.max_ms:7.1f} ms  "
            f"missing {self.missing}  dup {self.duplicated}  order {self.out_of_order}  errors {self.errors}"
        )


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Protocol:
    """How to talk to one kind of server."""

    def __init__(self, kind: str, base_url: str):
        self.kind = kind
        self.base_url = base_url

    connect_retries = 0

    async def connect(self, client: Client):
        # daphne drops a handshake its application has not accepted within 5 s; with
        # thousands of sockets connecting on a busy machine a few are: try again.
        for attempt in range(3):
            try:
                return await self._connect(client)
            except (ConnectionError, lightws.Closed):
                if attempt == 2:
                    raise
                Protocol.connect_retries += 1
                await asyncio.sleep(1)

    async def _connect(self, client: Client):
        if self.kind == "platform":
            connection = await lightws.connect(
                self.base_url, {"Authorization": f"Token {client.token}"}
            )
            hello = json.loads(await connection.recv())
            assert hello["type"] == "hello", hello
            # As every client does: sync from the head, then live events flow.
            await connection.send(json.dumps({"type": "sync", "cursors": hello["groups"]}))
            return connection
        return await lightws.connect(f"{self.base_url}?group={client.group}")

    def frame(self, client: Client, stamp: str) -> str:
        if self.kind == "platform":
            return json.dumps(
                {
                    "type": "message.post",
                    "group": client.group,
                    "client_id": str(uuid.uuid4()),
                    "body": stamp,
                }
            )
        return json.dumps({"message": stamp})

    def stamp_of(self, client: Client, data: bytes) -> bytes | None:
        """The frame's stamp text, or None. Kept cheap: with 1,000 sockets in one group the
        client reads tens of thousands of frames a second, so event frames are searched as
        they come and only the rare other frames are parsed."""
        if self.kind != "platform" or b'"message.created"' in data:
            return data
        frame = json.loads(data)
        kind = frame.get("type")
        if kind == "message.accepted":
            client.accepted += 1
        elif kind == "error":
            client.errors += 1
        return None


def _listen(protocol: Protocol, client: Client):
    """Every frame from now on is checked as it arrives (no task per socket)."""
    latencies, streams, clock = client.latencies, client.streams, time.perf_counter

    def handle(data: bytes):
        stamp = protocol.stamp_of(client, data)
        if stamp is None:
            return
        match = STAMP.search(stamp)
        if match is None:
            return
        latencies.append(clock() - float(match[3]))
        streams[int(match[1])].append(int(match[2]))

    def closed():
        client.errors += 1

    connection = client.connection
    for data in connection.pending:
        handle(data)
    connection.pending.clear()
    connection.handler = handle
    connection.on_close = closed


async def connect_all(protocol: Protocol, clients: list[Client], batch: int = 100) -> float:
    started = time.perf_counter()
    for start in range(0, len(clients), batch):
        chunk = clients[start : start + batch]
        connections = await asyncio.gather(*(protocol.connect(client) for client in chunk))
        for client, connection in zip(chunk, connections, strict=True):
            client.connection = connection
    return time.perf_counter() - started


async def run_load(
    protocol: Protocol,
    clients: list[Client],
    *,
    senders: int,
    rate: float,
    duration: float,
    connect_seconds: float,
    drain_seconds: float = 5.0,
) -> Result:
    for client in clients:
        _listen(protocol, client)
    group_sizes: dict[str, int] = defaultdict(int)
    for client in clients:
        group_sizes[client.group] += 1
    sending = clients[:senders]
    interval = senders / rate
    sent: dict[int, int] = defaultdict(int)

    async def send_loop(client: Client, offset: float):
        await asyncio.sleep(offset)
        deadline = time.perf_counter() + duration
        next_at = time.perf_counter()
        while time.perf_counter() < deadline:
            stamp = f"{client.index}|{sent[client.index]}|{time.perf_counter():.6f}"
            await client.connection.send(protocol.frame(client, stamp))
            sent[client.index] += 1
            next_at += interval
            delay = next_at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)

    await asyncio.gather(
        *(send_loop(client, interval * i / senders) for i, client in enumerate(sending))
    )
    expected = sum(
        count * group_sizes[client.group] for client in sending for count in [sent[client.index]]
    )
    # Wait until everything expected has arrived, or nothing more arrives.
    last_total, quiet_since = -1, time.perf_counter()
    while time.perf_counter() - quiet_since < drain_seconds:
        total = sum(len(stream) for client in clients for stream in client.streams.values())
        if total >= expected:
            break
        if total != last_total:
            last_total, quiet_since = total, time.perf_counter()
        await asyncio.sleep(0.1)
    for client in clients:
        client.connection.handler = None
        client.connection.on_close = None

    missing = duplicated = out_of_order = delivered = 0
    senders_by_group: dict[str, list[Client]] = defaultdict(list)
    for client in sending:
        senders_by_group[client.group].append(client)
    for client in clients:
        for sender in senders_by_group[client.group]:
            numbers = client.streams.get(sender.index, [])
            delivered += len(numbers)
            unique = set(numbers)
            duplicated += len(numbers) - len(unique)
            missing += len(set(range(sent[sender.index])) - unique)
            out_of_order += sum(1 for a, b in itertools.pairwise(numbers) if b < a)
    latencies = [latency * 1000 for client in clients for latency in client.latencies]
    return Result(
        kind=protocol.kind,
        clients=len(clients),
        groups=len(group_sizes),
        senders=senders,
        rate=rate,
        duration=duration,
        connect_seconds=connect_seconds,
        sent=sum(sent.values()),
        expected=expected,
        delivered=delivered,
        missing=missing,
        duplicated=duplicated,
        out_of_order=out_of_order,
        p50_ms=statistics.median(latencies) if latencies else 0.0,
        p95_ms=_percentile(latencies, 0.95),
        p99_ms=_percentile(latencies, 0.99),
        max_ms=max(latencies) if latencies else 0.0,
        errors=sum(client.errors for client in clients),
    )


async def close_all(clients: list[Client]):
    await asyncio.gather(
        *(client.connection.close() for client in clients if client.connection),
        return_exceptions=True,
    )
