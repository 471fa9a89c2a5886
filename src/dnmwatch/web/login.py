"""Logging in and out: throttled, audited, with fresh session ids and login CSRF.

The login form has no session yet, so it is protected by a double-submit cookie (a random
token both in a ``SameSite=Strict`` cookie and in the form); every later change uses the
session's own token. A login always creates a new session id (no fixation) and the cookie is
``HttpOnly`` and ``SameSite=Strict`` (``Secure`` when served over HTTPS or configured so).
Audit entries hold the account name and the outcome, never a password; a failed attempt on a
name that is no account is logged without the name (it may be a mistyped password).
"""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from dnmwatch.privacy.audit import AuditLog
from dnmwatch.web.render import render
from dnmwatch.web.security import LOGIN_CSRF_COOKIE, protected, same_origin, tokens_match
from dnmwatch.web.sessions import ABSOLUTE, COOKIE, Session
from dnmwatch.web.users import USERNAME, UserDB

if TYPE_CHECKING:
    from dnmwatch.web.app import WebConfig

MAX_FIELD = 256
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


def _safe_next(value: str | None) -> str:
    """Only local paths (no scheme, no host, no ``//``) as the after-login target."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    return "/" if parts.scheme or parts.netloc else value


def login_routes(config: WebConfig, users: UserDB, audit: AuditLog) -> list[Route]:
    """The ``/login`` (GET form, POST check) and ``/logout`` (POST) routes."""
    secure = config.secure_cookies

    def form(
        request: Request, message: str = "", status: int = 200, next_path: str = "/"
    ) -> Response:
        # keep the browser's token when it has one: a second GET (another tab, a prefetch)
        # must not invalidate a form already shown
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
        if not _TOKEN.fullmatch(token):
            token = secrets.token_urlsafe(32)
        body = render("login.html", csrf=token, message=message, next=_safe_next(next_path))
        resp = HTMLResponse(body, status_code=status)
        resp.set_cookie(
            LOGIN_CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=secure or request.url.scheme == "https",
            path="/login",
        )
        return resp

    async def login_get(request: Request) -> Response:
        return form(request, next_path=request.query_params.get("next", "/"))

    async def login_post(request: Request) -> Response:
        data = await request.form()
        fields = {k: (v if isinstance(v, str) else "") for k, v in data.items()}
        next_path = _safe_next(fields.get("next"))
        if not same_origin(request) or not tokens_match(
            request.cookies.get(LOGIN_CSRF_COOKIE), fields.get("csrf_token")
        ):
            return form(request, "The form expired; please try again.", 403, next_path)
        username = fields.get("username", "").strip().lower()[:MAX_FIELD]
        password = fields.get("password", "")[:MAX_FIELD]
        client = request.client.host if request.client else "?"
        keys = (f"user:{username}", f"ip:{client}")
        throttle = request.app.state.throttle
        wait = throttle.wait(*keys)
        if wait > 0:
            await _log(audit, username, users, "throttled")
            resp = form(
                request,
                f"Too many failed attempts; try again in {int(wait) + 1} s.",
                429,
                next_path,
            )
            resp.headers["retry-after"] = str(int(wait) + 1)
            return resp
        user = await run_in_threadpool(users.verify, username, password)
        if user is None:
            throttle.failure(*keys)
            await _log(audit, username, users, "failed")
            return form(request, "Wrong user name or password.", 401, next_path)
        throttle.success(keys[0])
        session = request.app.state.sessions.create(user.username, user.role)
        await run_in_threadpool(
            audit.append, f"web:{user.username}", "login", {"result": "ok", "role": user.role.label}
        )
        resp = RedirectResponse(next_path, status_code=303)
        resp.set_cookie(
            COOKIE,
            session.sid,
            max_age=int(ABSOLUTE.total_seconds()),
            httponly=True,
            samesite="strict",
            secure=secure or request.url.scheme == "https",
        )
        resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return resp

    @protected("view")
    async def logout(request: Request, session: Session) -> Response:
        request.app.state.sessions.end(session.sid)
        await run_in_threadpool(audit.append, f"web:{session.username}", "logout", {})
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(COOKIE)
        return resp

    return [
        Route("/login", login_get, methods=["GET"]),
        Route("/login", login_post, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
    ]


async def _log(audit: AuditLog, username: str, users: UserDB, result: str) -> None:
    known: Any = USERNAME.fullmatch(username) and await run_in_threadpool(users.get, username)
    details = {"result": result, "user": username if known else None}
    await run_in_threadpool(audit.append, "web", "login", details)
