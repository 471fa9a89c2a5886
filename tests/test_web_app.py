"""The dashboard over HTTP: a real uvicorn server on 127.0.0.1 over a hand-made store.

Access (deny by default, roles), sessions and logout, CSRF on every change, security headers,
disclosure control for viewers, exports in the audit log, escaping of hostile market content,
filter validation and the query time limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.routing import Route

from _web_support import (
    PASSWORDS,
    add_users,
    build_web_store,
    client_for,
    csrf_of,
    live_server,
    login,
)
from dnmwatch.privacy.audit import AuditLog
from dnmwatch.web.app import PAGES, PUBLIC, WebConfig, create_app
from dnmwatch.web.reader import QueryTimeout, StoreReader
from dnmwatch.web.security import permission_of

ALL_PAGES = [p.path for p in PAGES] + ["/audit", "/users", "/vendors/alpha/v1"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = build_web_store(tmp_path_factory.mktemp("web") / "data")
    add_users(d)
    return d


@pytest.fixture(scope="module")
def server(data_dir: Path) -> Iterator[str]:
    with live_server(WebConfig(data_dir, warm_bundle=False)) as srv:
        yield srv.url


def test_every_route_is_public_by_name_or_declares_a_permission() -> None:
    app = create_app(WebConfig(Path("/nonexistent"), warm_bundle=False))
    for route in app.routes:
        assert isinstance(route, Route)
        assert route.path in PUBLIC or permission_of(route.endpoint), route.path


def test_without_login_every_page_sends_to_the_login_form(server: str) -> None:
    with client_for(server) as c:
        for path in ALL_PAGES:
            resp = c.get(path)
            assert resp.status_code == 303 and resp.headers["location"].startswith("/login")
        assert c.post("/export", data={"by": "substance"}).status_code == 401
        assert c.get("/trends", headers={"x-partial": "1"}).status_code == 401


def test_security_headers_and_cookie_flags(server: str) -> None:
    with client_for(server) as c:
        page = c.get("/login")
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["cache-control"] == "no-store"
        assert "<script" not in page.text.replace('<script src="/static/', "")
        resp = c.post(
            "/login",
            data={
                "username": "admin",
                "password": PASSWORDS["admin"],
                "csrf_token": csrf_of(page.text),
                "next": "/",
            },
        )
        cookie = resp.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        assert "server" not in resp.headers


def test_admin_opens_every_page(server: str) -> None:
    with client_for(server, "admin") as c:
        for path in ALL_PAGES:
            resp = c.get(path)
            assert resp.status_code == 200, (path, resp.text[:500])
            assert "<script>" not in resp.text  # no inline script at all
            assert 'data-page="' in resp.text
        for name in ("app.js", "app.css", "vega-interpreter.js"):
            assert c.get(f"/static/{name}").status_code == 200
        assert c.get("/static/../app.py").status_code == 404
        assert c.get("/static/users.sqlite").status_code == 404


def test_viewer_restrictions(server: str) -> None:
    with client_for(server, "viewer") as c:
        vendors = c.get("/vendors")
        assert vendors.status_code == 200
        assert "profile-link" not in vendors.text and "vendor-accounts" not in vendors.text
        assert ">v1<" not in vendors.text  # no pseudonym shown to viewers
        assert c.get("/vendors/alpha/v1").status_code == 403
        for path in ("/crawls", "/audit", "/users"):
            assert c.get(path).status_code == 403, path
        nav = c.get("/").text
        assert 'id="nav-trends"' in nav and 'id="nav-crawls"' not in nav
        assert 'id="export"' not in c.get("/trends").text
        token = csrf_of(c.get("/trends").text)
        assert c.post("/export", data={"by": "substance", "csrf_token": token}).status_code == 403


def test_viewer_cells_are_protected_and_analyst_cells_are_not(server: str) -> None:
    with client_for(server, "viewer") as viewer, client_for(server, "analyst") as analyst:
        seen = viewer.get("/trends?by=market&market=alpha").text
        assert "suppressed" in seen and "at least 10" in seen  # ad-hoc slice: 10 vendors
        whole = viewer.get("/trends?by=market").text
        assert "at least 5" in whole  # the whole store: the report's rules
        shown = analyst.get("/trends?by=market&market=alpha").text
        assert 'class="sup"' not in shown
        assert ">970<" in shown  # alpha's February revenue (2 vendors), unprotected


def test_partial_update_returns_the_region_only(server: str) -> None:
    with client_for(server, "analyst") as c:
        resp = c.get("/trends?by=category", headers={"x-partial": "1"})
        assert resp.status_code == 200
        assert (
            "<html" not in resp.text and "<h2>Sales and revenue by month and category" in resp.text
        )
        assert 'data-chart="spec-trend-category"' in resp.text


@pytest.mark.parametrize(
    "query", ["from=2020-13-01", "market=nowhere", "by=__class__", "from=2020-03-01&to=2020-01-01"]
)
def test_bad_filters_are_refused(server: str, query: str) -> None:
    with client_for(server, "viewer") as c:
        assert c.get(f"/trends?{query}").status_code == 400


def test_export_needs_csrf_and_is_audited_and_protected(server: str, data_dir: Path) -> None:
    with client_for(server, "analyst") as c:
        token = csrf_of(c.get("/trends").text)
        form = {"by": "substance", "from": "", "to": ""}
        assert c.post("/export", data=form).status_code == 403
        assert c.post("/export", data={**form, "csrf_token": "forged"}).status_code == 403
        cross = c.post(
            "/export", data={**form, "csrf_token": token}, headers={"origin": "http://evil.example"}
        )
        assert cross.status_code == 403
        before = sum(
            1 for e in AuditLog.for_data_dir(data_dir).entries() if e["action"] == "export"
        )
        resp = c.post("/export", data={**form, "csrf_token": token})
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
        assert "attachment" in resp.headers["content-disposition"]
        lines = resp.text.splitlines()
        assert lines[0] == "month,substance,sales,revenue_eur,n_vendors,suppressed"
        assert all(line.endswith(",,,True") for line in lines[1:])  # < 5 vendors everywhere
    entries = [e for e in AuditLog.for_data_dir(data_dir).entries() if e["action"] == "export"]
    assert len(entries) == before + 1
    assert entries[-1]["actor"] == "web:analyst" and entries[-1]["details"]["rows"] == 5
    assert AuditLog.for_data_dir(data_dir).verify().ok


def test_logins_and_logouts_are_audited_and_logout_ends_the_session(
    server: str, data_dir: Path
) -> None:
    with client_for(server, "steward") as c:
        page = c.get("/audit")
        assert page.status_code == 200
        assert c.post("/logout").status_code == 403  # no token
        cookie = c.cookies.get("dnmwatch_session")
        resp = c.post("/logout", data={"csrf_token": csrf_of(page.text)})
        assert resp.status_code == 303 and resp.headers["location"] == "/login"
    with httpx.Client(base_url=server, cookies={"dnmwatch_session": cookie or ""}) as replay:
        assert replay.get("/").status_code == 303  # the old session id is dead
    actions = [(e["actor"], e["action"]) for e in AuditLog.for_data_dir(data_dir).entries()]
    assert ("web:steward", "login") in actions and ("web:steward", "logout") in actions


def test_login_csrf_and_open_redirects(server: str) -> None:
    with client_for(server) as c:
        assert (
            c.post(
                "/login",
                data={"username": "admin", "password": PASSWORDS["admin"], "csrf_token": "x"},
            ).status_code
            == 403
        )
        page = c.get("/login?next=//evil.example/x")
        assert 'value="/"' in page.text
        resp = c.post(
            "/login",
            data={
                "username": "admin",
                "password": PASSWORDS["admin"],
                "csrf_token": csrf_of(page.text),
                "next": "https://evil.example/",
            },
        )
        assert resp.status_code == 303 and resp.headers["location"] == "/"


def test_foreign_host_header_is_refused(server: str) -> None:
    with client_for(server) as c:
        assert c.get("/login", headers={"host": "evil.example"}).status_code == 400


def test_hostile_titles_are_escaped_and_rejection_details_hidden(server: str) -> None:
    with client_for(server, "analyst") as c:
        profile = c.get("/vendors/alpha/v1").text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in profile
        assert "&lt;img src=x onerror=alert(1)&gt;" in profile
        assert (
            re.search(r"<(script|img|svg|iframe|body)[^>]*(alert|onerror|onload)", profile, re.I)
            is None
        )
        assert "{{7*7}}" in profile and ">49<" not in profile  # no template evaluation
        quality = c.get("/quality").text
        assert "alert('detail')" not in quality and "&lt;script&gt;alert(1)" in quality
        assert "layout:unknown" in quality


def test_throttled_login(data_dir: Path) -> None:
    with live_server(WebConfig(data_dir, warm_bundle=False)) as srv, client_for(srv.url) as c:
        codes = [login(c, "viewer", "wrong password!").status_code for _ in range(6)]
        assert codes[:5] == [401] * 5 and codes[5] == 429
        locked = login(c, "viewer")  # the right password is refused while locked
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    results = [
        e["details"].get("result")
        for e in AuditLog.for_data_dir(data_dir).entries()
        if e["action"] == "login" and e["actor"] == "web"
    ]
    assert "failed" in results and "throttled" in results
    assert all("password" not in json.dumps(e) for e in AuditLog.for_data_dir(data_dir).entries())


def test_query_time_limit_interrupts_long_queries(data_dir: Path) -> None:
    from dnmwatch.estimate.indicators.scope import query

    reader = StoreReader(data_dir, time_limit=0.2)
    with pytest.raises(QueryTimeout, match=r"longer than 0\.2 s"), reader.open() as store:
        query(store, "SELECT count(*) FROM range(10000000000) a WHERE a.range % 7 = 3", {})
    with reader.open() as store:  # the next request works again
        assert query(store, "SELECT 1 AS x", {}).to_pylist() == [{"x": 1}]
