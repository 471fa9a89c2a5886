"""Shared set-up of the dashboard tests: a store with hostile content, accounts, a live server.

The server is a real uvicorn server on 127.0.0.1 (a socket bound to port 0), run in a thread
and stopped by the test; the store is the hand-made indicator store plus listings whose titles
come from the hostile-input corpus, dated rejections, extracted pages and a paused crawl.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import httpx
import uvicorn

from _indicators_store import build_store
from dnmwatch.store import Store
from dnmwatch.web.app import WebConfig, create_app
from dnmwatch.web.roles import Role
from dnmwatch.web.users import UserDB

HOSTILE = Path(__file__).parent / "fixtures" / "hostile" / "values.json"
PASSWORDS = {r.label: f"correct horse battery {r.label}" for r in Role}


def hostile_titles() -> list[str]:
    return list(json.loads(HOSTILE.read_text())["script_injection"])


def build_web_store(data_dir: Path) -> Path:
    build_store(data_dir)
    with Store.open(data_dir) as store:
        store.insert_rows(
            "listings",
            [
                {
                    "market": "alpha",
                    "listing_id": f"H{i}",
                    "vendor_id": "v1",
                    "title": title,
                    "category": "stimulants",
                    "first_seen": datetime(2020, 1, 2, 12),
                    "last_seen": datetime(2020, 1, 9, 12),
                }
                for i, title in enumerate(hostile_titles())
            ],
        )
        store.insert_rows(
            "rejections",
            [
                {
                    "stage": "extract",
                    "reason": "layout:unknown",
                    "market": "alpha",
                    "detail": "<script>alert('detail')</script>",
                    "recorded_at": datetime(2020, 1, d, 9),
                }
                for d in (3, 3, 4)
            ],
        )
        store.insert_rows(
            "pages",
            [
                {
                    "source": "a.warc.gz",
                    "source_offset": i,
                    "market": "alpha",
                    "crawl_id": "a1",
                    "captured_at": datetime(2020, 1, 1 + i % 3, 10),
                    "adapter": "sim_table",
                    "page_type": "listing" if i % 4 else "unknown",
                    "records": 3,
                }
                for i in range(12)
            ],
        )
        store.insert_rows(
            "crawls",
            [
                {
                    "crawl_id": "b2",
                    "market": "beta",
                    "started_at": datetime(2020, 1, 6, 8),
                    "status": "paused",
                    "pages_ok": 1,
                    "pages_failed": 0,
                    "counters": json.dumps({"gate:captcha": 1, "pages:ok": 1}),
                },
            ],
        )
    return data_dir


def add_users(data_dir: Path) -> None:
    db = UserDB.for_data_dir(data_dir)
    for role in Role:
        db.add(role.label, PASSWORDS[role.label], role)


class LiveServer:
    """uvicorn serving ``create_app(config)`` on 127.0.0.1 in a thread."""

    def __init__(self, config: WebConfig) -> None:
        self.app = create_app(config)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(
                self.app, log_level="warning", ws="none", lifespan="on", server_header=False
            )
        )
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("dashboard server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@contextmanager
def live_server(config: WebConfig) -> Iterator[LiveServer]:
    server = LiveServer(config).start()
    try:
        yield server
    finally:
        server.stop()


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _TOKEN.search(html)
    assert match is not None, "no CSRF token on the page"
    return match.group(1)


def login(client: httpx.Client, user: str, password: str | None = None) -> httpx.Response:
    """Log in through the form (GET for the token, then POST); returns the POST's answer."""
    page = client.get("/login")
    return client.post(
        "/login",
        data={
            "username": user,
            "password": PASSWORDS[user] if password is None else password,
            "csrf_token": csrf_of(page.text),
            "next": "/",
        },
    )


@contextmanager
def client_for(url: str, role: str | None = None) -> Iterator[httpx.Client]:
    """An HTTP client of the live dashboard at ``url``, logged in as ``role`` if given."""
    with httpx.Client(base_url=url, timeout=30) as client:
        if role is not None:
            resp = login(client, role)
            assert resp.status_code == 303, resp.text
        yield client
