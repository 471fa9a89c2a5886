"""Login throttling: slow down password guessing per account and per client address.

After :attr:`LoginThrottle.free` failures within :attr:`LoginThrottle.window` seconds, a key
(user name, or client address) is locked for a delay that doubles with each further failure,
up to :attr:`LoginThrottle.max_lock`. A success clears the user name's record (not the
address's, so one known password cannot be used to keep guessing others). Locked attempts are
refused without checking the password at all, so a lock cannot be probed for a right answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from time import monotonic


@dataclass(slots=True)
class _Record:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0


class LoginThrottle:
    """Failure records by key, thread-safe, in memory."""

    def __init__(
        self,
        *,
        free: int = 5,
        window: float = 900.0,
        base_lock: float = 30.0,
        max_lock: float = 900.0,
        clock: Callable[[], float] = monotonic,
    ) -> None:
        self.free, self.window, self.base_lock, self.max_lock = free, window, base_lock, max_lock
        self._clock = clock
        self._lock = threading.Lock()
        self._records: dict[str, _Record] = {}

    def wait(self, *keys: str) -> float:
        """Seconds until every key may try again (0 when none is locked)."""
        now = self._clock()
        with self._lock:
            return max(
                (max(0.0, r.locked_until - now) for k in keys if (r := self._records.get(k))),
                default=0.0,
            )

    def failure(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                rec = self._records.setdefault(key, _Record())
                rec.failures = [t for t in rec.failures if now - t < self.window] + [now]
                extra = len(rec.failures) - self.free
                if extra >= 0:
                    rec.locked_until = now + min(self.max_lock, self.base_lock * 2**extra)

    def success(self, key: str) -> None:
        with self._lock:
            self._records.pop(key, None)
