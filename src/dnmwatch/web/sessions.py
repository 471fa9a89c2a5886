"""Server-side sessions: the cookie holds only a random id, the server holds the rest.

Why not Starlette's ``SessionMiddleware``: its cookie is signed, not encrypted (anyone holding
it can read it), cannot be revoked at logout, and has no idle limit. Here a session lives in
the server's memory and ends after :data:`IDLE` without a request or :data:`ABSOLUTE` after
login, whichever comes first, and at logout; restarting the server logs everyone out. Each
session carries its own CSRF token (synchroniser-token pattern), compared in constant time.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from time import monotonic

from dnmwatch.web.roles import Role

IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)
COOKIE = "dnmwatch_session"

Clock = Callable[[], float]
"""Seconds on a monotonic clock (injected in tests)."""


@dataclass(slots=True)
class Session:
    sid: str
    username: str
    role: Role
    created: float
    last_seen: float
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf, token or "")


class SessionStore:
    """Sessions by id, thread-safe (page handlers run in a thread pool)."""

    def __init__(
        self, *, idle: timedelta = IDLE, absolute: timedelta = ABSOLUTE, clock: Clock = monotonic
    ) -> None:
        self._idle = idle.total_seconds()
        self._absolute = absolute.total_seconds()
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}

    def create(self, username: str, role: Role) -> Session:
        now = self._clock()
        session = Session(secrets.token_urlsafe(32), username, role, now, now)
        with self._lock:
            self._expire(now)
            self._sessions[session.sid] = session
        return session

    def get(self, sid: str | None) -> Session | None:
        """The live session of ``sid``, its idle clock reset; ``None`` when unknown or over."""
        if not sid:
            return None
        now = self._clock()
        with self._lock:
            session = self._sessions.get(sid)
            if session is None:
                return None
            if self._over(session, now):
                del self._sessions[sid]
                return None
            session.last_seen = now
            return session

    def end(self, sid: str | None) -> None:
        with self._lock:
            self._sessions.pop(sid or "", None)

    def end_user(self, username: str) -> int:
        """End every session of ``username`` (an account removed or reset)."""
        with self._lock:
            gone = [s for s, v in self._sessions.items() if v.username == username]
            for sid in gone:
                del self._sessions[sid]
        return len(gone)

    def __len__(self) -> int:
        with self._lock:
            self._expire(self._clock())
            return len(self._sessions)

    def _over(self, session: Session, now: float) -> bool:
        return now - session.last_seen > self._idle or now - session.created > self._absolute

    def _expire(self, now: float) -> None:
        for sid in [s for s, v in self._sessions.items() if self._over(v, now)]:
            del self._sessions[sid]
