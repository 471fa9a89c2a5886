"""How each injected fault is acted out on the wire.

The decision of *which* fault hits a request lives in :class:`~.options.FaultPlan` (a pure,
seeded function); this module performs it with real sockets, so the crawler meets the same
symptoms as over Tor: a held request that never answers, a connection closed without a response,
a body shorter than its ``Content-Length``, a body trickled slowly, or broken HTML with status 200.
"""

from __future__ import annotations

import asyncio
import hashlib
import re

from aiohttp import web

from dnmwatch.sim.server.options import Fault

_CLOSING_TAG = re.compile(rb"</(td|tr|div|table|p|li|ul|dl|dd|body|html|span|a)>")


def drop(request: web.Request) -> web.Response:
    """Close the connection at once, without a response (the client sees a disconnect)."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=499)


async def hold_then_drop(request: web.Request, hold_s: float) -> web.Response:
    """Keep the request waiting past the client's time-out, then drop the connection."""
    await asyncio.sleep(hold_s)
    return drop(request)


def malform(body: bytes, fault: Fault) -> bytes:
    """Broken HTML, deterministic given the fault: cut the page, drop closing tags from a point
    on, or splice in bytes that are not valid UTF-8."""
    at = int(len(body) * fault.fraction)
    if fault.variant == 0:
        return body[:at]
    if fault.variant == 1:
        return body[:at] + _CLOSING_TAG.sub(b"", body[at:])
    garbage = hashlib.sha256(body[:at]).digest()[:12] + b"\xff\xfe\x00\xc3\x28<di"
    return body[:at] + garbage + body[at:]


def _stream(resp: web.Response, length: int) -> web.StreamResponse:
    """A streamed copy of ``resp``'s status, headers and cookies with a given length."""
    headers = {k: v for k, v in resp.headers.items()
               if k.lower() not in ("content-length", "set-cookie")}
    out = web.StreamResponse(status=resp.status, headers=headers)
    for name, morsel in resp.cookies.items():
        out.cookies[name] = morsel
    out.content_length = length
    return out


async def send_truncated(request: web.Request, resp: web.Response, fault: Fault) -> None:
    """Announce the full ``Content-Length``, send only part of the body, then close."""
    body = bytes(resp.body) if isinstance(resp.body, bytes | bytearray) else b""
    out = _stream(resp, len(body))
    await out.prepare(request)
    await out.write(body[:int(len(body) * fault.fraction)])
    if request.transport is not None:
        request.transport.close()


async def send_slowly(request: web.Request, resp: web.Response, total_s: float,
                      chunks: int = 10) -> web.StreamResponse:
    """Trickle the body in ``chunks`` pieces spread over ``total_s`` seconds."""
    body = bytes(resp.body) if isinstance(resp.body, bytes | bytearray) else b""
    out = _stream(resp, len(body))
    await out.prepare(request)
    step = max(1, -(-len(body) // chunks))
    for i in range(0, len(body), step):
        await out.write(body[i:i + step])
        await asyncio.sleep(total_s / chunks)
    await out.write_eof()
    return out
