"""A small in-process SOCKS5 server for tests: routes fake ``.onion`` names to loopback ports.

Why not Tor or microsocks: Debian's Tor cannot open its SOCKS port without a network, and
microsocks resolves names itself, so it cannot route a made-up ``.onion``. This server maps the
names it is given to ``127.0.0.1:PORT`` and **records every request**: the user name offered
(Tor's per-market circuit isolation), and whether the client sent a host *name* (remote DNS, as
it must) or an IP address (it resolved locally: a leak). Requests for names it does not know, and
requests by IP address, are refused with the SOCKS replies Tor would give.

It ships in the package so adapter authors can test their crawling configuration with it::

    with SocksServer({"abcdef.onion": 8080}) as socks:
        url = socks.proxy_url           # socks5h://127.0.0.1:PORT
        ...
        assert all(r.address_type == "domain" for r in socks.requests)

Loopback only; it is a test tool and forwards bytes only to the ports in its map.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

_REPLY_OK, _NOT_ALLOWED, _HOST_UNREACHABLE, _CMD_UNSUPPORTED = 0, 2, 4, 7


@dataclass(frozen=True, slots=True)
class SocksRequest:
    """One CONNECT request as received."""

    username: str | None
    password: str | None
    address_type: Literal["domain", "ipv4", "ipv6"]
    host: str
    port: int
    accepted: bool


class SocksServer:
    """SOCKS5 (RFC 1928/1929) on ``127.0.0.1``, run on its own thread and event loop."""

    def __init__(self, routes: Mapping[str, int], *, require_auth: bool = False) -> None:
        self.routes = {name.lower(): port for name, port in routes.items()}
        self.require_auth = require_auth
        self.requests: list[SocksRequest] = []
        self.connections = 0
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()

    @property
    def proxy_url(self) -> str:
        return f"socks5h://127.0.0.1:{self.port}"

    def start(self) -> SocksServer:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()),
                                        name="dnmwatch-socks", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("test SOCKS server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)
        self._thread = None

    def __enter__(self) -> SocksServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()
            server.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self.connections += 1
        try:
            await self._serve(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        version, count = await reader.readexactly(2)
        methods = await reader.readexactly(count)
        if version != 5:
            return
        username = password = None
        if 2 in methods:
            writer.write(b"\x05\x02")
            await writer.drain()
            _ver, ulen = await reader.readexactly(2)
            username = (await reader.readexactly(ulen)).decode("utf-8", "replace")
            (plen,) = await reader.readexactly(1)
            password = (await reader.readexactly(plen)).decode("utf-8", "replace")
            writer.write(b"\x01\x00")
        elif self.require_auth or 0 not in methods:
            writer.write(b"\x05\xff")
            await writer.drain()
            return
        else:
            writer.write(b"\x05\x00")
        await writer.drain()
        _ver, cmd, _rsv, atyp = await reader.readexactly(4)
        kind: Literal["domain", "ipv4", "ipv6"]
        if atyp == 3:
            (length,) = await reader.readexactly(1)
            host, kind = (await reader.readexactly(length)).decode("idna"), "domain"
        elif atyp == 1:
            host, kind = str(ipaddress.IPv4Address(await reader.readexactly(4))), "ipv4"
        else:
            host, kind = str(ipaddress.IPv6Address(await reader.readexactly(16))), "ipv6"
        port = int.from_bytes(await reader.readexactly(2), "big")
        target = self.routes.get(host.lower()) if kind == "domain" else None
        accepted = cmd == 1 and target is not None
        with self._lock:
            self.requests.append(SocksRequest(username, password, kind, host, port, accepted))
        if cmd != 1:
            await self._reply(writer, _CMD_UNSUPPORTED)
            return
        if target is None:
            await self._reply(writer, _NOT_ALLOWED if kind != "domain" else _HOST_UNREACHABLE)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            await self._reply(writer, _HOST_UNREACHABLE)
            return
        await self._reply(writer, _REPLY_OK)
        await _pipe_both(reader, writer, up_reader, up_writer)

    @staticmethod
    async def _reply(writer: asyncio.StreamWriter, code: int) -> None:
        writer.write(bytes([5, code, 0, 1]) + socket.inet_aton("0.0.0.0") + b"\x00\x00")  # noqa: S104
        await writer.drain()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def _pipe_both(a_reader: asyncio.StreamReader, a_writer: asyncio.StreamWriter,
                     b_reader: asyncio.StreamReader, b_writer: asyncio.StreamWriter) -> None:
    await asyncio.gather(_pipe(a_reader, b_writer), _pipe(b_reader, a_writer))
