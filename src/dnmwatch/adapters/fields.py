"""Field readers shared by adapters: PGP fingerprints, ratings, claimed accounts elsewhere.

Each takes the cleaned text of one element, as shown, and returns a value or ``None``; none of
them raises on odd input (the base class would turn that into a ``parser_error`` anyway, but a
missing field is not an error of the page).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from dnmwatch.adapters.html import parse_money
from dnmwatch.records import QuantityTier

_FPR = re.compile(r"(?<![0-9A-Fa-f])((?:[0-9A-Fa-f]{4}[ \u00a0]?){9}[0-9A-Fa-f]{4})(?![0-9A-Fa-f])")
_RATING = re.compile(r"(\d+(?:[.,]\d+)?)\s*(?:/|of|из)\s*(\d+)")
_CLAIM = re.compile(r"^\s*([^:]{1,80}?)\s*:\s*\d[\d,]*\s*\w*\s*$")


def fingerprint(text: str | None) -> str | None:
    """A 40-hex-digit PGP fingerprint (spaced or not) in ``text``, upper-case, without spaces."""
    found = _FPR.search(text or "")
    return re.sub(r"\s", "", found.group(1)).upper() if found else None


def rating_of(text: str | None, scale: float = 5.0) -> float | None:
    """``"4.50/5 (12 ratings)"`` -> 4.5 on a 0-``scale`` scale; ``"no rating yet"`` -> ``None``.

    A rating given on another scale ("96 of 100") is rescaled to ``scale``.
    """
    found = _RATING.search(text or "")
    if found is None:
        return None
    value, out_of = float(found.group(1).replace(",", ".")), float(found.group(2))
    if out_of <= 0:
        return None
    return value if out_of == scale else round(value * scale / out_of, 4)


def option_tier(text: str, separator: str) -> QuantityTier:
    """``"<label><separator><price>"`` (a quantity option as shown) -> a tier.

    The last ``separator`` splits label from price; without a label the price text names the
    tier, so an option is never dropped for an odd label.
    """
    label, _, shown = text.rpartition(separator)
    price, currency = parse_money(shown)
    return QuantityTier(label.strip() or shown.strip(), price, currency)


def market_names(items: Iterable[str]) -> tuple[str, ...]:
    """Names of the markets a vendor claims accounts on, from lines like ``"Bazaar: 12 sales"``.

    Lines that do not name a market ("None claimed", "—", "none") are skipped.
    """
    out: list[str] = []
    for item in items:
        found = _CLAIM.match(item)
        if found and found.group(1) not in out:
            out.append(found.group(1))
    return tuple(out)
