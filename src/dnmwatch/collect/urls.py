"""URL normalisation for de-duplication, and the market-host check.

Two spellings of one page (``HTTP://Host:80/a?b=1#top`` and ``http://host/a?b=1``) must be
fetched once. The normalised form is only a *key*: the crawler fetches the URL as the market
wrote it, because some servers care about query order or case in paths.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise(url: str) -> str:
    """The de-duplication key of ``url``: lower-case scheme and host, no default port, no
    fragment, ``/`` for an empty path, query parameters kept in their order."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    port = parts.port
    netloc = host if port is None or _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    path = parts.path or "/"
    return urlunsplit(SplitResult(scheme, netloc, path, parts.query, ""))


def host_key(url: str) -> tuple[str, str]:
    """``(host, host:port)`` of ``url``, lower-case, for matching against configured hosts."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    port = parts.port
    return host, host if port is None else f"{host}:{port}"


def on_hosts(url: str, hosts: Iterable[str]) -> bool:
    """Whether ``url`` is an http(s) URL on one of ``hosts`` (bare names or ``host:port``)."""
    if urlsplit(url).scheme.lower() not in _DEFAULT_PORTS:
        return False
    allowed = set(hosts)
    host, with_port = host_key(url)
    return bool(host) and (host in allowed or with_port in allowed)


def resolve(base: str, link: str) -> str | None:
    """``link`` made absolute against ``base`` (no fragment); ``None`` if it is not http(s)."""
    link = link.strip()
    if not link or link.startswith(("javascript:", "mailto:", "data:")):
        return None
    absolute = urljoin(base, link)
    parts = urlsplit(absolute)
    if parts.scheme.lower() not in _DEFAULT_PORTS:
        return None
    return urlunsplit(parts._replace(fragment=""))
