"""The only code in dnmwatch that opens network connections: aiohttp through SOCKS5.

Safety rules, each enforced here rather than trusted to configuration:

* every market URL goes through the configured SOCKS5 proxy with **remote DNS**
  (aiohttp-socks ``rdns=True``: the proxy gets the host *name*; its connector uses a resolver
  that never calls ``getaddrinfo``), with the market's own SOCKS user name so Tor's
  ``IsolateSOCKSAuth`` gives each market its own circuits;
* only the market's configured hosts are fetched; a redirect elsewhere is refused and reported
  (``offsite_redirect``), never followed;
* a direct connection is made only to a literal 127.0.0.0/8 address and only when
  ``settings.direct_allowed`` says so (the simulator), through a resolver that refuses names;
* proxy environment variables are ignored (``trust_env=False``): ``HTTP_PROXY`` cannot silently
  reroute traffic;
* the body cap applies after decompression; a body cut by the cap, the time-out or a dropped
  connection is kept and marked (``Exchange.truncated``). Reading stops at the cap, and
  aiohttp (>= 3.13.3, CVE-2025-69223) inflates a compressed body only as fast as it is read,
  in bounded steps, so a gzip bomb (1 GiB of zeros in 1 MB) costs the cap, not its expanded
  size (``tests/test_safeguards_bomb.py``: about 40 MB of peak RSS growth with the 8 MiB
  default cap).

Third-party errors (aiohttp, aiohttp-socks, python-socks) never leave this module: each attempt
returns a :class:`FetchResult` whose ``failure`` names a :data:`FailureKind`. Whether to retry is
the caller's decision (:mod:`dnmwatch.collect.retry`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from types import TracebackType
from typing import Literal
from urllib.parse import urlencode, urlsplit

import aiohttp
import aiohttp_socks
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from dnmwatch.collect.exchange import Exchange, Truncation
from dnmwatch.collect.urls import on_hosts, resolve
from dnmwatch.errors import CaptureError
from dnmwatch.settings import CrawlSettings, MarketSettings, Settings

FailureKind = Literal["timeout", "connection", "proxy", "disconnect", "protocol",
                      "refused_host", "offsite_redirect", "too_many_redirects"]
RETRYABLE_FAILURES: frozenset[str] = frozenset(
    {"timeout", "connection", "proxy", "disconnect", "protocol"})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
SOCKS_PASSWORD = "dnmwatch"  # noqa: S105 - Tor ignores it; IsolateSOCKSAuth needs one
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class FetchFailure:
    kind: FailureKind
    detail: str

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE_FAILURES


@dataclass(frozen=True, slots=True)
class FetchResult:
    """Every hop of one fetch (all to be archived) and, if it went wrong, why."""

    url: str
    exchanges: tuple[Exchange, ...]
    failure: FetchFailure | None = None

    @property
    def final(self) -> Exchange | None:
        """The last response, when the fetch ended with one (no failure)."""
        return self.exchanges[-1] if self.exchanges and self.failure is None else None


class LoopbackOnlyResolver(AbstractResolver):
    """For the direct (simulator) connector: literal 127.0.0.0/8 addresses only, no DNS."""

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            raise OSError(f"direct connections go to 127.0.0.0/8 addresses only: {host}") from None
        if address not in ipaddress.ip_network("127.0.0.0/8"):
            raise OSError(f"direct connections go to 127.0.0.0/8 addresses only: {host}")
        return [{"hostname": host, "host": host, "port": port, "family": socket.AF_INET,
                 "proto": 0, "flags": socket.AI_NUMERICHOST}]

    async def close(self) -> None:
        return None


def _proxy_address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme != "socks5h" or not parts.hostname or parts.port is None:
        raise CaptureError(f"proxy must be socks5h://host:port, not {url!r}")
    return parts.hostname, parts.port


class Fetcher:
    """Fetches one market's pages; use as ``async with Fetcher(settings, market) as f``."""

    def __init__(self, settings: Settings, market: str, *, cookie: str | None = None,
                 max_redirects: int = 5,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.settings = settings
        self.market_name = market
        self.market: MarketSettings = settings.market(market)
        self.crawl: CrawlSettings = settings.for_market(market)
        self.max_redirects = max_redirects
        self._clock = clock
        self._jar = aiohttp.CookieJar(unsafe=True)
        self._sessions: dict[bool, aiohttp.ClientSession] = {}
        self.connections_opened: dict[str, int] = {"proxy": 0, "direct": 0}
        self._user_agent = self.crawl.user_agent
        if cookie:
            self.load_cookie(cookie)

    def load_cookie(self, cookie: str) -> None:
        """Take a ``name=value; name2=value2`` cookie pasted by the operator for every host."""
        jar: SimpleCookie = SimpleCookie()
        jar.load(cookie)
        for host in self.market.hosts:
            self._jar.update_cookies(jar, URL(f"http://{host}/"))

    def set_user_agent(self, user_agent: str) -> None:
        """Send ``user_agent`` from now on. With a cookie pasted from Tor Browser, the browser's
        User-Agent must come along: markets bind a session to the User-Agent it was issued to."""
        self._user_agent = user_agent
        for session in self._sessions.values():
            session.headers["User-Agent"] = user_agent

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, value: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        sessions, self._sessions = self._sessions, {}
        for session in sessions.values():
            await session.close()

    def _session(self, direct: bool) -> aiohttp.ClientSession:
        session = self._sessions.get(direct)
        if session is not None:
            return session
        limit = self.crawl.concurrency
        connector: aiohttp.BaseConnector
        if direct:
            connector = aiohttp.TCPConnector(resolver=LoopbackOnlyResolver(), limit=limit,
                                             use_dns_cache=False)
        else:
            host, port = _proxy_address(self.settings.proxy.url)
            username = self.market.socks_username
            connector = aiohttp_socks.ProxyConnector(
                host=host, port=port, proxy_type=aiohttp_socks.ProxyType.SOCKS5,
                username=username, password=SOCKS_PASSWORD if username else None,
                rdns=True, limit=limit)
        timeout = aiohttp.ClientTimeout(total=self.crawl.timeout_s,
                                        sock_read=self.crawl.timeout_s)
        session = aiohttp.ClientSession(
            connector=connector, cookie_jar=self._jar, timeout=timeout, trust_env=False,
            headers={"User-Agent": self._user_agent,
                     "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                     "Accept-Language": "en-US,en;q=0.5"})
        self._sessions[direct] = session
        return session

    def cookies(self) -> dict[str, str]:
        """Current session cookies (name -> value), e.g. to carry over a pause."""
        return {c.key: c.value for c in self._jar}

    async def get(self, url: str) -> FetchResult:
        return await self.request("GET", url)

    async def post(self, url: str, form: Mapping[str, str]) -> FetchResult:
        return await self.request("POST", url, form)

    async def request(self, method: str, url: str,
                      form: Mapping[str, str] | None = None) -> FetchResult:
        """One fetch, following same-market redirects (each hop is a separate exchange)."""
        hops: list[Exchange] = []
        current, data = url, form
        for _ in range(self.max_redirects + 1):
            if not on_hosts(current, self.market.hosts):
                kind: FailureKind = "offsite_redirect" if hops else "refused_host"
                return FetchResult(url, tuple(hops), FetchFailure(kind, current))
            exchange_or_failure = await self._one(method, current, data)
            if isinstance(exchange_or_failure, FetchFailure):
                return FetchResult(url, tuple(hops), exchange_or_failure)
            hops.append(exchange_or_failure)
            location = exchange_or_failure.header("Location")
            if exchange_or_failure.status not in REDIRECTS or not location:
                return FetchResult(url, tuple(hops))
            target = resolve(current, location)
            if target is None:
                return FetchResult(url, tuple(hops), FetchFailure("offsite_redirect", location))
            if exchange_or_failure.status in (301, 302, 303) and method == "POST":
                method, data = "GET", None
            current = target
        return FetchResult(url, tuple(hops), FetchFailure("too_many_redirects", current))

    async def _one(self, method: str, url: str,
                   form: Mapping[str, str] | None) -> Exchange | FetchFailure:
        netloc = urlsplit(url).netloc
        direct = self.settings.direct_allowed(netloc)
        self.connections_opened["direct" if direct else "proxy"] += 1
        session = self._session(direct)
        started, t0 = self._clock(), time.monotonic()
        try:
            async with session.request(method, url, data=form, allow_redirects=False) as resp:
                body, truncated = await self._read(resp, t0 + self.crawl.timeout_s)
                req_headers = tuple((k, v) for k, v in resp.request_info.headers.items())
                if not any(k.lower() == "host" for k, _ in req_headers):
                    req_headers = (("Host", netloc), *req_headers)
                target = resp.request_info.url.raw_path_qs
                return Exchange(
                    url=url, method=method, request_target=target, request_headers=req_headers,
                    status=resp.status, reason=resp.reason or "",
                    response_headers=tuple(resp.headers.items()), body=body,
                    started_at=started, truncated=truncated,
                    request_body=_form_bytes(form),
                    http_version=f"{resp.version.major}.{resp.version.minor}"
                    if resp.version else "1.1",
                    elapsed_s=time.monotonic() - t0)
        except TimeoutError as exc:
            return FetchFailure("timeout", str(exc) or "no response before the time-out")
        except (aiohttp_socks.ProxyError, aiohttp_socks.ProxyConnectionError,
                aiohttp_socks.ProxyTimeoutError) as exc:
            return FetchFailure("proxy", str(exc))
        except aiohttp.ServerDisconnectedError as exc:
            return FetchFailure("disconnect", str(exc) or "server disconnected")
        except (aiohttp.ClientConnectorError, aiohttp.ClientOSError) as exc:
            return FetchFailure("connection", str(exc))
        except (aiohttp.ClientResponseError, aiohttp.ClientPayloadError) as exc:
            return FetchFailure("protocol", str(exc))
        except aiohttp.ClientError as exc:
            return FetchFailure("connection", f"{type(exc).__name__}: {exc}")

    async def _read(self, resp: aiohttp.ClientResponse,
                    deadline: float) -> tuple[bytes, Truncation | None]:
        """The decoded body up to the cap; a cut body is returned with its reason."""
        cap = self.crawl.max_body_bytes
        parts: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                async for chunk in resp.content.iter_chunked(_CHUNK):
                    parts.append(chunk)
                    size += len(chunk)
                    if size > cap:
                        return b"".join(parts)[:cap], "length"
        except TimeoutError:
            return b"".join(parts), "time"
        except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError,
                aiohttp.ClientOSError, ConnectionError):
            return b"".join(parts), "disconnect"
        return b"".join(parts), None


def _form_bytes(form: Mapping[str, str] | None) -> bytes:
    if not form:
        return b""
    return urlencode(dict(form)).encode("ascii")
