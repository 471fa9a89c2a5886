"""Remove contact details from free text (feedback, descriptions) before it is stored.

Why: buyers and vendors write e-mail addresses, phone numbers, messenger ids, postal addresses,
links and wallet addresses into feedback and listing descriptions. None of it is needed to
measure a market, all of it can identify a person, so it never reaches the store. Listing titles
also name buyers ("reserved for jay", "Custom Listing for b***r"): the nick is removed too
(kind ``buyer``). Each match is replaced by a typed placeholder (``[email]``, ``[phone]``...)
so that a reader still sees that something was there, and the counts by kind are returned
for the stage's counters.

How: one ordered list of regular expressions. The order matters: links and addresses that
contain other patterns go first (an XMPP id before an e-mail address, ``t.me`` links before
web links, e-mail addresses before bare domains and ``@handles``). Every pattern is linear
(no nested quantifiers), so hostile input cannot make scrubbing slow. Patterns err towards
removing: a false positive loses a few words of a review, a false negative may expose a person.
They are tuned not to touch drug titles and prices ("2C-B 20mg", "MDMA 84%", "€1.234,50",
"0.0376 BTC", "28g", "100x 5mg"): see ``tests/test_privacy_scrub.py``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

KINDS = (
    "onion",
    "xmpp",
    "telegram",
    "signal",
    "session",
    "wickr",
    "email",
    "url",
    "btc",
    "xmr",
    "eth",
    "phone",
    "address",
    "buyer",
)
"""Every placeholder kind, in the order the patterns run."""
CONTACT_KINDS = frozenset(KINDS) - {"address"}
"""What listing *titles* are scrubbed of: contact details and the buyer's nick of a "reserved
for <buyer>" listing only. Titles feed normalisation, and
the postal-address patterns read drug titles as addresses: "U-47700 Powder" looks like a
post code and a city, "1000mg x 1 Goes Very Long Way" like a house number and a street. On
the real Agora and AlphaBay titles the other kinds change no quantity, dose or substance
except where the contact detail itself carried the number (a phone number read as a count);
see ``tests/test_safeguards_extract.py``."""

_B58 = "1-9A-HJ-NP-Za-km-z"
_TLDS = (
    "com|net|org|info|biz|io|me|co|cc|to|tv|ru|su|de|nl|be|fr|es|it|pt|pl|cz|at|ch|se|no|dk|"
    "fi|uk|ie|eu|us|ca|au|nz|xyz|app|dev|site|online|shop|store|top|link|click|li|is|im|ws|"
    "onion|gg|ly|sh|pw|cx|in"
)
_XMPP_HOSTS = (
    r"(?:jabber|xmpp|jabb3r)\.[a-z0-9.-]+|[a-z0-9-]+\.im|exploit\.im|dismail\.de|"
    r"jabber\.ccc\.de|xmpp\.jp|404\.city|yax\.im|thesecure\.biz|draugr\.de|jabber\.calyxinstitute\.org"
)
_REST = r"[^\s<>\"']{0,2000}"
"""The rest of a link, bounded so that a hostile megabyte-long token cannot make it slow."""
_UNIT_AFTER = r"(?!\s*(?:mg|µg|ug|mcg|g|gr|gram|grams|kg|ml|iu|%|x|pcs|pills?|tabs?)\b)"


_DATE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")


def _phone_ok(match: re.Match[str]) -> bool:
    """8 to 15 digits (ITU E.164), and not a date such as 05.01.2026."""
    text = match.group(match.lastindex or 0)
    digits = sum(ch.isdigit() for ch in text)
    return 8 <= digits <= 15 and not _DATE.fullmatch(text.strip())


def _address_city_ok(match: re.Match[str]) -> bool:
    city = match.group("city").casefold()
    return city not in _NOT_CITIES


_NOT_CITIES = frozenset(
    [
        "pills",
        "pill",
        "tabs",
        "tab",
        "tablets",
        "units",
        "unit",
        "blotters",
        "blotter",
        "caps",
        "capsules",
        "grams",
        "gram",
        "mg",
        "ug",
        "mcg",
        "ml",
        "pcs",
        "pieces",
        "pack",
        "packs",
        "bars",
        "bar",
        "strips",
        "strip",
        "stück",
        "stueck",
        "stk",
        "x",
        "xtc",
        "mdma",
        "lsd",
        "xanax",
        "alprazolam",
        "oxycodone",
        "oxy",
        "valium",
        "diazepam",
        "adderall",
        "cocaine",
        "coke",
        "heroin",
        "meth",
        "ketamine",
        "cannabis",
        "weed",
        "hash",
        "dmt",
        "mushrooms",
        "shrooms",
        "fentanyl",
        "tramadol",
        "codeine",
        "hydrocodone",
        "sold",
        "sales",
        "orders",
        "reviews",
        "feedback",
        "bitcoin",
        "btc",
        "xmr",
        "monero",
        "eur",
        "usd",
        "gbp",
        "euro",
        "euros",
        "dollars",
        "mg/ml",
    ]
)


_NOT_NICKS = frozenset(["for", "für", "voor", "pour", "para", "per", "для", "only", "nur", "-",
                        "the", "a", "my", "me", "you", "listing", "order", "customer",
                        "customers", "buyer", "buyers", "members", "vip"])
"""Words after "reserved"/"custom listing" that are not a buyer's nick."""


@dataclass(frozen=True, slots=True)
class _Pattern:
    kind: str
    regex: re.Pattern[str]
    group: int | str = 0
    """Which group is replaced (0: the whole match; a keyword before it is kept)."""
    accept: Callable[[re.Match[str]], bool] | None = None


def _p(
    kind: str,
    pattern: str,
    *,
    group: int | str = 0,
    flags: int = re.IGNORECASE,
    accept: Callable[[re.Match[str]], bool] | None = None,
) -> _Pattern:
    return _Pattern(kind, re.compile(pattern, flags), group, accept)


_NAME = r"([^\s,;()\[\]]{2,32})"
"""A buyer's nick after "reserved for": one token, never a placeholder such as ``[email]``."""
_RESERVED_FOR = (
    r"\b(?:reserved|reserviert|gereserveerd|réservée?|reservad[oa]|riservat[oa]|резерв\w*)"
    r"(?:\s*[-:–])?\s+(?:(?:for|für|voor|pour|para|per|для)\s+)?" + _NAME
)
_LISTING_FOR = (
    r"\b(?:(?:(?:custom|private|personal)\s+(?:listing|order)|nur|only)"
    r"\s+(?:for|für|voor|pour|para|per|для)|escrow\s+refund(?:\s+for)?)\s+" + _NAME
)
_QUANTITY = re.compile(r"\d+(?:[.,]\d+)?[a-zµ%]{0,5}", re.IGNORECASE)


def _nick_ok(match: re.Match[str]) -> bool:
    """A nick has a letter and is neither a quantity ("10g") nor a common word."""
    nick = match.group(1)
    return (any(ch.isalpha() for ch in nick) and not _QUANTITY.fullmatch(nick)
            and nick.casefold() not in _NOT_NICKS)

_STREET_EN = r"(?:street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|way|court|ct|place|pl|terrace|close|crescent|square|sq)"  # noqa: E501
_STREET_DE_NL = r"(?:stra(?:ß|ss)e|str\.|weg|gasse|allee|platz|ring|damm|ufer|straat|laan|gracht|plein|kade|singel|dijk|steeg)"  # noqa: E501

PATTERNS: tuple[_Pattern, ...] = (
    _p(
        "onion",
        r"\b(?:https?://)?(?:[a-z0-9-]{1,63}\.){0,8}(?:[a-z2-7]{56}|[a-z2-7]{16})\.onion\b" + _REST,
    ),
    _p("xmpp", r"\bxmpp:[^\s<>\"']{1,2000}"),
    _p("xmpp", rf"\b[a-z0-9._%+-]{{1,64}}@(?:{_XMPP_HOSTS})\b"),
    _p(
        "xmpp",
        r"\b(?:jabber|xmpp|jid)\b\s*(?:id)?\s*[:=\-]?\s*([a-z0-9._%+-]{1,64}@[a-z0-9.-]+\.[a-z]{2,})",
        group=1,
    ),
    _p("telegram", r"\b(?:https?://)?(?:t\.me|telegram\.me|telegram\.dog)/[a-z0-9_+/-]+"),
    _p("signal", r"\b(?:https?://)?signal\.(?:me|group)/" + _REST),
    _p(
        "signal",
        r"\bsignal\b\s*(?:id|username|user|me)?\s*[:=\-]?\s*([a-z][a-z0-9_]{2,31}\.\d{2,10})\b",
        group=1,
    ),
    _p("session", r"\b05[0-9a-f]{64}\b"),
    _p("session", r"\bsession\b\s*(?:id)?\s*[:=\-]\s*([a-z0-9]{3,66})\b", group=1),
    _p("wickr", r"\bwickr\b\s*(?:me)?\s*(?:id)?\s*[:=\-]?\s*([a-z0-9_.-]{3,32})\b", group=1),
    _p("telegram", r"\b(?:telegram|tg)\b\s*[:=\-]?\s*(@?[a-z][a-z0-9_]{4,31})\b", group=1),
    _p("email", r"\b[a-z0-9._%+-]{1,64}@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,24}\b"),
    _p(
        "email",
        r"\b[a-z0-9._%+-]{1,64}\s*[\[(]\s*at\s*[\])]\s*[a-z0-9-]+\s*[\[(]\s*dot\s*[\])]\s*[a-z]{2,24}\b",
    ),
    _p("url", r"\b(?:https?|ftp)://" + _REST),
    _p("url", r"\bwww(?:\.[a-z0-9-]{1,63}){1,8}" + _REST),
    _p(
        "url",
        rf"\b[a-z][a-z0-9-]{{1,62}}(?:\.[a-z0-9-]{{1,63}}){{0,8}}\.(?:{_TLDS})\b(?!\.\d)(?:/{_REST})?",
    ),
    _p("telegram", r"(?<![\w@.])@([a-z][a-z0-9_]{4,31})\b"),
    _p("btc", r"\b(?:bc1|tb1)[ac-hj-np-z02-9]{11,71}\b"),
    _p(
        "btc",
        rf"\b[13][{_B58}]{{25,34}}\b",
        flags=0,
        accept=lambda m: any(c.isdigit() for c in m.group(0)[1:]),
    ),
    _p("xmr", rf"\b[48][0-9AB][{_B58}]{{93}}(?:[{_B58}]{{11}})?\b", flags=0),
    _p("eth", r"\b0x[0-9a-f]{40}\b"),
    _p(
        "phone",
        r"(?<![\w.,/])(?:\+|00)[1-9]\d{0,3}[\s.\-]?(?:\(\d{1,4}\)[\s.\-]?)?\d{1,10}(?:[\s.\-]\d{1,10}){0,4}"
        + _UNIT_AFTER
        + r"(?![\w.,]?\d)",
        accept=_phone_ok,
    ),
    _p(
        "phone",
        r"(?<![\w.,/])\(?0\d{1,4}\)?[\s.\-/]\d{2,8}(?:[\s.\-]\d{2,8}){0,3}"
        + _UNIT_AFTER
        + r"(?![\w.,]?\d)",
        accept=_phone_ok,
    ),
    _p(
        "phone", r"(?<![\w.,/])\(?\d{3}\)?[\s.\-]\d{3}[\s.\-]\d{4}" + _UNIT_AFTER + r"(?![\w.,]?\d)"
    ),
    _p(
        "phone",
        r"\b(?:phone|tel|mobile|cell|whatsapp|call|text|sms)\b\s*[:=\-]?\s*(\+?\d[\d\s.\-]{6,18}\d)",
        group=1,
        accept=_phone_ok,
    ),
    _p("address", r"\bp\.?\s?o\.?\s*box\s+\d{1,6}\b"),
    _p(
        "address",
        rf"\b\d{{1,5}}[a-zA-Z]?\s+(?:[A-Z][a-z]+\s+){{1,3}}(?i:{_STREET_EN})\b\.?",
        flags=0,
    ),
    _p("address", rf"\b[A-ZÄÖÜ][a-zäöüßé-]+{_STREET_DE_NL}\s*\d{{1,4}}\s?[a-z]?\b", flags=0),
    _p(
        "address",
        r"\b[A-ZÄÖÜ][a-zäöüß]+(?:e[rns]?)?\s+(?:Straße|Strasse|Str\.|Weg|Allee|Platz|Gasse)\s*\d{1,4}\s?[a-z]?\b",
        flags=0,
    ),
    _p(
        "address",
        r"\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.|boulevard|bd|chemin|allée|impasse|quai)\s+(?:d[eu']\s*|de la\s+|des\s+)?[A-Za-zÀ-ÿ'-]{2,30}(?:\s+[A-Za-zÀ-ÿ'-]{2,30}){0,2}",  # noqa: E501
    ),
    _p(
        "address",
        r"\b(?i:calle|avenida|plaza|paseo|via|viale|piazza|corso|rua)\s+(?:d[eiao]l?\s+)?[A-ZÀ-ÿ][a-zà-ÿ'-]+(?:\s+[A-ZÀ-ÿ][a-zà-ÿ'-]+){0,2},?\s*\d{1,4}\b",
        flags=0,
    ),
    _p("address", r"\b[A-Z]{1,2}\d[A-Z\d]?\s+\d[A-Z]{2}\b", flags=0),
    _p(
        "address",
        r"\b\d{4}\s?(?!MG|UG|ML|IU|KG|GR|LB|OZ|PC|MM|CM)[A-Z]{2}\s+(?P<city>[A-Z][a-z]{2,})\b",
        flags=0,
        accept=_address_city_ok,
    ),
    _p(
        "address",
        r"(?<![\d.,])\b\d{5}\s+(?P<city>[A-ZÄÖÜÉ][a-zäöüßéèàç]{2,}(?:[\s-][A-ZÄÖÜ][a-zäöüß]+)?)\b"
        + r"(?!\s*(?:mg|ug|g|x|%))",
        flags=0,
        accept=_address_city_ok,
    ),
    _p(
        "address",
        r"\b(?:AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY)\s+\d{5}(?:-\d{4})?\b",
        flags=0,
    ),
    _p("buyer", _RESERVED_FOR, group=1, accept=_nick_ok),
    _p("buyer", _LISTING_FOR, group=1, accept=_nick_ok),
)


@dataclass(frozen=True, slots=True)
class Scrubbed:
    """Scrubbed text and how many items of each kind were replaced."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _replace(pattern: _Pattern, counts: Counter[str]) -> Callable[[re.Match[str]], str]:
    placeholder = f"[{pattern.kind}]"

    def sub(match: re.Match[str]) -> str:
        if pattern.accept is not None and not pattern.accept(match):
            return match.group(0)
        counts[pattern.kind] += 1
        if pattern.group == 0:
            return placeholder
        whole = match.group(0)
        start, end = match.span(pattern.group)
        offset = match.start(0)
        return whole[: start - offset] + placeholder + whole[end - offset :]

    return sub


def scrub(text: str, *, kinds: Collection[str] | None = None) -> Scrubbed:
    """Replace contact details in ``text`` by ``[kind]`` placeholders; count them by kind.

    ``kinds`` limits which kinds are looked for (default: all of :data:`KINDS`).
    Idempotent: scrubbing scrubbed text changes nothing and counts nothing.
    """
    counts: Counter[str] = Counter()
    for pattern in PATTERNS:
        if kinds is None or pattern.kind in kinds:
            text = pattern.regex.sub(_replace(pattern, counts), text)
    return Scrubbed(text, dict(counts))


def scrub_title(text: str) -> Scrubbed:
    """:func:`scrub` limited to :data:`CONTACT_KINDS` (why: see there)."""
    return scrub(text, kinds=CONTACT_KINDS)


def scrub_optional(text: str | None) -> Scrubbed:
    """:func:`scrub` for nullable columns (None stays an empty, count-free result)."""
    return Scrubbed("") if text is None else scrub(text)
