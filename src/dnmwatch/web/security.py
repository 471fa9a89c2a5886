"""HTTP security of the dashboard: response headers, CSRF checks, and the access guard.

* **Content-Security-Policy**: scripts and styles only from the dashboard itself (files, no
  inline code, no ``eval``: Vega runs its expressions through the CSP-safe interpreter), no
  frames, no plug-ins, forms post only to the dashboard, nothing loaded from elsewhere.
* **CSRF**: every state-changing request (any method but GET/HEAD) must carry the session's
  token (form field ``csrf_token`` or header ``X-CSRF-Token``) and, when the browser sends an
  ``Origin``, come from the dashboard's own origin. The login form, which has no session yet,
  uses a double-submit cookie.
* **Access**: :func:`protected` wraps every page; it answers 401/redirect without a live
  session and 403 without the permission (deny by default: see :mod:`dnmwatch.web.roles`).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dnmwatch.web.roles import allowed
from dnmwatch.web.sessions import COOKIE, Session

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS: dict[str, str] = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",  # no-referrer would make Chrome send Origin: null
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
SAFE_METHODS = frozenset({"GET", "HEAD"})
LOGIN_CSRF_COOKIE = "dnmwatch_login_csrf"


class SecurityHeaders:
    """ASGI middleware adding :data:`HEADERS` to every response (``no-store`` except for
    static files, which hold no data)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.decode().lower() not in HEADERS
                ]
                headers += [(k.encode(), v.encode()) for k, v in HEADERS.items()]
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another origin."""
    origin = request.headers.get("origin")
    if origin is None or (origin == "null" and request.method in SAFE_METHODS):
        return True
    parts = urlsplit(origin)
    return parts.netloc == request.headers.get("host", "") and parts.scheme == request.url.scheme


async def form_token(request: Request) -> str | None:
    """The CSRF token a request carries (header first, then the form field)."""
    header = request.headers.get("x-csrf-token")
    if header:
        return header
    form = await request.form()
    value = form.get("csrf_token")
    return value if isinstance(value, str) else None


def tokens_match(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(a or "", b or "")


Handler = Callable[[Request, Session], Awaitable[Response]]


def protected(permission: str) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a page handler: live session, permission, and CSRF on state changes."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            sessions = request.app.state.sessions
            session: Session | None = sessions.get(request.cookies.get(COOKIE))
            if session is None:
                if request.method in SAFE_METHODS and not request.headers.get("x-partial"):
                    target = quote(request.url.path, safe="/")
                    return RedirectResponse(f"/login?next={target}", status_code=303)
                return PlainTextResponse("login required", status_code=401)
            if not allowed(session.role, permission):
                return PlainTextResponse("forbidden for your role", status_code=403)
            if request.method not in SAFE_METHODS and (
                not same_origin(request) or not session.csrf_ok(await form_token(request))
            ):
                return PlainTextResponse("invalid or missing CSRF token", status_code=403)
            return await handler(request, session)

        endpoint.permission = permission  # type: ignore[attr-defined]
        endpoint.__name__ = handler.__name__
        endpoint.__doc__ = handler.__doc__
        return endpoint

    return wrap


def permission_of(endpoint: Any) -> str | None:
    """The permission a route's endpoint was declared with (``None``: not protected)."""
    value = getattr(endpoint, "permission", None)
    return value if isinstance(value, str) else None
