"""The substance lexicon: our own data file, loaded once, matched by token n-grams.

Why token n-grams and not one big regular expression: a title is split into word tokens once
(``fold`` + ``tokenize``), and each token is one dict look-up into an index keyed by the first
token of every term. With ~2,500 terms this costs the same as with 25, which is what keeps the
normaliser above 20,000 titles per second per core. Terms are folded the same way as titles
(case-folded, accents stripped, ``µ`` -> ``u``), so "Kokaïn", "KOKAIN" and "kokain" are one key.

The data lives in ``normalise/data/lexicon.csv`` with the columns ``term, substance, form, kind,
lang`` (see ``docs/normalise.md``). ``kind`` is one of:

* ``name``    a specific name of a substance or product (strong evidence);
* ``slang``   a street name or a generic word that is sometimes something else (weak evidence);
* ``nondrug`` a word that makes a listing a non-drug good whatever else it names (guides,
  accounts, dumps, weapons);
* ``goods``   a weak non-drug word (paraphernalia) used only when no drug is named;
* ``form``    a word that only tells the form (pills, blotter, crystal, ...).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

KINDS = ("name", "slang", "nondrug", "goods", "form")

_TOKEN_RE = re.compile(r"[^\W_]+")
_FOLD_TABLE = str.maketrans(
    {"µ": "u", "μ": "u", "×": "x", "ё": "е", "ß": "ss", "ø": "o", "ł": "l", "đ": "d", "æ": "ae"}
)


def fold(text: str) -> str:
    """Lower-case, map look-alike characters and strip accents.

    Accent stripping (NFKD, combining marks dropped) is only paid for non-ASCII titles, which are
    a minority; ASCII titles take the fast path.
    """
    text = text.casefold().translate(_FOLD_TABLE)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokenize(folded: str) -> list[str]:
    """Word tokens of a folded text: runs of letters and digits (``4-MMC`` -> ``4``, ``mmc``)."""
    return _TOKEN_RE.findall(folded)


@dataclass(frozen=True, slots=True)
class Term:
    """What one lexicon term says. A term may carry a substance, a form, or a non-drug kind."""

    text: str
    substance: str | None
    form: str | None
    kind: str


@dataclass(frozen=True, slots=True)
class Match:
    """A term found in a title, with its first token index and its character span."""

    term: Term
    token_index: int
    start: int
    end: int


class Lexicon:
    """An index of terms by their first token; matching is greedy longest-first, left to right."""

    def __init__(self, terms: list[Term]) -> None:
        self.terms = terms
        index: dict[str, list[tuple[tuple[str, ...], Term]]] = {}
        for term in terms:
            toks = tuple(tokenize(fold(term.text)))
            if not toks:
                continue
            index.setdefault(toks[0], []).append((toks[1:], term))
        for entries in index.values():
            # Longest term first; among equal lengths a substance-bearing ``name`` wins.
            entries.sort(key=lambda e: (-len(e[0]), _KIND_RANK[e[1].kind]))
        self._index = index

    def __len__(self) -> int:
        return len(self.terms)

    def _entries(self, token: str) -> list[tuple[tuple[str, ...], Term]] | None:
        entries = self._index.get(token)
        if entries is None and len(token) > 3 and token[-1] == "s":
            entries = self._index.get(token[:-1])  # plural: "bars", "m30s", "oxys"
        return entries

    def match_tokens(self, spans: list[tuple[str, int, int]]) -> list[Match]:
        """All terms in a token list ``(token, start, end)``; a token is used by one term only.

        Every term sharing the longest matched length at a position is returned, so that a word
        such as "hash" yields both its substance (cannabis) and its form (resin).
        """
        out: list[Match] = []
        n = len(spans)
        i = 0
        while i < n:
            entries = self._entries(spans[i][0])
            if entries is None:
                i += 1
                continue
            best_len = -1
            for rest, term in entries:
                k = len(rest)
                if best_len >= 0 and k < best_len:
                    break
                if k and (i + k >= n or any(spans[i + 1 + j][0] != rest[j] for j in range(k))):
                    continue
                best_len = k
                out.append(Match(term, i, spans[i][1], spans[i + k][2]))
            i += best_len + 1 if best_len >= 0 else 1
        return out

    def match(self, text: str) -> list[Match]:
        """Terms found in a raw text (folded and tokenised here)."""
        return self.match_tokens(token_spans(fold(text)))


_KIND_RANK = {kind: rank for rank, kind in enumerate(KINDS)}


def token_spans(folded: str) -> list[tuple[str, int, int]]:
    """Tokens with their character spans in the folded text."""
    return [(m.group(), m.start(), m.end()) for m in _TOKEN_RE.finditer(folded)]


def _read_data(name: str) -> str:
    return resources.files("dnmwatch.normalise").joinpath("data").joinpath(name).read_text("utf-8")


def parse_lexicon_csv(text: str) -> list[Term]:
    """Parse lexicon CSV text; rows with an unknown ``kind`` are skipped, not fatal."""
    terms: list[Term] = []
    for row in csv.DictReader(io.StringIO(text)):
        kind = (row.get("kind") or "").strip()
        term = (row.get("term") or "").strip()
        if kind not in _KIND_RANK or not term:
            continue
        terms.append(
            Term(
                text=term,
                substance=(row.get("substance") or "").strip() or None,
                form=(row.get("form") or "").strip() or None,
                kind=kind,
            )
        )
    return terms


@cache
def default_lexicon() -> Lexicon:
    """The packaged lexicon, read on first use (never at import time)."""
    return Lexicon(parse_lexicon_csv(_read_data("lexicon.csv")))


@cache
def category_terms() -> dict[str, str]:
    """Market-category words -> substance, from ``data/categories.csv``."""
    rows = csv.DictReader(io.StringIO(_read_data("categories.csv")))
    return {fold(r["term"]): r["substance"] for r in rows if r.get("term") and r.get("substance")}
