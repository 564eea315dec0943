"""One step of the real-time benchmark with the server under py-spy.

    .venv/bin/python -m tests.benchmarks.profile_step --shape big --rate 4
    .venv/bin/python -m tests.benchmarks.profile_step --shape many --rate 150 --kind plain

Uses the benchmark databases as the last `tests.benchmarks.realtime` run left them (the
world is built again if needed, idempotently), starts a fresh server, connects the
shape's sockets, and records the server with `py-spy record` (on PATH, or --py-spy;
install it with pip, outside the project's virtualenv if you like) for the step's
duration. Writes the collapsed stacks to var/benchmarks/profile-<shape>-<kind>-<rate>.txt
and prints the functions with the most samples, inclusive and own.
"""

import argparse
import asyncio
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from tests.benchmarks import realtime
from tests.benchmarks.load import Protocol, close_all, connect_all, run_load
from tests.live import free_port


def summarise(path: Path, top: int = 25) -> str:
    inclusive, own, total = Counter(), Counter(), 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        samples = int(count)
        total += samples
        frames = stack.split(";")
        for frame in set(frames):
            inclusive[frame] += samples
        own[frames[-1]] += samples
    lines = [f"{total} samples"]
    for title, counter in (("inclusive", inclusive), ("own", own)):
        lines.append(f"-- {title}")
        lines.extend(
            f"{100 * samples / total:5.1f} %  {frame}"
            for frame, samples in counter.most_common(top)
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shape", choices=sorted(realtime.SHAPES), default="big")
    parser.add_argument("--kind", default="platform", choices=("platform", "plain"))
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--duration", type=float, default=15)
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "py-spy")
    parser.add_argument("--fresh", action="store_true", help="fresh databases first")
    arguments = parser.parse_args()
    shape = realtime.SHAPES[arguments.shape]
    if arguments.fresh:
        realtime.prepare_databases()
    world = realtime.build_world(shape["groups"], shape["members"], shape["idle"])
    port = free_port()
    server = realtime.start(arguments.kind, port)
    name = f"profile-{arguments.shape}-{arguments.kind}-{arguments.rate:g}"
    out = realtime.ROOT / "var" / "benchmarks" / f"{name}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        protocol = Protocol(arguments.kind, f"ws://127.0.0.1:{port}/ws/")
        clients = realtime.clients_for(world, shape["members"])
        quiet = realtime.idle_clients_for(world, shape["idle"])

        async def scenario():
            # 25 at a time: with thousands connected, 100 handshakes at once outlast
            # daphne's 5 s handshake timeout (docs/performance.md).
            await connect_all(protocol, quiet, batch=25)
            started = time.perf_counter()
            await connect_all(protocol, clients, batch=25)
            connect_seconds = time.perf_counter() - started
            await asyncio.sleep(1)
            spy = subprocess.Popen(
                [
                    arguments.py_spy,
                    "record",
                    "--pid",
                    str(server.pid),
                    "--duration",
                    str(int(arguments.duration)),
                    "--rate",
                    "200",
                    "--format",
                    "raw",
                    "--output",
                    str(out),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            result = await run_load(
                protocol,
                clients,
                senders=shape["senders"],
                rate=arguments.rate,
                duration=arguments.duration,
                connect_seconds=connect_seconds,
            )
            await close_all(clients + quiet)
            spy.wait(timeout=60)
            return result

        result = asyncio.run(scenario())
    finally:
        realtime.stop(server)
    print(result.line())
    print(summarise(out))
    print(f"collapsed stacks: {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
