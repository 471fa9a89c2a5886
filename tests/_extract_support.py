"""Shared by the sources/extract tests and bench/bench_extract.py: simulator pages fetched over
loopback (following nothing but ``adapter.links()``), and WARC files written with warcio's
writer, so that our reader is checked against an independent implementation.
"""

from __future__ import annotations

import io
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from warcio.statusandheaders import StatusAndHeaders  # type: ignore[import-untyped]
from warcio.warcwriter import WARCWriter  # type: ignore[import-untyped]

from dnmwatch.adapters.base import MarketAdapter
from dnmwatch.records import Page

KEY = bytes(range(32))
SIM_ADAPTERS = {"silkway": "sim-table", "bazaar": "sim-cards", "gidra": "sim-minimal"}


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    content_type: str
    body: bytes


def crawl(base: str, adapter: MarketAdapter, now: datetime, limit: int = 100_000) -> list[Fetched]:
    """Every page reachable from ``base + "/"`` by the adapter's links, in visiting order."""
    todo, seen, out = [base + "/"], set[str](), list[Fetched]()
    while todo and len(out) < limit:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:
                fetched = Fetched(url, resp.status, resp.headers.get("Content-Type", ""),
                                  resp.read())
        except urllib.error.HTTPError as err:
            fetched = Fetched(url, err.code, err.headers.get("Content-Type", ""), err.read())
        out.append(fetched)
        page = Page(url=url, captured_at=now, body=fetched.body, status=fetched.status)
        todo.extend(u for u in adapter.links(page) if u not in seen)
    return out


def write_records(out: BinaryIO, pages: Iterable[Fetched], when: datetime, *,
                  info: dict[str, str] | None = None, gzip: bool = True) -> list[int]:
    """Write a warcinfo record (if ``info``) and one response + request per page; return the
    offset of each response record."""
    writer = WARCWriter(out, gzip=gzip)

    def write(record: Any) -> None:
        writer.write_record(record)
        record.raw_stream.close()  # warcio leaves its digest spool file open

    stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if info is not None:
        write(writer.create_warcinfo_record("test.warc.gz", info))
    offsets = []
    for page in pages:
        headers = StatusAndHeaders(f"{page.status} X", [
            ("Content-Type", page.content_type or "text/html; charset=utf-8"),
            ("Content-Length", str(len(page.body)))], protocol="HTTP/1.1")
        offsets.append(out.tell())
        write(writer.create_warc_record(
            page.url, "response", payload=io.BytesIO(page.body), http_headers=headers,
            warc_headers_dict={"WARC-Date": stamp}))
        request = StatusAndHeaders(f"GET {page.url} HTTP/1.1", [("Accept", "*/*")],
                                   is_http_request=True)
        write(writer.create_warc_record(
            page.url, "request", payload=io.BytesIO(b""), http_headers=request,
            warc_headers_dict={"WARC-Date": stamp}))
    return offsets


def write_warc(path: Path, pages: Iterable[Fetched], when: datetime, *,
               info: dict[str, str] | None = None, gzip: bool = True) -> list[int]:
    with path.open("wb") as out:
        return write_records(out, pages, when, info=info, gzip=gzip)
