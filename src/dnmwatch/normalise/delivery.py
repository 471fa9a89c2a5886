"""How a listing reaches the buyer: post, express courier, dead drop, in-person meet or digital.

Why a separate normaliser: the delivery method is what tells marketplace trade by post from the
local retail of CIS shop markets (Hydra, Matanga: the buyer pays, then gets the coordinates of a
*закладка* hidden in a district) and from channel sellers who meet or send a courier. It decides
where a seizure or a harm-reduction message can act, so it is a column of its own
(``delivery_method``, ``delivery_area``) rather than a side effect of the title parser.

Evidence, weakest last (``docs/channels.md`` has the full rules):

0. terms in the *delivery text* a source shows apart from the title
   (``listing_observations.delivery``: Matanga's city and district flags as
   ``"dead drop: Tbilisi — Saburtalo, Vake"``, a channel offer's delivery lines);
1. terms in listing *fields* about delivery (a "Shipping" cell, ships from/to);
2. terms in the free *text* (title, description, message);
3. the market's *default* (a dead-drop market such as Matanga says so once, in its settings);
4. *weak* terms (generic "shipping", "versand", "доставка"; the Russian "курьер", which on CIS
   shop markets mostly names the person who hides the drops and appears chiefly in job ads).

The terms live in ``data/delivery.csv`` (``term,method,strength,lang``), folded and tokenised as
the substance lexicon is; a term ending in ``*`` matches any token starting with it. Besides
the five methods, rows of method ``job`` (recruitment words: "работа", "вакансия", "hiring")
make the courier and dead-drop words of that text describe a job, not a delivery; ``negation``
rows ("no", "без", "kein") cancel a term one or two tokens after them; ``ignore`` rows absorb
phrases that contain a cue but mean something else ("digital scales").

When several methods are stated the *primary* one follows :data:`PRIORITY` (the most local
first: a listing offering both a dead drop and post is a dead-drop listing for the indicator
"share of local delivery"); all stated methods are kept in :attr:`Delivery.methods`.

The *area* is given only for local methods (dead drop, in-person, courier): the area the caller
passes wins; else a *listed* area of the delivery text, ``"<method>: <City> — <District>,
<District>"``, which becomes ``"<City>: <District>, <District>"`` (:func:`listed_area`); else
the first place named in the delivery text, fields or text after "район"/"district"/"in"/"в"
and a capital letter, as written ("в центре" and "im Zentrum" become ``centre``). Work is
bounded: text is cut to :data:`MAX_TEXT_CHARS`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from dnmwatch.normalise.lexicon import fold, tokenize

METHODS: tuple[str, ...] = (
    "post", "express_courier", "dead_drop", "in_person", "digital", "unknown")
"""The values of the ``delivery_method`` column."""
PRIORITY: tuple[str, ...] = ("dead_drop", "in_person", "digital", "post", "express_courier")
"""Which stated method is the primary one (first wins); express is an upgrade of post."""
LOCAL_METHODS = frozenset({"dead_drop", "in_person", "express_courier"})
"""Methods that have a delivery area."""
DELIVERY_COLUMNS: tuple[str, ...] = ("delivery_method", "delivery_area")
MAX_TEXT_CHARS = 5000
MAX_AREA_CHARS = 60
MAX_LISTED_AREA_CHARS = 200
"""A listed area names a city and its districts (up to 13 on Matanga): longer than one place."""
_CONTROL = frozenset({"job", "negation", "ignore"})
_JOB_SENSITIVE = frozenset({"dead_drop", "express_courier", "in_person"})
_NEGATION_WINDOW = 2

_AREA_WORD = r"[A-ZА-ЯЁ][\w'’-]{2,}"
_AREA_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?i:\b(?:район[еау]?|р-н[еа]?\.?|р\.|district|bezirk|stadtteil|wijk|"
               r"quartier|barrio|zona|zone|area)\s*:?\s+)"
               rf"({_AREA_WORD}(?:[ -]{_AREA_WORD})?)"),
    re.compile(rf"({_AREA_WORD})\s+(?i:district|area|bezirk|район[еау]?|р-н)\b"),
    re.compile(r"(?i:\b(?:закладк\w*|клад[ыи]?|тайники|прикопы|dead\s*drops?|drops?|"
               r"meet\s*-?\s*ups?|pick\s*-?\s*up|abholung|afhalen|встреч[аи]|самовывоз)\s*:\s*)"
               rf"({_AREA_WORD}(?:[ -]{_AREA_WORD})?)"),
    re.compile(r"(?<![\w])(?i:в|во|по|in|im|en|à|a|te|around|near|около|возле)\s+"
               r"(?i:г\.\s*|городе\s+|районе\s+|the\s+)?"
               rf"({_AREA_WORD}(?:[ -]{_AREA_WORD})?)"),
    re.compile(r"(?i:\b(?:в|во)\s+(центре)\b|\b(?:in|im)\s+(?:the\s+)?(cent(?:re|er)|zentrum|"
               r"centrum)\b)"),
)
_LISTED = re.compile(
    r"^[ \t]*[^:\n—]{1,40}:[ \t]*(?P<city>[A-ZА-ЯЁ][^:\n—]{0,58}?)[ \t]+—[ \t]+"
    r"(?P<places>[A-ZА-ЯЁ][^\n]*?)[ \t]*$", re.MULTILINE)
_CENTRE = frozenset({"центр", "центре", "центра", "centre", "center", "zentrum", "centrum",
                     "centro"})
_NOT_AREAS = frozenset({
    "stock", "store", "shop", "telegram", "bitcoin", "btc", "usd", "eur", "наличии", "наличие",
    "продаже", "подарок", "грамм", "gram", "grams", "escrow", "europe", "any", "all",
})


@dataclass(frozen=True, slots=True)
class Delivery:
    """The delivery of one listing. ``method`` is one of :data:`METHODS`."""

    method: str
    area: str | None = None
    methods: tuple[str, ...] = ()
    """Every method the evidence states, primary first."""
    source: str = "none"
    """Where the method came from: ``delivery``, ``field``, ``text``, ``default``, ``weak`` or
    ``none``."""
    job: bool = False
    """The text recruits couriers or drop-layers (its courier words were not a delivery)."""

    def as_row(self) -> dict[str, str]:
        """The contract columns as CSV strings."""
        return {"delivery_method": self.method, "delivery_area": self.area or ""}


@dataclass(frozen=True, slots=True)
class DeliveryTerm:
    """One row of ``data/delivery.csv``, tokenised."""

    text: str
    method: str
    strong: bool
    tokens: tuple[str, ...]
    prefix: bool


class DeliveryLexicon:
    """Terms indexed by first token; greedy longest match, left to right (as the substance
    lexicon), plus single-token prefix terms (``кладмен*``) tried when no exact term starts."""

    def __init__(self, terms: Iterable[DeliveryTerm]) -> None:
        self.terms = list(terms)
        index: dict[str, list[DeliveryTerm]] = {}
        prefixes: list[DeliveryTerm] = []
        for term in self.terms:
            if term.prefix:
                prefixes.append(term)
            elif term.tokens:
                index.setdefault(term.tokens[0], []).append(term)
        for entries in index.values():
            entries.sort(key=lambda t: -len(t.tokens))
        self._index = index
        self._prefixes = sorted(prefixes, key=lambda t: -len(t.tokens[0]))

    def __len__(self) -> int:
        return len(self.terms)

    def find(self, tokens: list[str]) -> list[tuple[int, DeliveryTerm]]:
        """``(token index, term)`` of every term found; a token belongs to one term only."""
        out: list[tuple[int, DeliveryTerm]] = []
        i, n = 0, len(tokens)
        while i < n:
            hit: DeliveryTerm | None = None
            for term in self._index.get(tokens[i], ()):
                k = len(term.tokens)
                if i + k <= n and tuple(tokens[i:i + k]) == term.tokens:
                    hit = term
                    break
            if hit is None:
                hit = next((t for t in self._prefixes if tokens[i].startswith(t.tokens[0])), None)
            if hit is None:
                i += 1
                continue
            out.append((i, hit))
            i += max(1, len(hit.tokens))
        return out


def parse_delivery_csv(text: str) -> list[DeliveryTerm]:
    """Rows of the delivery lexicon; rows with an unknown method or no term are skipped."""
    known = set(METHODS) | _CONTROL
    terms: list[DeliveryTerm] = []
    for row in csv.DictReader(io.StringIO(text)):
        raw = (row.get("term") or "").strip()
        method = (row.get("method") or "").strip()
        if not raw or method not in known or method == "unknown":
            continue
        prefix = raw.endswith("*")
        tokens = tuple(tokenize(fold(raw.rstrip("*"))))
        if not tokens or (prefix and len(tokens) != 1):
            continue
        terms.append(DeliveryTerm(raw, method, (row.get("strength") or "").strip() != "weak",
                                  tokens, prefix))
    return terms


@cache
def default_delivery_lexicon() -> DeliveryLexicon:
    """The packaged lexicon, read on first use (never at import time)."""
    data = resources.files("dnmwatch.normalise").joinpath("data").joinpath("delivery.csv")
    return DeliveryLexicon(parse_delivery_csv(data.read_text("utf-8")))


@dataclass(slots=True)
class _Evidence:
    strong: list[str]
    weak: list[str]
    job: bool


def _evidence(text: str, lexicon: DeliveryLexicon) -> _Evidence:
    tokens = tokenize(fold(text[:MAX_TEXT_CHARS]))
    found = lexicon.find(tokens)
    job = any(t.method == "job" for _, t in found)
    negated_until = -1
    strong: list[str] = []
    weak: list[str] = []
    for index, term in found:
        if term.method == "negation":
            negated_until = index + len(term.tokens) - 1 + _NEGATION_WINDOW
            continue
        if term.method in _CONTROL or index <= negated_until:
            continue
        if job and term.method in _JOB_SENSITIVE:
            continue
        (strong if term.strong else weak).append(term.method)
    return _Evidence(strong, weak, job)


def _ordered(methods: Iterable[str]) -> tuple[str, ...]:
    present = set(methods)
    return tuple(m for m in PRIORITY if m in present)


def _clean_area(value: str | None) -> str | None:
    if value is None:
        return None
    area = " ".join(value.split()).strip(" .,;:!?-'\"()[]")[:MAX_AREA_CHARS]
    if not area:
        return None
    key = fold(area)
    if key in _CENTRE:
        return "centre"
    if key in _NOT_AREAS or key.split()[0] in _NOT_AREAS:
        return None
    lexicon = default_delivery_lexicon()
    if lexicon.find(tokenize(key)):
        return None
    return area


def area_from_text(text: str | None) -> str | None:
    """The first place the text names as a delivery area, as written (``None`` if none)."""
    if not text:
        return None
    cut = text[:MAX_TEXT_CHARS]
    for pattern in _AREA_PATTERNS:
        for match in pattern.finditer(cut):
            groups = [g for g in match.groups() if g]
            area = _clean_area(groups[0]) if groups else None
            if area is not None:
                return area
    return None


def listed_area(text: str | None) -> str | None:
    """The area of the first line ``"<method>: <City> — <District>, <District>"`` of a delivery
    text, as ``"<City>: <District>, <District>"`` (``None`` when no line has that form).

    Why a format of its own: a dead-drop shop lists every district where an offer can be
    picked up; one place found in free text would keep only the first. Cut to
    :data:`MAX_LISTED_AREA_CHARS` at a comma, so a cut never leaves half a name.
    """
    if not text:
        return None
    found = _LISTED.search(text[:MAX_TEXT_CHARS])
    if found is None:
        return None
    city = " ".join(found.group("city").split())
    places = [" ".join(p.split()) for p in found.group("places").split(",")]
    area = f"{city}: "
    kept = [p for p in places if p]
    while kept and len(area + ", ".join(kept)) > MAX_LISTED_AREA_CHARS:
        kept.pop()
    return area + ", ".join(kept) if kept else city


def classify_delivery(text: str | None = None, *, delivery: str | None = None,
                      fields: Iterable[str | None] = (), default: str | None = None,
                      area: str | None = None,
                      lexicon: DeliveryLexicon | None = None) -> Delivery:
    """The delivery of a listing from the source's ``delivery`` text, its delivery ``fields``,
    its free ``text``, the market's ``default`` method and an ``area`` known from structured
    fields (see the module docstring).

    Never raises on any text; an unknown ``default`` is ignored.
    """
    lex = lexicon if lexicon is not None else default_delivery_lexicon()
    shown = delivery[:MAX_TEXT_CHARS] if delivery else ""
    shown_ev = _evidence(shown, lex) if shown else _Evidence([], [], False)
    field_text = "\n".join(f for f in fields if f)[:MAX_TEXT_CHARS]
    field_ev = _evidence(field_text, lex) if field_text else _Evidence([], [], False)
    text_ev = _evidence(text, lex) if text else _Evidence([], [], False)
    stated = _ordered([*shown_ev.strong, *field_ev.strong, *text_ev.strong])
    fallback = default if default in METHODS and default != "unknown" else None
    if shown_ev.strong:
        method, source = _ordered(shown_ev.strong)[0], "delivery"
    elif field_ev.strong:
        method, source = _ordered(field_ev.strong)[0], "field"
    elif text_ev.strong:
        method, source = stated[0], "text"
    elif fallback is not None:
        method, source = fallback, "default"
    elif shown_ev.weak or field_ev.weak or text_ev.weak:
        weak = _ordered([*shown_ev.weak, *field_ev.weak, *text_ev.weak])
        method, source, stated = weak[0], "weak", weak
    else:
        method, source = "unknown", "none"
    if method not in stated and method != "unknown":
        stated = (method, *stated)
    place: str | None = None
    if method in LOCAL_METHODS:
        given = " ".join(area.split())[:MAX_AREA_CHARS] if area else ""
        place = (given or listed_area(shown) or area_from_text(shown)
                 or area_from_text(field_text) or area_from_text(text))
    return Delivery(method, place, stated, source,
                    shown_ev.job or field_ev.job or text_ev.job)
