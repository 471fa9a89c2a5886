"""Feedback dates as shown ("3 days ago", "вчера", "2019-10-01") -> an interval of instants.

Why an interval and not a date: a relative date is a *bucket*. A market that says "3 days ago"
at capture time ``C`` means that between 3 and 4 whole days elapsed, so the feedback was posted
in ``(C - 4 days, C - 3 days]``; "2 weeks ago" spans a whole week. Pretending it is one day would
mis-date a feedback by up to a month for "1 month ago". We keep ``[earliest, latest]`` and
intersect the intervals of every sighting of the same feedback: seen as "3 days ago" on one
crawl and as "1 week ago" on the next, it keeps only the instants both statements allow.

Rules (documented in docs/estimation.md):

* **Relative** ``N unit ago`` covers elapsed time ``[N*unit, (N+1)*unit)`` before the capture
  time (floor semantics, as "timeago" renderers use); units: second, minute, hour, day,
  week (7 days), month (30 days), year (365 days). "an hour" / "a day" / "час назад" = 1.
  "just now" / "только что" / "gerade eben" = the last minute; "yesterday" / "вчера" /
  "gestern" = one elapsed day; "today" / "сегодня" / "heute" = since midnight of the capture
  day. English, German and Russian (all three plural forms) are understood.
* **Absolute** dates cover their stated precision: a day without a time is the whole day
  (UTC), a time with minutes the whole minute. ISO (``2019-10-01``, ``2019-10-01 14:05``,
  ``2019-10-01T14:05:09Z``), ``01.10.2019`` (day first), ``10/01/2019`` (month first unless the
  first number is above 12), ``Oct 1, 2019``, ``1 Oct 2019`` and ``October 1, 2019``.
* A text with both ("2019-10-01 (3 days ago)") gets the intersection; if they disagree, the
  absolute date wins (it does not depend on the capture clock).
* Anything else is *unparsed* and returned as ``None``; the caller counts it as a rejection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_UNITS: dict[str, timedelta] = {
    "second": timedelta(seconds=1),
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(days=7),
    "month": timedelta(days=30),
    "year": timedelta(days=365),
}
_UNIT_WORDS: tuple[tuple[str, str], ...] = (
    # (regex prefix of a unit word, unit) in English, German and Russian.
    (r"sec|sek|секунд", "second"),
    (r"min|минут", "minute"),
    (r"h(?:ou)?rs?\b|hour|stunde|std|час", "hour"),
    (r"days?\b|tag|день|дня|дней|сут", "day"),
    (r"w(?:ee)?ks?\b|week|woche|недел", "week"),
    (r"months?\b|monat|месяц", "month"),
    (r"y(?:ea)?rs?\b|year|jahr|год|лет", "year"),
)
_ONE_WORDS = r"a|an|one|ein|einer|einem|eine|один|одну|одна"
_REL = re.compile(
    r"(?:(?P<n>\d+|" + _ONE_WORDS + r")\s*)?(?P<unit>[a-zа-яё]+)\.?\s*"
    r"(?:ago|назад)|vor\s+(?P<n2>\d+|" + _ONE_WORDS + r")\s+(?P<unit2>[a-zäöü]+)"
)
_JUST_NOW = re.compile(r"just now|moments? ago|a moment ago|right now|только что|сейчас|"
                       r"gerade eben|soeben|\bjetzt\b|\bnow\b")
_YESTERDAY = re.compile(r"yesterday|вчера|gestern")
_TODAY = re.compile(r"today|сегодня|heute")
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        (
            "jan january januar", "feb february februar", "mar march märz maerz mrz",
            "apr april", "may mai", "jun june juni", "jul july juli",
            "aug august", "sep sept september", "oct october okt oktober",
            "nov november", "dec december dez dezember",
        )
    )
    for m in names.split()
}
_ISO = re.compile(
    r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[t ](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?"
)
_DOTTED = re.compile(r"\b(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})\b")
_SLASHED = re.compile(r"\b(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4})\b")
_WORDY = re.compile(
    r"\b(?:(?P<mon>[a-zä]{3,9})\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})"
    r"|(?P<d2>\d{1,2})\.?\s+(?P<mon2>[a-zä]{3,9})\.?\s+(?P<y2>\d{4}))\b"
)
MAX_TEXT = 200
"""Dates longer than this are cut before parsing (bounded work on hostile input)."""


@dataclass(frozen=True, slots=True)
class Interval:
    """Instants ``earliest <= t <= latest`` (naive UTC datetimes)."""

    earliest: datetime
    latest: datetime

    def intersect(self, other: Interval) -> Interval | None:
        lo, hi = max(self.earliest, other.earliest), min(self.latest, other.latest)
        return Interval(lo, hi) if lo <= hi else None

    def gap(self, other: Interval) -> timedelta:
        """How far apart two intervals are (zero when they overlap)."""
        if self.latest < other.earliest:
            return other.earliest - self.latest
        if other.latest < self.earliest:
            return self.earliest - other.latest
        return timedelta(0)

    @property
    def midpoint(self) -> datetime:
        return self.earliest + (self.latest - self.earliest) / 2

    @property
    def width(self) -> timedelta:
        return self.latest - self.earliest


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _count(word: str | None) -> int | None:
    if word is None or not word:
        return 1
    return int(word) if word.isdigit() else 1


def _unit(word: str) -> str | None:
    for pattern, unit in _UNIT_WORDS:
        if re.match(pattern, word):
            return unit
    return None


def parse_relative(text: str, captured_at: datetime) -> Interval | None:
    """The interval a relative date names, anchored on the capture time; ``None`` if none."""
    now = _naive(captured_at)
    if _JUST_NOW.search(text):
        return Interval(now - timedelta(minutes=1), now)
    if _YESTERDAY.search(text):
        return Interval(now - timedelta(days=2), now - timedelta(days=1))
    if _TODAY.search(text):
        return Interval(now.replace(hour=0, minute=0, second=0, microsecond=0), now)
    for found in _REL.finditer(text):
        word = found.group("unit") or found.group("unit2") or ""
        unit = _unit(word)
        n = _count(found.group("n") if found.group("unit") else found.group("n2"))
        if unit is None or n is None:
            continue
        step = _UNITS[unit]
        return Interval(now - step * (n + 1), now - step * n)
    return None


def _day_interval(y: int, m: int, d: int) -> Interval | None:
    try:
        start = datetime(y, m, d)
    except ValueError:
        return None
    return Interval(start, start + timedelta(days=1) - timedelta(microseconds=1))


def parse_absolute(text: str) -> Interval | None:
    """The interval an absolute date (with its precision) names; ``None`` if none is found."""
    iso = _ISO.search(text)
    if iso is not None:
        day = _day_interval(int(iso["y"]), int(iso["m"]), int(iso["d"]))
        if day is None or iso["H"] is None:
            return day
        try:
            start = day.earliest.replace(hour=int(iso["H"]), minute=int(iso["M"]),
                                         second=int(iso["S"] or 0))
        except ValueError:
            return day
        step = timedelta(seconds=1) if iso["S"] else timedelta(minutes=1)
        return Interval(start, start + step - timedelta(microseconds=1))
    dotted = _DOTTED.search(text)
    if dotted is not None:
        return _day_interval(int(dotted["y"]), int(dotted["m"]), int(dotted["d"]))
    slashed = _SLASHED.search(text)
    if slashed is not None:
        a, b = int(slashed["a"]), int(slashed["b"])
        month, mday = (b, a) if a > 12 else (a, b)
        return _day_interval(int(slashed["y"]), month, mday)
    wordy = _WORDY.search(text)
    if wordy is not None:
        mon = (wordy["mon"] or wordy["mon2"] or "").rstrip(".")
        number = _MONTHS.get(mon)
        if number is not None:
            return _day_interval(int(wordy["y"] or wordy["y2"]), number,
                                 int(wordy["d"] or wordy["d2"]))
    return None


def parse_posted(text: str | None, captured_at: datetime) -> Interval | None:
    """The interval of a feedback date as shown, or ``None`` when it cannot be read."""
    if not text:
        return None
    folded = " ".join(text[:MAX_TEXT].casefold().split())
    absolute = parse_absolute(folded)
    relative = parse_relative(folded, captured_at)
    if absolute is not None and relative is not None:
        return absolute.intersect(relative) or absolute
    return absolute or relative
