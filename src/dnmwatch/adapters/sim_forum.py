"""Adapter for the simulator's ``forum`` design (a drug forum's market sub-forum).

Pages: ``/`` and ``/board?page=N`` (thread index: ``index``, no records, links to threads and
pages) and ``/t/<id>-<slug>?page=N`` (a page of posts). A thread page is typed ``feedback``: a
page of posts that may or may not hold offers, so one without any is not an ``empty_page``.

Records from a thread page:

* **offers**: each price-list line (``• <title> — <price> <currency>``) in a post's body or in
  a clear-signed block is a :class:`ListingObservation` whose vendor is the **post's author**
  (pseudonymised), dated at the post (``provenance.captured_at`` = the post's time, so updated
  lists give a price history). ``listing_id`` = ``fr-`` + 16 hex of BLAKE2b over the thread id,
  the author and the title's letters and digits: the same product in the same vendor thread
  keeps its id across updates.
* **reviews**: a post opening ``Review for <title> by @<vendor>`` with a ``Rating: N/5`` line is
  a :class:`FeedbackObservation` for that vendor (the thread starter when no ``@`` is given),
  linked to the listing id the vendor's offer of that title has; the reviewer's name is dropped.
* **keys**: a post whose author prints a fingerprint, signs a block (issuer-fingerprint
  subpacket) or posts an armoured key gives a :class:`VendorObservation` with that fingerprint,
  in that order of preference (the simulator's key blocks are not real keys; on real posts the
  printed and computed values agree), so forum vendors link to market accounts by key.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from selectolax.lexbor import LexborNode

from dnmwatch.adapters.base import MarketAdapter
from dnmwatch.adapters.fields import fingerprint, rating_of
from dnmwatch.adapters.html import Document, clean, parse_money, sub_text
from dnmwatch.adapters.pgp import key_fingerprint
from dnmwatch.adapters.pgpsig import signature_fingerprint
from dnmwatch.records import (
    FeedbackObservation,
    ListingObservation,
    PageType,
    Provenance,
    Record,
    VendorObservation,
)

_BULLETS = ("•", "* ", "· ")
_SEP = " — "
_REVIEW = "review for "
_RATING = re.compile(r"^rating\s*:\s*(.{1,40})$", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+")
MAX_TITLE_CHARS = 300


def title_key(title: str) -> str:
    """Letters and digits of a title, case-folded: what identifies a product across updates."""
    return " ".join(_WORD.findall(title.casefold()))


def _lines(node: LexborNode | None) -> list[str]:
    if node is None:
        return []
    return [clean(line) for line in (node.text(deep=True) or "").split("\n") if line.strip()]


def _posted(text: str) -> datetime | None:
    try:
        return datetime.strptime(text[:16], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    except ValueError:
        return None


def _offer(line: str) -> tuple[str, float, str] | None:
    """(title, price, currency) of a price-list line, else ``None``."""
    bullet = next((b for b in _BULLETS if line.startswith(b)), None)
    if bullet is None:
        return None
    title, sep, shown = line[len(bullet):].rpartition(_SEP)
    price, currency = parse_money(shown)
    title = title.strip()
    if not sep or not title or price is None or currency is None:
        return None
    return title[:MAX_TITLE_CHARS], price, currency


class SimForumAdapter(MarketAdapter):
    name = "sim-forum"
    source_type = "forum"
    version = "1.0"
    description = "simulator engine 'forum' (market sub-forum: vendor threads, offers, reviews)"

    def classify(self, doc: Document) -> PageType:
        if doc.first("h1.thread-title") is not None and doc.first("div.posts") is not None:
            return "feedback"
        if doc.first("table.board") is not None:
            return "index"
        return "unknown"

    def listing_key(self, thread: str, vendor: str, title: str) -> str:
        raw = "\x1f".join((thread, vendor.casefold().strip(), title_key(title)))
        return "fr-" + hashlib.blake2b(raw.encode(), digest_size=8).hexdigest()

    def _thread(self, doc: Document) -> str:
        parts = doc.path_parts
        return parts[1].split("-", 1)[0] if len(parts) >= 2 and parts[0] == "t" else ""

    def parse_feedback(self, doc: Document) -> Iterator[Record]:
        thread = self._thread(doc)
        starter = doc.text(".starter b")
        keys: set[tuple[str, str]] = set()
        for post in doc.css("div.posts div.post"):
            author = sub_text(post, ".head .author")
            when = sub_text(post, ".head .date")
            body = _lines(post.css_first("div.body"))
            code = [n.text(deep=True) or "" for n in post.css("pre.code")]
            code_lines = [clean(ln) for block in code for ln in block.split("\n") if ln.strip()]
            at = _posted(when)
            prov = Provenance(source=doc.page.url, offset=None,
                              captured_at=at or doc.page.captured_at)
            if body and body[0].casefold().startswith(_REVIEW):
                yield from self._review(doc, thread, starter, body, when)
                continue
            if not author:
                continue
            vendor = self.vendor_id(author)
            for line in (*body, *code_lines):
                offer = _offer(line)
                if offer is not None:
                    title, price, currency = offer
                    yield ListingObservation(
                        market=self.market, listing_id=self.listing_key(thread, author, title),
                        title=title, vendor_id=vendor, price=price, currency=currency,
                        provenance=prov)
            fpr = self._fingerprint(body, code)
            if fpr is not None and vendor is not None and (vendor, fpr) not in keys:
                keys.add((vendor, fpr))
                yield VendorObservation(market=self.market, vendor_id=vendor,
                                        pgp_fingerprint=fpr, provenance=prov)

    def _fingerprint(self, body: list[str], code: list[str]) -> str | None:
        printed = next((fingerprint(ln) for ln in body if "fingerprint" in ln.casefold()
                        and fingerprint(ln)), None)
        if printed:
            return printed
        for block in code:
            found = signature_fingerprint(block) or key_fingerprint(block)
            if found:
                return found
        return None

    def _review(self, doc: Document, thread: str, starter: str, body: list[str],
                when: str) -> Iterator[Record]:
        title, by, handle = body[0][len(_REVIEW):].rpartition(" by @")
        if not by:
            title, handle = body[0][len(_REVIEW):], ""
        vendor = handle.strip() or starter
        rating, rest = None, body[1:]
        for i, line in enumerate(body[1:], 1):
            found = _RATING.match(line)
            if found:
                rating, rest = rating_of(found.group(1)), body[i + 1:]
                break
        if rating is None or not vendor:
            yield self.reject("missing_field", "review without a rating or a vendor")
            return
        record = FeedbackObservation(
            market=self.market, listing_id=self.listing_key(thread, vendor, title.strip()),
            vendor_id=self.vendor_id(vendor), rating=rating, text=" ".join(rest),
            posted=when, captured_at=doc.page.captured_at)
        yield record

    def extract_links(self, doc: Document, page_type: PageType) -> Iterable[str]:
        if page_type == "index":
            yield from doc.hrefs("table.board a.thread-link")
        yield from doc.hrefs("div.pages a")
