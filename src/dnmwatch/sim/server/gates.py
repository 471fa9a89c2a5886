"""Anti-scraping gates: sessions, login, text CAPTCHA, DDoS queue and per-session rate limits.

Real markets put these in front of every page, and a crawler that has never met them fails on
its first real run. Each gate is switched by :class:`~dnmwatch.sim.server.options.GatePlan`.

Decisions (documented for the crawler's authors):

* A session is a cookie ``<market>_sid`` (names are per market because every simulated market
  shares the host 127.0.0.1, and cookies ignore ports). Every visitor gets one on first contact.
* A session lives ``session_ttl_s`` seconds of **real** time after being issued and is bound to
  the User-Agent it was issued to; an expired session, or one presented with another User-Agent,
  is treated as absent (a fresh session is issued, and the login wall applies again).
* Order of the gates: rate limit (429 + ``Retry-After``; every request of the session counts,
  gate pages included), DDoS queue, login, CAPTCHA, page.
* ``captcha_every = N``: after N pages served to a session, the next page asks a CAPTCHA again
  (gate pages do not count).
* The CAPTCHA is a text challenge meant for a person ("Type the letters shown: K7PQX"); the
  simulator never solves it for anyone. Answers are compared case-insensitively.
* Session ids and challenges are derived from the fault seed and a counter, so a run is
  reproducible; they are not secrets (the simulator only listens on loopback).
"""

from __future__ import annotations

import hashlib
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

from aiohttp import web

from dnmwatch.sim.server.options import GatePlan
from dnmwatch.sim.server.text import e

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
MAX_SESSIONS = 50_000
"""Oldest sessions are forgotten beyond this many (a cookie-less client gets one per request)."""
GATE_PATHS = ("/login", "/captcha", "/queue/pass")


@dataclass(slots=True)
class Session:
    sid: str
    user_agent: str
    issued: float
    user: str | None = None
    queue_token: str = ""
    queue_since: float = 0.0
    queue_passed: bool = False
    captcha_required: bool = False
    challenge: str | None = None
    pages_since_captcha: int = 0
    hits: deque[float] = field(default_factory=deque)


def _digest(*parts: object) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()


def safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after a gate (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _page(title: str, body: str, status: int = 200, refresh: str = "") -> web.Response:
    meta = f'<meta http-equiv="refresh" content="{e(refresh)}">' if refresh else ""
    html = (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">{meta}<title>{e(title)}"
            f"</title></head><body><div class=\"gate\">{body}</div></body></html>\n")
    return web.Response(status=status, text=html, content_type="text/html", charset="utf-8")


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})


class Gatekeeper:
    """The sessions and gates of one market."""

    def __init__(self, market: str, plan: GatePlan, seed: int,
                 timer: Callable[[], float]) -> None:
        self.market = market
        self.plan = plan
        self.seed = seed
        self.timer = timer
        self.cookie = f"{market}_sid"
        self.queue_cookie = f"{market}_ddg"
        self.sessions: dict[str, Session] = {}
        self._issued = 0
        self._challenges = 0

    # --- sessions ---------------------------------------------------------------------------
    def resolve(self, request: web.Request) -> tuple[Session, bool]:
        """The request's valid session, or a new one (second value: whether it is new)."""
        ua = request.headers.get("User-Agent", "")
        now = self.timer()
        sess = self.sessions.get(request.cookies.get(self.cookie, ""))
        if sess is not None and now - sess.issued > self.plan.session_ttl_s:
            del self.sessions[sess.sid]
            sess = None
        if sess is not None and self.plan.bind_user_agent and sess.user_agent != ua:
            sess = None
        if sess is not None:
            return sess, False
        self._issued += 1
        sid = _digest(self.seed, self.market, "session", self._issued)[:32]
        sess = Session(sid=sid, user_agent=ua, issued=now,
                       queue_token=_digest(self.seed, sid, "queue")[:16], queue_since=now)
        self.sessions[sid] = sess
        if len(self.sessions) > MAX_SESSIONS:
            del self.sessions[next(iter(self.sessions))]
        return sess, True

    def rate_limited(self, sess: Session) -> web.Response | None:
        """429 with ``Retry-After`` once a session exceeds R requests within W seconds."""
        if self.plan.rate_limit <= 0:
            return None
        now = self.timer()
        while sess.hits and sess.hits[0] <= now - self.plan.rate_window_s:
            sess.hits.popleft()
        if len(sess.hits) >= self.plan.rate_limit:
            wait = max(1, math.ceil(sess.hits[0] + self.plan.rate_window_s - now))
            resp = _page("Too many requests",
                         f"<h1>Slow down</h1><p>Too many requests. Try again in {wait} s.</p>",
                         status=429)
            resp.headers["Retry-After"] = str(wait)
            return resp
        sess.hits.append(now)
        return None

    # --- the gates --------------------------------------------------------------------------
    async def check(self, request: web.Request, sess: Session) -> web.Response | None:
        """A gate response for this request, or ``None`` when the page may be served."""
        path = request.path
        if self.plan.queue and path == "/queue/pass":
            return self._queue_pass(request, sess)
        if self.plan.queue and not (sess.queue_passed and request.cookies.get(
                self.queue_cookie) == sess.queue_token):
            return self._queue_page(request, sess)
        if self.plan.login and path == "/login":
            return await self._login(request, sess)
        if self.plan.login and sess.user is None:
            return _redirect("/login?next=" + quote(request.path_qs, safe=""))
        needs_captcha = self.plan.captcha_after_login or self.plan.captcha_every > 0
        if needs_captcha and path == "/captcha":
            return await self._captcha(request, sess)
        if sess.captcha_required:
            return _redirect("/captcha?next=" + quote(request.path_qs, safe=""))
        if self.plan.captcha_every > 0:
            sess.pages_since_captcha += 1
            if sess.pages_since_captcha > self.plan.captcha_every:
                sess.captcha_required = True
                return _redirect("/captcha?next=" + quote(request.path_qs, safe=""))
        return None

    def _queue_page(self, request: web.Request, sess: Session) -> web.Response:
        wait = math.ceil(self.plan.queue_wait_s)
        target = (f"/queue/pass?token={sess.queue_token}&next="
                  + quote(safe_next(request.path_qs), safe=""))
        body = ("<h1>DDoS protection</h1><p>You are in the queue. Your position: 1.</p>"
                f"<p>You will be redirected in {wait} seconds.</p>"
                f'<p><a href="{e(target)}">Continue</a></p>')
        return _page("Queue", body, refresh=f"{wait};url={target}")

    def _queue_pass(self, request: web.Request, sess: Session) -> web.Response:
        waited = self.timer() - sess.queue_since
        if request.query.get("token") != sess.queue_token or waited < self.plan.queue_wait_s:
            return self._queue_page(request, sess)
        sess.queue_passed = True
        resp = _redirect(safe_next(request.query.get("next")))
        resp.set_cookie(self.queue_cookie, sess.queue_token, httponly=True, path="/")
        return resp

    def _login_form(self, target: str, error: str = "") -> web.Response:
        message = f'<p class="error">{e(error)}</p>' if error else ""
        body = (f"<h1>Login</h1>{message}<form method=\"post\" action=\"/login\">"
                '<label>Username <input name="username"></label>'
                '<label>Password <input type="password" name="password"></label>'
                f'<input type="hidden" name="next" value="{e(target)}">'
                '<button type="submit">Login</button></form>')
        return _page("Login", body)

    async def _login(self, request: web.Request, sess: Session) -> web.Response:
        if request.method != "POST":
            return self._login_form(safe_next(request.query.get("next")))
        form = await request.post()
        user, password = str(form.get("username", "")), str(form.get("password", ""))
        target = safe_next(str(form.get("next", "/")))
        if not user or password != self.plan.password:
            return self._login_form(target, "Invalid username or password.")
        sess.user = user
        if self.plan.captcha_after_login:
            sess.captcha_required = True
            return _redirect("/captcha?next=" + quote(target, safe=""))
        return _redirect(target)

    def _new_challenge(self, sess: Session) -> str:
        self._challenges += 1
        digest = bytes.fromhex(_digest(self.seed, sess.sid, "captcha", self._challenges))
        sess.challenge = "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:5])
        return sess.challenge

    def _captcha_form(self, sess: Session, target: str, error: str = "") -> web.Response:
        challenge = self._new_challenge(sess)
        message = f'<p class="error">{e(error)}</p>' if error else ""
        body = (f"<h1>Security check</h1>{message}"
                f'<p class="challenge">Type the letters shown: <b>{challenge}</b></p>'
                '<form method="post" action="/captcha"><input name="answer" autocomplete="off">'
                f'<input type="hidden" name="next" value="{e(target)}">'
                '<button type="submit">Verify</button></form>')
        return _page("Security check", body)

    async def _captcha(self, request: web.Request, sess: Session) -> web.Response:
        if request.method != "POST":
            return self._captcha_form(sess, safe_next(request.query.get("next")))
        form = await request.post()
        answer = str(form.get("answer", "")).strip().upper()
        target = safe_next(str(form.get("next", "/")))
        if sess.challenge is None or answer != sess.challenge:
            return self._captcha_form(sess, target, "Wrong answer, try again.")
        sess.challenge = None
        sess.captcha_required = False
        sess.pages_since_captcha = 0
        return _redirect(target)
