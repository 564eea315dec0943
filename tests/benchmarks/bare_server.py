"""Reference 2: a bare `websockets` broadcast server, groups in memory — the practical
ceiling for a Python websocket server on this machine.

Run: python -m tests.benchmarks.bare_server PORT
"""

import asyncio
import json
import sys
from collections import defaultdict
from urllib.parse import parse_qs, urlparse

import websockets

groups: dict[str, set] = defaultdict(set)


async def handler(connection):
    query = parse_qs(urlparse(connection.request.path).query)
    group = query.get("group", ["lobby"])[0]
    groups[group].add(connection)
    try:
        async for text in connection:
            message = json.loads(text)["message"]
            websockets.broadcast(groups[group], json.dumps({"message": message}))
    finally:
        groups[group].discard(connection)


async def main(port: int):
    async with websockets.serve(handler, "127.0.0.1", port, compression=None, max_queue=None):
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
