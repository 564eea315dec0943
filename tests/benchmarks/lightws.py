"""A minimal websocket client for the load client: one asyncio protocol per socket, no
task per socket, frames parsed in place.

With 1,000 sockets in one group every message is 1,000 frames to read at once; the
`websockets` client (a reading task and a queue per socket) spent ~100 µs a frame here,
which the measured latency would include. This client only does what the benchmark needs:
the opening handshake, unfragmented text frames, ping, close. Frames it sends are masked
with a zero key (allowed by RFC 6455; the payload goes unchanged).
"""

import asyncio
import base64
import os
import struct
from collections.abc import Callable
from urllib.parse import urlparse


class Closed(Exception):
    pass


class LightSocket(asyncio.Protocol):
    def __init__(self, host: str, path: str, headers: dict[str, str]):
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
            + "\r\n"
        ).encode()
        self.buffer = bytearray()
        self.upgraded = False
        self.opened: asyncio.Future = asyncio.get_running_loop().create_future()
        self.transport = None
        self.closed = False
        # Until a handler is set, text frames wait in `pending` for recv().
        self.handler: Callable[[bytes], None] | None = None
        self.on_close: Callable[[], None] | None = None
        self.pending: list[bytes] = []
        self.waiter: asyncio.Future | None = None

    # asyncio.Protocol
    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes):
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buffer[: buffer.find(b"\r\n")])
            del buffer[: end + 4]
            if b" 101 " not in status:
                self.opened.set_exception(ConnectionError(status.decode(errors="replace")))
                self.transport.close()
                return
            self.upgraded = True
            self.opened.set_result(None)
        position, size = 0, len(buffer)
        while size - position >= 2:
            first, second = buffer[position], buffer[position + 1]
            length, start = second & 0x7F, position + 2
            if length == 126:
                if size - start < 2:
                    break
                (length,) = struct.unpack_from("!H", buffer, start)
                start += 2
            elif length == 127:
                if size - start < 8:
                    break
                (length,) = struct.unpack_from("!Q", buffer, start)
                start += 8
            if size - start < length:
                break
            payload = bytes(buffer[start : start + length])
            position = start + length
            opcode = first & 0x0F
            if opcode == 1:
                if self.handler is not None:
                    self.handler(payload)
                else:
                    self.pending.append(payload)
                    if self.waiter is not None and not self.waiter.done():
                        self.waiter.set_result(None)
            elif opcode == 9:
                self._write(0xA, payload)
            elif opcode == 8:
                if not self.closed:
                    self._write(0x8, payload[:2])
                self.closed = True
                self.transport.close()
        del buffer[:position]

    def connection_lost(self, exc):
        was_closed = self.closed
        self.closed = True
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("connection lost during the handshake"))
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(Closed())
        if self.on_close is not None and not was_closed:
            self.on_close()

    # What the load client uses
    def _write(self, opcode: int, payload: bytes):
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        self.transport.write(header + b"\x00\x00\x00\x00" + payload)

    async def send(self, text: str):
        if self.closed:
            raise Closed()
        self._write(0x1, text.encode())

    async def recv(self) -> str:
        while not self.pending:
            if self.closed:
                raise Closed()
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter
        return self.pending.pop(0).decode()

    async def close(self):
        if not self.closed and self.transport is not None:
            self._write(0x8, struct.pack("!H", 1000))
            self.closed = True
            self.transport.close()


async def connect(
    url: str, headers: dict[str, str] | None = None, timeout: float = 120
) -> LightSocket:
    parsed = urlparse(url)
    path = parsed.path or "/"
    if parsed.query:
        path += "?" + parsed.query
    loop = asyncio.get_running_loop()
    _transport, socket = await loop.create_connection(
        lambda: LightSocket(parsed.netloc, path, headers or {}), parsed.hostname, parsed.port
    )
    await asyncio.wait_for(socket.opened, timeout)
    return socket
