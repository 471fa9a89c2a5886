"""Price strings as markets show them -> (amount, currency), plus rates the page implies.

Amounts and currencies are read by our own code. ``price-parser`` was evaluated first: it reads
"€1.234,50" and "1 234,50 руб" well, but it knows no crypto currency (BTC, XMR), returns symbols
("€", "$") rather than ISO codes, and reads "0,005 ฿" as 5 (a comma before three digits taken
as a thousands separator), which is wrong for the small crypto amounts darknet markets show.

A string may carry two prices ("USD 50.17 (0.0376 BTC)"): the first is the price, the second
implies the market's own exchange rate, which wins over any daily rate when converting
(see :mod:`dnmwatch.normalise.rates`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dnmwatch.normalise.lexicon import fold
from dnmwatch.normalise.quantities import parse_number

CURRENCY_ALIASES: dict[str, str] = {
    **dict.fromkeys(
        [
            "$",
            "usd",
            "us$",
            "us dollar",
            "us dollars",
            "dollar",
            "dollars",
            "доллар",
            "доллара",
            "долларов",
            "долл",
            "дол",
        ],
        "USD",
    ),
    **dict.fromkeys(["€", "eur", "euro", "euros", "евро", "euro's"], "EUR"),
    **dict.fromkeys(["£", "gbp", "pound sterling", "pounds sterling", "фунт"], "GBP"),
    **dict.fromkeys(
        ["฿", "₿", "btc", "xbt", "bitcoin", "bitcoins", "биткоин", "биткойн", "биткоинов", "бтк"],
        "BTC",
    ),
    **dict.fromkeys(["xmr", "monero", "ɱ", "монеро"], "XMR"),
    **dict.fromkeys(["ltc", "litecoin", "ł"], "LTC"),
    **dict.fromkeys(["eth", "ether", "ethereum", "Ξ"], "ETH"),
    **dict.fromkeys(["bch", "bitcoin cash"], "BCH"),
    **dict.fromkeys(["₽", "rub", "руб", "рубль", "рубля", "рублей", "р"], "RUB"),
    **dict.fromkeys(["₴", "uah", "грн", "гривна", "гривен", "гривны"], "UAH"),
    **dict.fromkeys(["byn", "br", "бел руб"], "BYN"),
    **dict.fromkeys(["֏", "ք", "amd", "драм", "драмов"], "AMD"),
    **dict.fromkeys(["₸", "kzt", "тенге"], "KZT"),
    **dict.fromkeys(["a$", "au$", "au $", "a $", "aud"], "AUD"),
    **dict.fromkeys(["c$", "ca$", "c $", "cad"], "CAD"),
    **dict.fromkeys(["chf", "fr.", "sfr"], "CHF"),
    **dict.fromkeys(["sek", "kr", "kronor"], "SEK"),
    **dict.fromkeys(["nok"], "NOK"),
    **dict.fromkeys(["dkk"], "DKK"),
    **dict.fromkeys(["pln", "zł", "zl", "zloty", "złotych"], "PLN"),
    **dict.fromkeys(["czk", "kč", "kc"], "CZK"),
    **dict.fromkeys(["¥", "jpy", "yen"], "JPY"),
    **dict.fromkeys(["cny", "rmb", "yuan"], "CNY"),
    **dict.fromkeys(["₹", "inr"], "INR"),
    **dict.fromkeys(["nzd", "nz$"], "NZD"),
    **dict.fromkeys(["hkd", "hk$"], "HKD"),
}
CRYPTO = frozenset({"BTC", "XMR", "LTC", "ETH", "BCH"})
MAX_PRICE_CHARS = 200

_ALIAS_ALT = "|".join(sorted((re.escape(a) for a in CURRENCY_ALIASES), key=len, reverse=True))
_AMOUNT = r"\d[\d\s.,']*\d|\d"
_MONEY_RE = re.compile(
    rf"(?:(?P<c1>{_ALIAS_ALT})\s*(?P<a1>{_AMOUNT})(?!\s*[%\d])"
    rf"(?:\s*(?P<c1b>{_ALIAS_ALT})(?![^\W\d_]))?)"
    rf"|(?:(?P<a2>{_AMOUNT})\s*(?P<c2>{_ALIAS_ALT})(?![^\W\d_]))"
)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in a currency (ISO 4217, or BTC/XMR/LTC/ETH/BCH for crypto)."""

    amount: float
    currency: str


@dataclass(frozen=True, slots=True)
class ParsedPrice:
    """A price string: the price, and any further amounts shown beside it."""

    price: Money
    also: tuple[Money, ...] = field(default=())

    def implied_rates(self) -> dict[tuple[str, str], float]:
        """Rates the page shows: ``{("BTC", "USD"): 1334.3}`` = USD per BTC."""
        out: dict[tuple[str, str], float] = {}
        for other in self.also:
            if other.amount > 0 and other.currency != self.price.currency:
                out[(other.currency, self.price.currency)] = self.price.amount / other.amount
        return out


def _amount(text: str) -> float | None:
    """An amount with decimal comma or point; spaces and apostrophes as thousands separators."""
    cleaned = re.sub(r"[\s']", "", text)
    if not cleaned or not cleaned[0].isdigit():
        return None
    if cleaned.count(",") == 1 and "." not in cleaned and cleaned.startswith("0"):
        cleaned = cleaned.replace(",", ".")
    return parse_number(cleaned)


def parse_price(text: str, default_currency: str | None = None) -> ParsedPrice | None:
    """Parse a price string; ``None`` when no amount with a known currency is found.

    ``default_currency`` is used for a bare number ("50.17") when the source says which
    currency its prices are in (the Agora dataset: BTC).
    """
    folded = fold(text[:MAX_PRICE_CHARS]).replace("\n", " ")
    found: list[Money] = []
    for m in _MONEY_RE.finditer(folded):
        alias = m["c1"] or m["c2"] or ""
        amount = _amount(m["a1"] or m["a2"] or "")
        if amount is None:
            continue
        found.append(Money(amount, CURRENCY_ALIASES[alias]))
    if not found and default_currency is not None:
        amount = _amount(folded)
        if amount is not None:
            found.append(Money(amount, default_currency))
    if not found:
        return None
    return ParsedPrice(found[0], tuple(found[1:]))
