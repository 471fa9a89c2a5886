"""Test doubles for the collection tests: a generic link follower with gate detection, a
walker that lists the simulator's reachable pages, and settings for a simulated market.

The double stands in for a market adapter (``collect`` must not import ``adapters``): it follows
every same-site ``href`` and recognises the simulator's gate pages (login, CAPTCHA, DDoS queue,
429, seizure banner) and broken pages (cut or not valid UTF-8), as a real adapter must.
"""

from __future__ import annotations

import html
import re
import urllib.request
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from dnmwatch.records import Page
from dnmwatch.settings import Settings, load_settings

_HREF = re.compile(rb'href="([^"]*)"')
GATE_PATHS = ("/login", "/captcha", "/queue")


class GenericLinks:
    """A LinkSource for any simulator engine."""

    def page_type(self, page: Page) -> str:
        body = page.body
        if page.status == 429:
            return "gate:rate_limit"
        if b'class="seized"' in body or b"HAS BEEN SEIZED" in body:
            return "gate:seized"
        if b"<title>Queue</title>" in body or b"DDoS protection" in body:
            return "gate:queue"
        if b'action="/captcha"' in body:
            return "gate:captcha"
        if b'action="/login"' in body:
            return "gate:login"
        if page.status >= 400:
            return "error"
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return "error"
        if not text.rstrip().endswith("</html>"):
            return "error"
        return "index"

    def links(self, page: Page) -> Iterable[str]:
        for raw in _HREF.findall(page.body):
            link = html.unescape(raw.decode("utf-8", errors="replace"))
            if not urlsplit(urljoin(page.url, link)).path.startswith(GATE_PATHS):
                yield link


def path_qs(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def walk(base: str) -> set[str]:
    """Every page reachable from ``base`` (a fault-free, gate-free server), as path+query."""
    double = GenericLinks()
    seen = {base + "/"}
    todo = [base + "/"]
    while todo:
        url = todo.pop()
        with urllib.request.urlopen(url, timeout=10) as resp:
            body = resp.read()
            page = Page(url, datetime.now(UTC), body, resp.status)
        for link in double.links(page):
            target = urljoin(url, link).split("#")[0]
            if target.startswith(base) and target not in seen:
                seen.add(target)
                todo.append(target)
    return {path_qs(u) for u in seen}


def sim_settings(tmp_path: Path, market: str, base: str, **crawl: object) -> Settings:
    """Settings that crawl one simulated market directly on loopback, fast."""
    host = urlsplit(base).netloc
    overrides: dict[str, object] = {
        "allow_direct_loopback": True, "data_dir": str(tmp_path / "data"),
        "privacy.key_file": str(tmp_path / "key"),
        f"markets.{market}.adapter": "generic", f"markets.{market}.hosts": [host],
        f"markets.{market}.seeds": [base + "/"],
        "crawl.delay_s": 0, "crawl.jitter_s": 0, "crawl.backoff_base_s": 0,
        "crawl.backoff_cap_s": 0.05, "crawl.timeout_s": 1.5, "crawl.attempts": 8,
    }
    overrides.update({f"crawl.{k}": v for k, v in crawl.items()})
    return load_settings(None, env={}, overrides=overrides)


def test_double_recognises_gates() -> None:
    now = datetime.now(UTC)
    double = GenericLinks()

    def kind(body: bytes, status: int = 200) -> str:
        return double.page_type(Page("http://x/", now, body, status))

    assert kind(b"<html>slow down</html>", 429) == "gate:rate_limit"
    assert kind(b'<body class="seized"></body></html>') == "gate:seized"
    assert kind(b"<title>Queue</title></html>") == "gate:queue"
    assert kind(b'<form action="/captcha"></form></html>') == "gate:captcha"
    assert kind(b'<form method="post" action="/login"></form></html>') == "gate:login"
    assert kind(b"<html><body>cut") == "error"
    assert kind(b"<html>\xff\xfe</html>") == "error"
    assert kind(b"<html><a href='/x'></a></html>") == "index"
    page = Page("http://x/a", now, b'<a href="/b?x=1&amp;y=2"></a><a href="/login?n=1"></a>')
    assert list(double.links(page)) == ["/b?x=1&y=2"]
