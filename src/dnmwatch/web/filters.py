"""The filters of the dashboard pages: parsed from the query string against allow-lists.

Every value a browser can send is checked here before it reaches a query: dates must be ISO
days, markets must exist in the store, the breakdown must be one of :data:`BREAKDOWNS`, the
displacement window a whole number of days in :data:`WINDOW_RANGE`. The result is an
:class:`~dnmwatch.estimate.indicators.Scope` (bound as SQL parameters downstream).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from dnmwatch.estimate import indicators as ind
from dnmwatch.report.build import ReportOptions

BREAKDOWNS: Mapping[str, tuple[str, ...]] = {
    "substance": ("month", "substance"),
    "category": ("month", "category"),
    "origin": ("month", "origin"),
    "market": ("market", "month"),
}
"""Trend breakdown -> dimensions of the protected sales table behind it."""


WINDOW_DEFAULT: int = ReportOptions().displacement_days
"""Days before and after a closure on the channels page unless chosen: the report's default."""

WINDOW_RANGE = (7, 365)
"""Accepted windows: under a week says nothing about displacement, over a year is no window."""


class FilterError(ValueError):
    """A filter value the dashboard does not accept (answered with 400)."""


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"{name} must be a day like 2020-03-16") from None


def _window(value: str | None) -> int:
    if not value:
        return WINDOW_DEFAULT
    lo, hi = WINDOW_RANGE
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 3) or not lo <= int(text) <= hi:
        raise FilterError(f"window must be a whole number of days from {lo} to {hi}")
    return int(text)


@dataclass(frozen=True, slots=True)
class Filters:
    date_from: date | None = None
    date_to: date | None = None
    markets: tuple[str, ...] = ()
    breakdown: str = "substance"
    window_days: int = WINDOW_DEFAULT
    """Displacement window of the channels page (other pages ignore it)."""

    @classmethod
    def parse(
        cls,
        get: Mapping[str, str],
        markets: Iterable[str],
        known_markets: Sequence[str],
    ) -> Filters:
        """Filters from query parameters (``from``, ``to``, ``market`` repeated, ``by``,
        ``window``)."""
        chosen = tuple(sorted({m for m in markets if m}))
        unknown = [m for m in chosen if m not in known_markets]
        if unknown:
            raise FilterError("unknown market")
        by = get.get("by") or "substance"
        if by not in BREAKDOWNS:
            raise FilterError(f"breakdown must be one of {', '.join(BREAKDOWNS)}")
        lo, hi = _day(get.get("from"), "from"), _day(get.get("to"), "to")
        if lo and hi and lo > hi:
            raise FilterError("the first day is after the last day")
        return cls(lo, hi, chosen, by, _window(get.get("window")))

    @property
    def scope(self) -> ind.Scope:
        return ind.Scope(self.date_from, self.date_to, self.markets)

    @property
    def adhoc(self) -> bool:
        """Whether the slice differs from the whole store (an ad-hoc filter)."""
        return bool(self.date_from or self.date_to or self.markets)

    def query(self, **extra: str) -> str:
        """The query string of these filters (for links and the export form)."""
        pairs: list[tuple[str, str]] = [("by", self.breakdown)]
        if self.date_from:
            pairs.append(("from", self.date_from.isoformat()))
        if self.date_to:
            pairs.append(("to", self.date_to.isoformat()))
        pairs += [("market", m) for m in self.markets]
        if self.window_days != WINDOW_DEFAULT:
            pairs.append(("window", str(self.window_days)))
        pairs += list(extra.items())
        return urlencode(pairs)
