"""Per-run settings of the simulated market servers: gates, faults and limits.

A crawler must be tested against the obstacles real markets put up (login walls, CAPTCHAs, DDoS
queues, rate limits, expiring sessions) and against an unreliable network (errors, time-outs,
torn bodies, downtime). Each obstacle is a field here and each one can be switched off, so a test
turns on exactly the one it is about and a benchmark turns them all off.

Time decisions (documented here because the crawler depends on them):

* **Sessions expire after ``session_ttl_s`` seconds of real (monotonic) time** since they were
  issued, not simulated time: within one crawl the simulated clock stands still, so only real
  time can make a long crawl lose its session the way a 45-minute market session does. The
  timer is injectable (:attr:`ServerOptions.timer`) so tests need not sleep.
* **Rate limits count real time** for the same reason.
* **Downtime windows** come in two flavours: simulated day ranges (the market is down for whole
  days, as seen by a crawl on those days) and real-time windows measured from server start.
  During downtime every request is answered ``503``.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

FaultKind = Literal["5xx", "timeout", "drop", "truncate", "slow", "malformed"]
FAULT_KINDS: tuple[FaultKind, ...] = ("5xx", "timeout", "drop", "truncate", "slow", "malformed")
"""The order in which probabilities are stacked when a request's fault is drawn."""

DEFAULT_PASSWORD = "simpass"  # noqa: S105 - a documented test account, not a secret
"""Any user name is accepted with this password unless :attr:`GatePlan.password` says otherwise."""


@dataclass(frozen=True, slots=True)
class GatePlan:
    """Which anti-scraping gates a market puts in front of its pages (all off by default)."""

    login: bool = False
    """Every page needs a logged-in session; others redirect to ``/login``."""
    password: str = DEFAULT_PASSWORD
    captcha_after_login: bool = False
    """A text CAPTCHA must be answered right after logging in."""
    captcha_every: int = 0
    """Ask a CAPTCHA again after this many page requests of a session (0: never)."""
    queue: bool = False
    """A DDoS queue interstitial is shown on the first visit of a session."""
    queue_wait_s: float = 0.0
    """Real seconds a visitor must wait in the queue before the pass link works."""
    rate_limit: int = 0
    """At most this many requests per session within ``rate_window_s`` (0: unlimited)."""
    rate_window_s: float = 60.0
    session_ttl_s: float = 45 * 60.0
    """Real seconds a session lives after it was issued (markets use about 45 minutes)."""
    bind_user_agent: bool = True
    """A session is valid only with the User-Agent it was issued to."""


@dataclass(frozen=True, slots=True)
class ForcedFault:
    """Force one fault kind on every request whose path (with query) matches ``pattern``.

    ``times`` limits how many requests get it (``None``: all of them); the count is kept by the
    running server, per forced fault.
    """

    pattern: str
    kind: FaultKind
    market: str | None = None
    times: int | None = None
    status: int = 503
    """The status used when ``kind`` is ``5xx``."""

    def matches(self, market: str, path_qs: str) -> bool:
        if self.market is not None and self.market != market:
            return False
        return re.search(self.pattern, path_qs) is not None


@dataclass(frozen=True, slots=True)
class Fault:
    """The fault chosen for one request, with its parameters drawn from the same seed."""

    kind: FaultKind
    status: int = 503
    fraction: float = 0.5
    """Where a body is cut (truncate, malformed), as a share of its length."""
    variant: int = 0
    """Malformed flavour: 0 cut the page, 1 drop closing tags, 2 insert garbage bytes."""


def _uniform(*parts: object) -> float:
    """A uniform number in [0, 1) that depends only on ``parts`` (hash-based, portable)."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Network faults of one run, reproducible: the fault of a request depends only on the seed,
    the market and the request's sequence number on that market (and forced faults)."""

    seed: int = 0
    error_5xx: float = 0.0
    timeout: float = 0.0
    drop: float = 0.0
    truncate: float = 0.0
    slow: float = 0.0
    malformed: float = 0.0
    hold_s: float = 30.0
    """How long a ``timeout`` fault holds the request before closing the connection; set it
    above the client's time-out."""
    slow_s: float = 2.0
    """How long a ``slow`` response takes to trickle its body."""
    downtime_days: tuple[tuple[int, int], ...] = ()
    """Simulated ``[start, end)`` day ranges during which every request is answered 503."""
    downtime_real_s: tuple[tuple[float, float], ...] = ()
    """Real-time ``[start, end)`` windows, in seconds after server start, answered 503."""
    forced: tuple[ForcedFault, ...] = ()

    def probability(self, kind: FaultKind) -> float:
        return {
            "5xx": self.error_5xx, "timeout": self.timeout, "drop": self.drop,
            "truncate": self.truncate, "slow": self.slow, "malformed": self.malformed,
        }[kind]

    def draw(self, market: str, seq: int) -> Fault | None:
        """The random fault of request number ``seq`` on ``market`` (``None``: no fault)."""
        u = _uniform(self.seed, market, seq, "kind")
        edge = 0.0
        for kind in FAULT_KINDS:
            edge += self.probability(kind)
            if u < edge:
                return self.make(kind, market, seq)
        return None

    def make(self, kind: FaultKind, market: str, seq: int, status: int | None = None) -> Fault:
        """A fault of ``kind`` with parameters drawn from the seed and the request number."""
        pick = _uniform(self.seed, market, seq, "param")
        if status is None:
            status = (500, 502, 503)[int(pick * 3)]
        return Fault(kind=kind, status=status, fraction=0.1 + 0.8 * pick,
                     variant=int(_uniform(self.seed, market, seq, "variant") * 3))

    def down_on_day(self, day: int) -> bool:
        return any(start <= day < end for start, end in self.downtime_days)

    def down_at(self, elapsed_s: float) -> bool:
        return any(start <= elapsed_s < end for start, end in self.downtime_real_s)


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """Everything that shapes how the servers behave in one run (besides the world and clock)."""

    gates: GatePlan = field(default_factory=GatePlan)
    faults: FaultPlan = field(default_factory=FaultPlan)
    gates_by_market: tuple[tuple[str, GatePlan], ...] = ()
    """Per-market gate overrides as ``(market, plan)`` pairs."""
    log_size: int = 10_000
    """How many requests the in-memory traffic log keeps (oldest dropped first)."""
    timer: Callable[[], float] = time.monotonic
    """Real-time source for sessions, rate limits and real-time downtime (injectable)."""
    shutdown_timeout_s: float = 0.5

    def gates_for(self, market: str) -> GatePlan:
        for name, plan in self.gates_by_market:
            if name == market:
                return plan
        return self.gates
