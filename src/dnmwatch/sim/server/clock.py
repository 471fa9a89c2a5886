"""The simulated clock: what "now" is for every page the servers render.

A crawl at simulated day ``d`` must see exactly what a real crawler would have seen on that day,
so every visibility rule (alive markets, live listings, posted feedback, prices, sales counters,
relative dates) reads the time from one :class:`SimClock`. The clock does not tick by itself: it
stands still until the operator moves it (``--day`` at start, the control endpoint, or
:meth:`SimClock.set_day`), which keeps pages byte-identical for the same day.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from dnmwatch.errors import SimulationError

DEFAULT_TIME_OF_DAY = time(12, 0)
"""Where on a day :meth:`SimClock.set_day` puts the clock: noon UTC, mid-way through the day."""


class SimClock:
    """Thread-safe simulated UTC time, anchored on the world's day 0.

    Listeners registered with :meth:`on_change` are called after every change, in the thread
    that made it; the server uses this to open or close the listening socket of markets that
    come to life or exit.
    """

    def __init__(self, start: date, day: int = 0, *, days: int | None = None) -> None:
        self._start = start
        self._days = days
        self._lock = threading.Lock()
        self._now = self._at(day, DEFAULT_TIME_OF_DAY)
        self._listeners: list[Callable[[SimClock], None]] = []

    def _at(self, day: int, tod: time) -> datetime:
        if day < 0 or (self._days is not None and day >= self._days):
            limit = f"0..{self._days - 1}" if self._days is not None else ">= 0"
            raise SimulationError(f"day {day} is outside the simulated run ({limit})")
        return datetime.combine(self._start + timedelta(days=day), tod, tzinfo=UTC)

    @property
    def start(self) -> date:
        return self._start

    @property
    def now(self) -> datetime:
        with self._lock:
            return self._now

    @property
    def day(self) -> int:
        return (self.now.date() - self._start).days

    @property
    def today(self) -> dt.date:
        return self.now.date()

    def on_change(self, listener: Callable[[SimClock], None]) -> None:
        self._listeners.append(listener)

    def set_day(self, day: int, time_of_day: time = DEFAULT_TIME_OF_DAY) -> None:
        """Move the clock to simulated day ``day`` (default: noon UTC)."""
        self._set(self._at(day, time_of_day))

    def set_date(self, when: dt.date, time_of_day: time = DEFAULT_TIME_OF_DAY) -> None:
        """Move the clock to a calendar date of the run."""
        self.set_day((when - self._start).days, time_of_day)

    def set_datetime(self, when: datetime) -> None:
        """Move the clock to an exact UTC instant inside the run."""
        if when.tzinfo is None:
            raise SimulationError("the simulated clock needs a timezone-aware datetime")
        when = when.astimezone(UTC)
        self._at((when.date() - self._start).days, when.timetz())
        self._set(when)

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward (or back) by ``delta``."""
        self.set_datetime(self.now + delta)

    def _set(self, when: datetime) -> None:
        with self._lock:
            self._now = when
        for listener in list(self._listeners):
            listener(self)

    def as_json(self) -> dict[str, object]:
        now = self.now
        return {"day": (now.date() - self._start).days, "date": now.date().isoformat(),
                "datetime": now.isoformat()}
