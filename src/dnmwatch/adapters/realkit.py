"""Small readers shared by the real-market adapters (Empire, Cryptonia, Dream, Apollon, Cypher,
White House Market).

Real market templates differ in markup but repeat a few conventions: a "Label: value" pair in
sibling elements, "from → to" shipping routes, a percentage of positive feedback standing for a
rating, positive/neutral/negative feedback instead of stars, a count in brackets after a name.
Reading them in one place keeps each market module about its own markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qs, urlsplit

from selectolax.lexbor import LexborNode

from dnmwatch.adapters.fields import rating_of
from dnmwatch.adapters.html import clean

POLARITY: dict[str, float] = {"positive": 5.0, "neutral": 3.0, "negative": 1.0}
"""Feedback that is only positive/neutral/negative, put on the 0-5 scale of star ratings
(documented in docs/adapters.md: 5, 3 and 1, the star values markets map them from)."""
_PERCENT = re.compile(r"(\d+(?:[.,]\d+)?)\s*%")
_TRAILING_BRACKET = re.compile(r"\s*\([^()]*\)\s*$")
_ARROWS = ("→", "->", "=>")


def polarity_rating(text: str | None) -> float | None:
    """``"Positive Feedback"`` -> 5.0, ``"neutral"`` -> 3.0, ``"Negative"`` -> 1.0."""
    low = (text or "").casefold()
    return next((v for k, v in POLARITY.items() if k in low), None)


def percent_rating(text: str | None) -> float | None:
    """``"96.87%"`` (share of positive feedback) -> 4.8435 on the 0-5 scale."""
    found = _PERCENT.search(text or "")
    if found is None:
        return None
    return rating_of(found.group(1).replace(",", ".") + "/100")


def strip_bracket(text: str | None) -> str:
    """``"Fraud Related (8419)"`` -> ``"Fraud Related"``; ``"name (100%)"`` -> ``"name"``."""
    return _TRAILING_BRACKET.sub("", clean(text))


def split_route(text: str | None) -> tuple[str | None, str | None]:
    """``"United States → Worldwide"`` -> ``("United States", "Worldwide")`` (as shown)."""
    shown = clean(text)
    for arrow in _ARROWS:
        if arrow in shown:
            src, _, dst = shown.partition(arrow)
            return clean(src) or None, clean(dst) or None
    return shown or None, None


def raw_text(node: LexborNode | None) -> str:
    """Text with its line breaks (armoured keys in ``<pre>``/``<textarea>`` need them)."""
    return node.text(deep=True) if node is not None else ""


def after_label(node: LexborNode, label: str) -> str:
    """Text of ``node`` after ``label`` ("Sales : 137" -> "137"), "" when the label is absent."""
    text = clean(node.text(deep=True, separator=" "))
    at = text.casefold().find(label.casefold())
    if at < 0:
        return ""
    return text[at + len(label):].lstrip(" :").strip()


def labelled(nodes: Iterable[LexborNode], label_selector: str) -> dict[str, LexborNode]:
    """Containers keyed by the case-folded text of their label child, colon dropped."""
    out: dict[str, LexborNode] = {}
    for node in nodes:
        label = node.css_first(label_selector)
        if label is not None:
            key = clean(label.text(deep=True)).rstrip(": ").casefold()
            out.setdefault(key, node)
    return out


def query_value(href: str | None, name: str) -> str | None:
    """The value of query parameter ``name`` in ``href`` (``None`` when absent or blank)."""
    try:
        values = parse_qs(urlsplit(href or "").query).get(name)
    except ValueError:
        return None
    return values[0] if values and values[0] else None


def path_after(href: str | None, marker: str) -> str | None:
    """The path segment right after ``marker`` (``/product/<id>/..`` -> ``<id>``)."""
    try:
        parts = [p for p in urlsplit(href or "").path.split("/") if p]
    except ValueError:
        return None
    low = [p.casefold() for p in parts]
    if marker.casefold() in low:
        at = low.index(marker.casefold())
        if at + 1 < len(parts):
            return parts[at + 1]
    return None
