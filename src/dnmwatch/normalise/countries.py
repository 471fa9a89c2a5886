"""Ship-from / ship-to strings -> ISO 3166-1 alpha-2 codes or the region codes EU, WW, XX.

Sources of names, all exact (no fuzzy search: pycountry's fuzzy search maps "EU" to Réunion):

* our alias table ``data/countries.csv`` (abbreviations, slang, pseudo-regions: "UK", "Holland",
  "'Murica", "Torland", "Worldwide", "Digital / Service"; a few multi-country regions such as
  "Scandinavia" expand to their members);
* the localised country names of Babel's CLDR data in English, German, Dutch, French, Spanish,
  Italian, Polish, Swedish and Russian ("Deutschland", "Pays-Bas", "Нидерланды").

A string is cut at "except"/"excluding" (what follows is an exclusion list, not a destination),
split at separators (``, / ; | & +`` "and" "or" "->"), and each part is looked up whole, then
scanned for known names. Aliases of up to three letters ("no", "in", "can") count inside a longer
text only when written in capitals, so that "we can ship" is not Canada. An empty string is
``XX`` (undeclared); a string with no known name is *unknown* and counted by the caller.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from dnmwatch.normalise.lexicon import fold

REGIONS = {"EU": "European Union", "WW": "worldwide", "XX": "undeclared"}
BABEL_LOCALES = ("en", "de", "nl", "fr", "es", "it", "pl", "sv", "ru")
_SPECIAL_TERRITORIES = {"001": "WW", "150": "EU", "EU": "EU", "EZ": "EU", "ZZ": "XX"}
_EXCEPT_RE = re.compile(
    r"^\W*no\b|\b(?:other than|except|excluding|exclude|excl|but not|not to|no ship\w* to)\b"
)
_SPLIT_RE = re.compile(
    r"[,;|&+*\n()\[\]{}<>]|/|\band\b|\bor\b|\bund\b|\bet\b|\bi\b|\by\b|"
    r"-{2,}>?|->|=>|\s-\s|\bto:?|\bfrom:?|:"
)
_WORD_RE = re.compile(r"[^\W_]+(?:\.[^\W_]+)*\.?")
_MAX_CHARS = 500
_MAX_NGRAM = 4
_NOISE = frozenset(
    [
        "only",
        "shipping",
        "ship",
        "ships",
        "countries",
        "country",
        "standard",
        "prior",
        "priority",
        "on",
        "request",
        "free",
        "to",
        "from",
        "via",
    ]
)
_FUZZY_CUTOFF = 0.85


@dataclass(frozen=True, slots=True)
class Location:
    """Codes for one ship-from/to string; ``known`` is False when nothing was recognised."""

    codes: tuple[str, ...]
    known: bool

    @property
    def code(self) -> str | None:
        """One code for a single-valued column: the only code, or EU/WW when several."""
        if not self.codes:
            return None
        if len(self.codes) == 1:
            return self.codes[0]
        return "WW" if "WW" in self.codes else self.codes[0]


def _key(text: str) -> str:
    return " ".join(_WORD_RE.findall(fold(text))).strip(".")


@cache
def alias_table() -> dict[str, tuple[str, ...]]:
    """All names we know -> codes: Babel's localised names, then our aliases (which win)."""
    table: dict[str, tuple[str, ...]] = {}
    try:
        from babel import Locale
        from babel.core import UnknownLocaleError
    except ImportError:  # pragma: no cover - babel is a dependency; the table still works
        Locale = None  # type: ignore[assignment,misc]
    if Locale is not None:
        for loc in BABEL_LOCALES:
            try:
                names = Locale.parse(loc).territories
            except (UnknownLocaleError, ValueError):  # pragma: no cover
                continue
            for code, name in names.items():
                target = _SPECIAL_TERRITORIES.get(code)
                if target is None and re.fullmatch(r"[A-Z]{2}", code):
                    target = code
                if target is not None:
                    table.setdefault(_key(name), (target,))
                    table.setdefault(_key(code), (target,))
    text = resources.files("dnmwatch.normalise").joinpath("data").joinpath("countries.csv")
    for row in csv.DictReader(io.StringIO(text.read_text("utf-8"))):
        codes = tuple(row["codes"].split())
        if row["alias"].strip() and codes:
            table[_key(row["alias"]) or row["alias"].strip()] = codes
    return table


def _scan(part: str, table: dict[str, tuple[str, ...]]) -> list[str]:
    """Known names inside a longer part, longest first; short ones only in capitals."""
    words = _WORD_RE.findall(part)
    keys = [_key(w) for w in words]
    out: list[str] = []
    i = 0
    while i < len(words):
        for n in range(min(_MAX_NGRAM, len(words) - i), 0, -1):
            key = " ".join(keys[i : i + n])
            codes = table.get(key)
            if codes is None:
                continue
            if (
                n == 1
                and len(key.replace(".", "")) <= 3
                and not (
                    (words[i].isupper() and not part.isupper())
                    or all(k in _NOISE for j, k in enumerate(keys) if j != i)
                )
            ):
                continue
            out.extend(codes)
            i += n - 1
            break
        i += 1
    return out


def _lookup(key: str, table: dict[str, tuple[str, ...]]) -> tuple[str, ...] | None:
    """Exact, then without noise words ("UK only"), then a close spelling ("Wolrdwide")."""
    found = table.get(key)
    if found is not None:
        return found
    stripped = " ".join(w for w in key.split() if w not in _NOISE)
    if stripped and stripped != key and stripped in table:
        return table[stripped]
    if len(stripped) >= 5:
        close = difflib.get_close_matches(stripped, _long_keys(), n=1, cutoff=_FUZZY_CUTOFF)
        if close:
            return table[close[0]]
    return None


@cache
def _long_keys() -> list[str]:
    return [k for k in alias_table() if len(k) >= 5]


def _part_codes(part: str, table: dict[str, tuple[str, ...]]) -> list[str]:
    key = _key(part)
    if not key:
        return []
    found = _lookup(key, table)
    if found is not None:
        return list(found)
    if "-" in part:  # "UK-EU-USA-CA" (after "Pays-Bas" had its chance as a whole)
        subs = [_lookup(_key(p), table) for p in part.split("-") if _key(p)]
        if subs and all(s is not None for s in subs):
            return [c for s in subs if s is not None for c in s]
    return _scan(part, table)


def parse_location(text: str | None) -> Location:
    """Codes for a ship-from or ship-to string (see the module docstring for the rules)."""
    raw = (text or "")[:_MAX_CHARS].strip().strip("\"'")
    table = alias_table()
    whole = _key(raw)
    if not whole:
        return Location(("XX",), True) if not raw.strip("\"' ") else Location((), False)
    if whole in table:
        return Location(table[whole], True)
    folded_cut = _EXCEPT_RE.search(raw.lower())
    kept = raw[: folded_cut.start()] if folded_cut else raw
    if folded_cut and not _key(kept):
        return Location(("WW",), True)
    codes: list[str] = []
    for part in _SPLIT_RE.split(kept):
        codes.extend(_part_codes(part, table))
    unique = tuple(dict.fromkeys(codes))
    return Location(unique, bool(unique))
