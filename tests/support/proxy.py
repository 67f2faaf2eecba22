"""A TCP forwarder in front of a real server, to take that server away from one client
and give it back: while `down`, nothing listens on the port (connections are
refused) and every forwarded connection is cut, as when the server dies.

    proxy = TcpProxy(target=("127.0.0.1", 5432))   # down: its port refuses
    await proxy.up()                                # forwards to the real server
    await proxy.down()                              # refuses, and cuts open connections
"""

from __future__ import annotations

import asyncio
import contextlib

from tests.support.stack import free_port


class TcpProxy:
    def __init__(self, *, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._forward, "127.0.0.1", self.port)

    async def down(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        if server is not None:
            await server.wait_closed()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, server_w}
        both_ways = (_pipe(reader, server_w), _pipe(server_r, writer))
        await asyncio.gather(*both_ways, return_exceptions=True)
        for end in (writer, server_w):
            self._writers.discard(end)
            end.transport.abort()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    writer.transport.abort()
