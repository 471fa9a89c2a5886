"""Daily exchange rates: reading rate files, the gap rule, and conversion to EUR.

Every rate is stored as ``eur_per_unit``: how many euros one unit of the currency was worth
that day (ECB publishes "units per euro", so its figures are inverted). Supported files:

* ``ecb``     the ECB history CSV (``Date,USD,JPY,...``, ``N/A`` for gaps, trailing comma);
* ``generic`` ``day,currency,rate`` with ``rate`` = EUR per unit;
* ``bchain``  blockchain.com market price (``Date,Value``): BTC in USD;
* ``yahoo``   Yahoo Finance OHLCV (``Date,Open,High,Low,Close,...``): the close, in the quote
  currency named by the file (``BTC-EUR.csv``, ``BTC-USD.csv``; EUR when it does not say);
* ``coindesk`` CoinDesk BPI and its relatives (a date and a USD close; header optional, text
  footer lines ignored).

Crypto prices quoted in USD are converted with the ECB USD rate of the same day; when the ECB
has no rate that day (weekends, holidays) the gap rule below applies to the USD rate, and
beyond it the row is rejected with its reason.

**Gap rule**: a rate missing on a day is taken from the nearest day that has one, if it is at
most :data:`MAX_GAP_DAYS` (3) days away (ties: the earlier day); otherwise the lookup is a
:class:`~dnmwatch.records.Rejection` with reason ``rate_gap`` or ``rate_missing``. A rate the
market itself shows on the page (``USD 50.17 (0.0376 BTC)``) wins over the table.
"""

from __future__ import annotations

import bisect
import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from dnmwatch.errors import NormaliseError
from dnmwatch.normalise.prices import CRYPTO, ParsedPrice
from dnmwatch.records import Counters, Rejection

MAX_GAP_DAYS = 3
FORMATS = ("auto", "ecb", "generic", "bchain", "yahoo", "coindesk")
MAX_RATE_FILE_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RateRow:
    """One day's value of one currency in EUR."""

    day: date
    currency: str
    eur_per_unit: float


@dataclass(slots=True)
class RateFile:
    """The rows read from a file and the rows rejected (by reason)."""

    rows: list[RateRow] = field(default_factory=list)
    counters: Counters = field(default_factory=Counters)


_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%b %d, %Y", "%d.%m.%Y", "%m/%d/%Y")


def parse_day(text: str) -> date | None:
    """A date in the formats the rate files use; ``None`` when it is not a date."""
    text = text.strip().strip('"')
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _float(text: str) -> float | None:
    try:
        value = float(text.strip().strip('"').replace(",", ""))
    except ValueError:
        return None
    return value if value > 0 else None


def detect_format(text: str, name: str = "") -> str:
    """Guess a rate file's format from its first line (and its name for Yahoo files)."""
    first = text.lstrip("\ufeff").split("\n", 1)[0].strip().lower().replace('"', "")
    cols = [c.strip() for c in first.split(",")]
    if cols[:1] == ["date"] and "usd" in cols and "gbp" in cols:
        return "ecb"
    if cols[:3] in (["day", "currency", "rate"], ["day", "currency", "eur_per_unit"]):
        return "generic"
    if cols[:2] == ["date", "value"]:
        return "bchain"
    if cols[:1] == ["date"] and "close" in cols and "open" in cols:
        return "yahoo"
    if parse_day(cols[0]) is not None or (cols[:1] == ["date"] and len(cols) >= 2):
        return "coindesk"
    raise NormaliseError(f"cannot tell the format of rate file {name or '<text>'}: {first[:80]!r}")


def parse_ecb(text: str) -> RateFile:
    """The ECB history CSV: one column per currency, units per euro."""
    out = RateFile()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in next(reader, [])]
    for row in reader:
        day = parse_day(row[0]) if row else None
        if day is None:
            out.counters.inc("bad_date")
            continue
        out.rows.append(RateRow(day, "EUR", 1.0))
        for cur, cell in zip(header[1:], row[1:], strict=False):
            if not cur:
                continue
            value = _float(cell)
            if value is None:
                out.counters.inc("no_value")
                continue
            out.rows.append(RateRow(day, cur.upper(), 1.0 / value))
    return out


def parse_generic(text: str) -> RateFile:
    """``day,currency,rate`` (rate = EUR per unit)."""
    out = RateFile()
    for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff"))):
        day = parse_day(row.get("day") or "")
        value = _float(row.get("rate") or row.get("eur_per_unit") or "")
        cur = (row.get("currency") or "").strip().upper()
        if day is None or value is None or not re.fullmatch(r"[A-Z0-9]{2,6}", cur):
            out.counters.inc("bad_row")
            continue
        out.rows.append(RateRow(day, cur, value))
    return out


def _quoted_series(
    pairs: Iterable[tuple[str, str]], currency: str, quote: str, usd: RateTable | None
) -> RateFile:
    """Rows of a price series in ``quote`` (EUR or USD); USD goes through the ECB USD rate."""
    out = RateFile()
    for day_text, value_text in pairs:
        day, value = parse_day(day_text), _float(value_text)
        if day is None:
            out.counters.inc("bad_date")
            continue
        if value is None:
            out.counters.inc("no_value")
            continue
        if quote == "EUR":
            out.rows.append(RateRow(day, currency, value))
            continue
        if usd is None:
            raise NormaliseError(
                f"{currency} prices are in {quote}: import the ECB history first "
                "(its USD rate converts them to EUR)"
            )
        rate = usd.lookup(quote, day)
        if isinstance(rate, Rejection):
            out.counters.inc(f"no_ecb_{quote.lower()}_rate")
            continue
        out.rows.append(RateRow(day, currency, value * rate))
    return out


def parse_rate_text(
    text: str, fmt: str = "auto", *, name: str = "", usd: RateTable | None = None
) -> RateFile:
    """Parse a rate file's text in the given format (``auto`` detects it)."""
    if fmt == "auto":
        fmt = detect_format(text, name)
    if fmt == "ecb":
        return parse_ecb(text)
    if fmt == "generic":
        return parse_generic(text)
    rows = [r for r in csv.reader(io.StringIO(text.lstrip("\ufeff"))) if r]
    if rows and parse_day(rows[0][0]) is None:
        header = [h.strip().lower() for h in rows[0]]
        rows = rows[1:]
    else:
        header = []
    if fmt == "bchain":
        return _quoted_series(((r[0], r[1]) for r in rows if len(r) > 1), "BTC", "USD", usd)
    if fmt == "yahoo":
        col = header.index("close") if "close" in header else 4
        pair = re.search(r"([A-Z]{3,4})-([A-Z]{3})", name)
        base, quote = (pair.group(1), pair.group(2)) if pair else ("BTC", "EUR")
        data = ((r[0], r[col]) for r in rows if len(r) > col)
        return _quoted_series(data, base, quote, usd)
    if fmt == "coindesk":
        return _quoted_series(((r[0], r[1]) for r in rows if len(r) > 1), "BTC", "USD", usd)
    raise NormaliseError(f"unknown rate file format {fmt!r} (use one of {', '.join(FORMATS)})")


def read_rate_file(path: Path, fmt: str = "auto", usd: RateTable | None = None) -> RateFile:
    """Read a rate file from disk (size-capped), translating OS errors."""
    try:
        size = path.stat().st_size
        if size > MAX_RATE_FILE_BYTES:
            raise NormaliseError(f"{path}: {size} bytes is over the {MAX_RATE_FILE_BYTES} cap")
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise NormaliseError(f"cannot read rate file {path}: {exc}") from exc
    return parse_rate_text(text, fmt, name=path.name, usd=usd)


class RateTable:
    """Daily rates in memory, with the gap rule. Build once, look up many times."""

    def __init__(self, rows: Iterable[RateRow] = ()) -> None:
        self._days: dict[str, list[int]] = {}
        self._values: dict[str, list[float]] = {}
        self.add(rows)

    def add(self, rows: Iterable[RateRow]) -> None:
        """Add rows; a later row for the same day and currency replaces the earlier one."""
        merged: dict[str, dict[int, float]] = {
            cur: dict(zip(days, self._values[cur], strict=True)) for cur, days in self._days.items()
        }
        for row in rows:
            merged.setdefault(row.currency, {})[row.day.toordinal()] = row.eur_per_unit
        for cur, by_day in merged.items():
            days = sorted(by_day)
            self._days[cur] = days
            self._values[cur] = [by_day[d] for d in days]

    def currencies(self) -> list[str]:
        return sorted(self._days)

    def lookup(self, currency: str, day: date) -> float | Rejection:
        """EUR per unit on ``day``, or from the nearest day within the gap rule."""
        if currency == "EUR":
            return 1.0
        days = self._days.get(currency)
        if not days:
            return Rejection("rate_missing", f"no {currency} rates at all")
        target = day.toordinal()
        i = bisect.bisect_left(days, target)
        best: int | None = None
        for j in (i - 1, i):
            if 0 <= j < len(days) and (
                best is None or abs(days[j] - target) < abs(days[best] - target)
            ):
                best = j
        assert best is not None
        gap = abs(days[best] - target)
        if gap > MAX_GAP_DAYS:
            return Rejection("rate_gap", f"{currency} on {day}: nearest rate is {gap} days away")
        return self._values[currency][best]


def to_eur(price: ParsedPrice, day: date, table: RateTable) -> float | Rejection:
    """The price in EUR on ``day``; a rate shown on the page wins over the table.

    "USD 50.17 (0.0376 BTC)" is converted through its USD amount, so the market's own BTC/USD
    rate is what counts; a crypto-only price goes through the table's crypto rate.
    """
    amounts = (price.price, *price.also)
    fiat = next((m for m in amounts if m.currency not in CRYPTO), None)
    money = fiat if fiat is not None else price.price
    rate = table.lookup(money.currency, day)
    if isinstance(rate, Rejection):
        return rate
    return money.amount * rate
