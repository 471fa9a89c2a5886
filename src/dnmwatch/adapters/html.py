"""Decoding hostile bytes and reading them with selectolax (lexbor), for every adapter.

Why here and not in each market module: market pages arrive as bytes in whatever encoding the
market (or an archive) used, sometimes mixed, truncated or with garbage spliced in; decoding is
done once, the same way, and never raises. selectolax is the fastest HTML parser measured for
this job (FIELD-NOTES: about 330 pages/s on a 53 KB index page against 20-38 for BeautifulSoup).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from dnmwatch.records import Page

_CHARSET = re.compile(rb"""charset\s*=\s*["']?\s*([A-Za-z0-9._:-]{1,40})""", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_AMOUNT = re.compile(r"\d+(?:[.,']\d+|[ \u00a0\u202f]\d{3}(?!\d))*")
_CODE_AFTER = re.compile(r"\s?([A-Z]{3})\b")
_CODE_BEFORE = re.compile(r"\b([A-Z]{3})\s?$")
SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "₿": "BTC", "฿": "BTC", "Ƀ": "BTC", "₽": "RUB",
           "ɱ": "XMR"}
"""Currency symbols as markets print them; a three-letter code next to the amount wins."""


_TAG = re.compile(rb"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")
_NO_DEPTH = frozenset(
    b"area base br col embed hr img input link meta param source track wbr p li option td tr "
    b"th dt dd".split()
)


def nesting_depth(body: bytes, limit: int) -> int:
    """How deep the page's elements nest, counted up to just past ``limit``.

    lexbor's tree builder is quadratic in nesting depth (100,000 nested ``<div>`` take over a
    minute), so a hostile page must be refused *before* it is parsed. A page with no more tags
    than ``limit`` cannot nest deeper than that, which keeps ordinary pages off the slow path.
    """
    if body.count(b"<") <= limit:
        return 0
    depth = 0
    for match in _TAG.finditer(body):
        if match.group(1):
            depth = max(0, depth - 1)
        elif not match.group(3) and match.group(2).lower() not in _NO_DEPTH:
            depth += 1
            if depth > limit:
                return depth
    return depth


def _codec(name: bytes | str) -> str | None:
    label = name.decode("ascii", "replace") if isinstance(name, bytes) else name
    try:
        return codecs.lookup(label.strip().lower()).name
    except LookupError:
        return None


def declared_charset(body: bytes, content_type: str = "") -> str | None:
    """The charset named by the Content-Type header, else by a ``<meta>`` in the first 4 KB."""
    for source in (content_type.encode("ascii", "replace"), body[:4096]):
        found = _CHARSET.search(source)
        if found:
            codec = _codec(found.group(1))
            if codec is not None:
                return codec
    return None


def decode_body(body: bytes, content_type: str = "") -> str:
    """Text of a page, never raising.

    UTF-8 first (most markets and every archive we know of); then the declared charset; then
    Windows-1252, the usual culprit of mis-encoded dumps, with undecodable bytes replaced.
    """
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    declared = declared_charset(body, content_type)
    if declared is not None and declared not in ("utf-8", "utf_8"):
        try:
            return body.decode(declared)
        except (UnicodeDecodeError, LookupError):
            pass
    if declared in ("utf-8", "utf_8"):
        return body.decode("utf-8", "replace")
    return body.decode("cp1252", "replace")


def clean(text: str | None) -> str:
    """White space collapsed and stripped (the text *as shown*, not as indented in the HTML)."""
    return _SPACE.sub(" ", text or "").strip()


def node_text(node: LexborNode | None) -> str:
    return clean(node.text(deep=True)) if node is not None else ""


def sub_text(node: LexborNode, selector: str) -> str:
    """Cleaned text of the first match of ``selector`` under ``node`` ("" when absent)."""
    return node_text(node.css_first(selector))


def href_of(node: LexborNode | None) -> str | None:
    """The ``href`` of a link node, ``None`` when the node is missing (or has none)."""
    return node.attributes.get("href") if node is not None else None


def path_id(href: str | None, prefix: str) -> str | None:
    """``/<prefix>/<id>`` or ``/<prefix>/<id>/...`` -> ``<id>`` (unquoted), else ``None``.

    Simulator markets key their pages by an id in the path; the same reading serves every
    design whose links have that shape, whatever the first segment is called.
    """
    parts = [unquote(p) for p in urlsplit(href or "").path.split("/") if p]
    return parts[1] if len(parts) >= 2 and parts[0] == prefix else None


def parse_amount(text: str | None) -> float | None:
    """The first number in ``text``, reading ``1,234.50``, ``1.234,50``, ``1 234,5`` and ``0.0037``.

    The separator that comes last is the decimal one when it is followed by one, two or more
    than three digits; a lone separator followed by exactly three digits is a thousands one.
    """
    found = _AMOUNT.search(text or "")
    if found is None:
        return None
    raw = re.sub(r"[' \u00a0\u202f]", "", found.group(0))
    last = max(raw.rfind("."), raw.rfind(","))
    if last >= 0:
        decimals = raw[last + 1:]
        sep = raw[last]
        one_kind = {c for c in raw if c in ".,"} == {sep}
        repeated = raw.count(sep) > 1
        comma_thousands = sep == "," and len(decimals) == 3
        if one_kind and (repeated or comma_thousands):
            raw = raw.replace(raw[last], "")
        else:
            raw = raw[:last].replace(".", "").replace(",", "") + "." + decimals
    try:
        return float(raw)
    except ValueError:
        return None


def parse_money(text: str | None) -> tuple[float | None, str | None]:
    """The first amount in ``text`` and the currency written next to it, as shown.

    ``"USD 1,234.50 (0.01 BTC)"`` -> ``(1234.5, "USD")``; ``"$12.50 USD"`` -> ``(12.5, "USD")``;
    ``"0.00376100 BTC"`` -> ``(0.003761, "BTC")``; a bare number has currency ``None``.
    """
    text = text or ""
    found = _AMOUNT.search(text)
    if found is None:
        return None, None
    before, after = text[:found.start()], text[found.end():]
    code = _CODE_AFTER.match(after) or _CODE_BEFORE.search(before)
    currency = code.group(1) if code else None
    if currency is None:
        near = (before.rstrip()[-1:] + after.lstrip()[:1])
        currency = next((SYMBOLS[c] for c in near if c in SYMBOLS), None)
    return parse_amount(found.group(0)), currency


def parse_int(text: str | None) -> int | None:
    """The first whole number in ``text`` (thousands separators allowed), else ``None``."""
    found = re.search(r"\d[\d,' \u00a0]*", text or "")
    if found is None:
        return None
    digits = re.sub(r"\D", "", found.group(0))
    return int(digits) if digits and len(digits) < 19 else None


@dataclass(slots=True)
class Document:
    """A parsed page: its URL parts, its query parameters and its DOM."""

    page: Page
    tree: LexborHTMLParser
    url: SplitResult
    query: dict[str, str]

    @classmethod
    def of(cls, page: Page) -> Document:
        text = decode_body(page.body, page.content_type)
        url = urlsplit(page.url)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        return cls(page, LexborHTMLParser(text), url, query)

    @property
    def path_parts(self) -> list[str]:
        """The URL path split on ``/``, empty parts dropped, percent-escapes decoded."""
        return [unquote(p) for p in self.url.path.split("/") if p]

    def css(self, selector: str) -> list[LexborNode]:
        return self.tree.css(selector)

    def first(self, selector: str) -> LexborNode | None:
        return self.tree.css_first(selector)

    def text(self, selector: str) -> str:
        """Cleaned text of the first match of ``selector`` ("" when absent)."""
        return node_text(self.first(selector))

    def all_text(self) -> str:
        body = self.tree.body
        return clean(body.text(deep=True, separator=" ")) if body is not None else ""

    def hrefs(self, selector: str = "a") -> Iterator[str]:
        for node in self.css(selector):
            href = node.attributes.get("href")
            if href:
                yield href
