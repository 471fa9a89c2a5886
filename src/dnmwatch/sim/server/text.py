"""Small text helpers shared by the engines: escaping, relative dates, PGP armour, money.

Relative dates are what markets show ("3 days ago"); the crawler has to anchor them on its
capture time, so the simulator renders them from the simulated clock exactly as a market would,
in English or (for the minimal engine) in Russian with its three plural forms.
"""

from __future__ import annotations

import base64
import hashlib
import html
from datetime import datetime


def e(value: object) -> str:
    """Escape any value for HTML text and attribute context (quotes included)."""
    return html.escape(str(value), quote=True)


def _en(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'} ago"


def _ru_plural(n: int, one: str, few: str, many: str) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def _ru(n: int, forms: tuple[str, str, str]) -> str:
    return f"{n} {_ru_plural(n, *forms)} назад"


_RU_FORMS = {
    "minute": ("минуту", "минуты", "минут"),
    "hour": ("час", "часа", "часов"),
    "day": ("день", "дня", "дней"),
    "week": ("неделю", "недели", "недель"),
    "month": ("месяц", "месяца", "месяцев"),
    "year": ("год", "года", "лет"),
}


def relative(posted: datetime, now: datetime, lang: str = "en") -> str:
    """How long before ``now`` something was posted, as markets phrase it.

    Buckets: under a minute "just now"; minutes; hours; 1 day "yesterday"; 2-13 days; 2-4 weeks;
    months (30 days); years (365 days). The loss of precision is deliberate: it is what a crawler
    gets from a real market.
    """
    seconds = max(int((now - posted).total_seconds()), 0)
    days = seconds // 86400
    if seconds < 60:
        return "только что" if lang == "ru" else "just now"
    if seconds < 3600:
        unit, n = "minute", seconds // 60
    elif days < 1:
        unit, n = "hour", seconds // 3600
    elif days == 1:
        return "вчера" if lang == "ru" else "yesterday"
    elif days < 14:
        unit, n = "day", days
    elif days < 30:
        unit, n = "week", days // 7
    elif days < 365:
        unit, n = "month", days // 30
    else:
        unit, n = "year", days // 365
    return _ru(n, _RU_FORMS[unit]) if lang == "ru" else _en(n, unit)


def _crc24(data: bytes) -> int:
    """The OpenPGP ASCII-armour checksum (RFC 4880, section 6.1)."""
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def pgp_block(fingerprint: str) -> str:
    """A deterministic ASCII-armoured public key block for a fingerprint.

    The body is pseudo-random bytes seeded by the fingerprint (a key packet whose SHA-1 matched the
    fingerprint cannot be forged), framed like a real armoured key with a valid CRC-24 line, so the
    same vendor shows the same block on every market it sells on.
    """
    seed = fingerprint.upper().encode()
    body = b"\x99\x01\x0d\x04" + b"".join(
        hashlib.sha512(seed + bytes([i])).digest() for i in range(5))
    b64 = base64.b64encode(body).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    crc = base64.b64encode(_crc24(body).to_bytes(3, "big")).decode()
    return "\n".join(["-----BEGIN PGP PUBLIC KEY BLOCK-----", "", *lines, f"={crc}",
                      "-----END PGP PUBLIC KEY BLOCK-----"])


def spaced_fingerprint(fingerprint: str) -> str:
    fpr = fingerprint.upper()
    return " ".join(fpr[i:i + 4] for i in range(0, len(fpr), 4))


def money(amount: float, currency: str) -> str:
    """``USD 50.17``, ``EUR 9.90`` or ``0.00376100 BTC``: the plain form the table engine uses."""
    if currency == "BTC":
        return f"{amount:.8f} BTC"
    return f"{currency} {amount:,.2f}"


def masked(buyer: str) -> str:
    """Buyers are shown masked ("a***e"); re-mask defensively in case a name slipped through."""
    if "*" in buyer or len(buyer) < 3:
        return buyer
    return f"{buyer[0]}***{buyer[-1]}"


def stars(rating: float | None) -> str:
    if rating is None:
        return "no rating yet"
    return f"{rating:.2f}/5"
