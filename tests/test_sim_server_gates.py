"""Gates over real HTTP: login + cookie, text CAPTCHA, DDoS queue, rate limit, expiry, UA binding.

A cookie-keeping urllib opener plays the browser. The CAPTCHA challenge is read from the page text
the way a person reads it; nothing here solves an image or bypasses a gate.
"""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from dnmwatch.sim.server import DEFAULT_PASSWORD, GatePlan, ServerOptions, SimServer
from dnmwatch.sim.server.testworld import handmade_world

UA = "Mozilla/5.0 (Windows NT 10.0; rv:102.0) Gecko/20100101 Firefox/102.0"


@dataclass
class FakeTimer:
    """Real-time source under the test's control (sessions and rate limits use real time)."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


class Browser:
    def __init__(self, base: str, user_agent: str = UA) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.user_agent = user_agent

    def open(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str, dict[
            str, str]]:
        """(status, final URL path, body, headers) after following redirects."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(urllib.parse.urljoin(self.base, path), data=data,
                                     headers={"User-Agent": self.user_agent})
        try:
            with self.opener.open(req, timeout=10) as resp:
                url = urllib.parse.urlsplit(resp.url)
                return (resp.status, url.path + ("?" + url.query if url.query else ""),
                        resp.read().decode(), dict(resp.headers))
        except urllib.error.HTTPError as err:
            return err.code, path, err.read().decode(), dict(err.headers)


@contextmanager
def serve(gates: GatePlan, timer: FakeTimer | None = None) -> Iterator[SimServer]:
    options = ServerOptions(gates=gates, timer=timer or FakeTimer())
    with SimServer(handmade_world(), day=15, options=options) as sim:
        yield sim


def challenge(body: str) -> str:
    match = re.search(r"Type the letters shown: <b>(\w+)</b>", body)
    assert match, "a text challenge on the page"
    return match.group(1)


def test_login_wall_redirects_and_cookie_opens_pages() -> None:
    with serve(GatePlan(login=True)) as sim:
        b = Browser(sim.urls["silkway"])
        status, where, body, _ = b.open("/vendor/greenleaf")
        assert status == 200 and where.startswith("/login") and 'name="password"' in body
        status, where, body, _ = b.open("/login", {"username": "anyone", "password": "wrong",
                                                   "next": "/vendor/greenleaf"})
        assert "Invalid username or password" in body
        status, where, body, _ = b.open("/login", {"username": "anyone",
                                                   "password": DEFAULT_PASSWORD,
                                                   "next": "/vendor/greenleaf"})
        assert status == 200 and where == "/vendor/greenleaf" and "PGP" in body
        assert any(c.name == "silkway_sid" for c in b.jar)
        status, where, _, _ = Browser(sim.urls["silkway"]).open("/vendor/greenleaf")
        assert where.startswith("/login"), "a fresh client without the cookie is walled"


def test_captcha_after_login_wrong_then_right() -> None:
    with serve(GatePlan(login=True, captcha_after_login=True)) as sim:
        b = Browser(sim.urls["bazaar"])
        status, where, body, _ = b.open("/login", {"username": "u", "password": DEFAULT_PASSWORD,
                                                   "next": "/u/greenleaf"})
        assert where.startswith("/captcha")
        first = challenge(body)
        status, where, body, _ = b.open("/u/greenleaf")
        assert where.startswith("/captcha"), "pages stay gated until answered"
        shown = challenge(body)
        status, _, body, _ = b.open("/captcha", {"answer": "WRONG", "next": "/u/greenleaf"})
        assert "Wrong answer" in body
        again = challenge(body)
        assert len({first, shown, again}) == 3, "every challenge shown is a new one"
        status, where, body, _ = b.open("/captcha", {"answer": again.lower(),
                                                     "next": "/u/greenleaf"})
        assert status == 200 and where == "/u/greenleaf" and "Fingerprint" in body


def test_captcha_every_n_requests() -> None:
    with serve(GatePlan(captcha_every=3)) as sim:
        b = Browser(sim.urls["gidra"])
        for _ in range(3):
            assert b.open("/")[1] == "/"
        _, where, body, _ = b.open("/")
        assert where.startswith("/captcha")
        _, where, _, _ = b.open("/captcha", {"answer": challenge(body), "next": "/"})
        assert where == "/"


def test_queue_interstitial_then_pass_sets_cookie() -> None:
    timer = FakeTimer()
    with serve(GatePlan(queue=True, queue_wait_s=5), timer) as sim:
        b = Browser(sim.urls["silkway"])
        status, _, body, _ = b.open("/category/cannabis")
        assert status == 200 and "You are in the queue" in body
        refresh = re.search(r'http-equiv="refresh" content="5;url=([^"]+)"', body)
        assert refresh is not None
        target = refresh.group(1).replace("&amp;", "&")
        _, _, body, _ = b.open(target)
        assert "You are in the queue" in body, "following before the wait keeps you queued"
        timer.now += 5
        status, where, body, _ = b.open(target)
        assert where == "/category/cannabis" and "Amnesia Haze" in body
        assert any(c.name == "silkway_ddg" for c in b.jar)
        assert "Amnesia Haze" in b.open("/category/cannabis")[2]


def test_rate_limit_answers_429_with_retry_after() -> None:
    timer = FakeTimer()
    with serve(GatePlan(rate_limit=3, rate_window_s=10), timer) as sim:
        b = Browser(sim.urls["silkway"])
        assert [b.open("/")[0] for _ in range(3)] == [200, 200, 200]
        timer.now += 4
        status, _, _, headers = b.open("/")
        assert status == 429 and headers["Retry-After"] == "6"
        assert sim.requests[-1].status == 429
        timer.now += 6
        assert b.open("/")[0] == 200


def test_session_expires_after_ttl_of_real_time() -> None:
    timer = FakeTimer()
    with serve(GatePlan(login=True, session_ttl_s=60), timer) as sim:
        b = Browser(sim.urls["silkway"])
        b.open("/login", {"username": "u", "password": DEFAULT_PASSWORD, "next": "/"})
        assert b.open("/")[1] == "/"
        timer.now += 59
        assert b.open("/")[1] == "/"
        timer.now += 2
        assert b.open("/")[1].startswith("/login")


def test_session_is_bound_to_its_user_agent() -> None:
    with serve(GatePlan(login=True)) as sim:
        b = Browser(sim.urls["silkway"])
        b.open("/login", {"username": "u", "password": DEFAULT_PASSWORD, "next": "/"})
        assert b.open("/")[1] == "/"
        b.user_agent = "curl/8.0"
        assert b.open("/")[1].startswith("/login")


def test_per_market_gate_override_and_open_market() -> None:
    options = ServerOptions(gates_by_market=(("bazaar", GatePlan(login=True)),))
    with SimServer(handmade_world(), day=15, options=options) as sim:
        assert Browser(sim.urls["silkway"]).open("/")[1] == "/"
        assert Browser(sim.urls["bazaar"]).open("/")[1].startswith("/login")


def test_login_next_is_not_an_open_redirect() -> None:
    with serve(GatePlan(login=True)) as sim:
        b = Browser(sim.urls["silkway"])
        _, where, _, _ = b.open("/login", {"username": "u", "password": DEFAULT_PASSWORD,
                                           "next": "//evil.example/"})
        assert where == "/"
