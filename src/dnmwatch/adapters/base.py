"""The adapter contract: one small class per market, a pure function of a page.

In the style of cc-pyspark's ``process_record`` and scrapy's spiders: a market module declares
its name, version and hosts and overrides a few hooks (:meth:`MarketAdapter.classify`, the
``parse_*`` methods, :meth:`MarketAdapter.extract_links`); this base class owns everything that
must be the same for every market:

* **routing** from the page type to the ``parse_*`` method;
* **safety**: any exception inside a market's code becomes a counted
  ``Rejection(reason="parser_error")`` (its type and line, never its message, which may quote
  page content); nothing escapes :meth:`parse`, :meth:`page_type` or :meth:`links`;
* **bounds**: body size, records per page, characters per field, links per page;
* **privacy**: a market turns handles into ids only through :meth:`vendor_id` (a keyed
  pseudonym) and any record whose ``vendor_id`` is not a pseudonym is rejected, so a clear
  handle cannot leave the adapter by mistake; buyer names have no field to go to;
* **counters** by page type, record kind and rejection reason (a redesign shows up as a jump in
  ``rejected:unknown_page`` rather than as a crash);
* **provenance** on every record (the page's URL and capture time unless a source set more).

No network, clock or database here or in any adapter: re-running an adapter on a stored page
always gives the same records. An instance is meant for one thread (the HTML parser is not
thread-safe); make one per worker.
"""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import ClassVar
from urllib.parse import urldefrag, urljoin, urlsplit

from dnmwatch.adapters.gates import detect_gate
from dnmwatch.adapters.html import Document, nesting_depth
from dnmwatch.pseudonym import PSEUDONYM, Pseudonymizer
from dnmwatch.records import (
    Counters,
    ListingObservation,
    Page,
    PageType,
    Provenance,
    Record,
    Rejection,
)

CONTENT_TYPES: frozenset[str] = frozenset({"index", "listing", "feedback", "vendor"})
"""Page types that carry records; every other type is a gate, an error or unknown."""
ONE_RECORD_TYPES: frozenset[str] = frozenset({"listing", "vendor"})
"""Page types that must yield at least one record; an empty one is a counted rejection."""


def host_key(host: str) -> str:
    return host.strip().lower().rstrip(".")


def _where(exc: BaseException) -> str:
    """``TypeName at module:line`` of the innermost frame: enough to debug, no page content."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return type(exc).__name__
    last = frames[-1]
    module = last.filename.rsplit("/", 1)[-1]
    return f"{type(exc).__name__} at {module}:{last.lineno} in {last.name}"


class MarketAdapter:
    """Base class of every market adapter. Subclasses set the class attributes and hooks."""

    name: ClassVar[str] = ""
    """Unique adapter name, used on the command line and in settings (``markets.X.adapter``)."""
    version: ClassVar[str] = "0"
    """Bumped whenever the output for some page changes, so records can be traced to it."""
    description: ClassVar[str] = ""
    source_type: ClassVar[str] = "marketplace"
    """What kind of source this is: ``marketplace``, ``shop``, ``forum`` or ``channel``
    (``build`` copies it into ``markets.source_type`` for the cross-channel indicators)."""
    hosts: ClassVar[tuple[str, ...]] = ()
    """Host names (``host`` or ``host:port``) of the market; more can be given per instance."""
    max_body_bytes: ClassVar[int] = 8 * 1024 * 1024
    max_records_per_page: ClassVar[int] = 5_000
    max_nesting_depth: ClassVar[int] = 4_096
    """Deeper pages are refused unparsed (``too_deep``): the HTML parser is quadratic in depth."""
    max_field_chars: ClassVar[int] = 20_000
    max_links_per_page: ClassVar[int] = 2_000

    def __init_subclass__(cls, **kwargs: object) -> None:
        """Refuse a market class that shadows the base's internals (``_analyse``, ``_check``...):
        a helper named like one of them would silently disable routing or the privacy check."""
        super().__init_subclass__(**kwargs)
        internal = {n for n in vars(MarketAdapter) if n.startswith("_") and not n.endswith("__")}
        clash = sorted(internal & set(vars(cls)))
        if clash:
            raise TypeError(f"{cls.__name__} must not override MarketAdapter internals: "
                            + ", ".join(clash))

    def __init__(self, pseudonymizer: Pseudonymizer, *, market: str | None = None,
                 hosts: Iterable[str] = ()) -> None:
        self.pseudonymizer = pseudonymizer
        self.market = market or self.name
        self.all_hosts = frozenset(host_key(h) for h in (*self.hosts, *hosts))
        self.counters = Counters()
        self._cache: tuple[Page, Document | None, PageType] | None = None

    # --- hooks a market overrides -------------------------------------------------------------
    def classify(self, doc: Document) -> PageType:
        """The content type of a parsed page (``index``, ``listing``, ``feedback``, ``vendor``),
        or ``unknown``; gates are recognised afterwards by :meth:`detect_gate`."""
        return "unknown"

    def detect_gate(self, doc: Document) -> PageType | None:
        """The gate kind of a page :meth:`classify` did not recognise (shared heuristics)."""
        return detect_gate(doc)

    def parse_index(self, doc: Document) -> Iterable[Record]:
        return ()

    def parse_listing(self, doc: Document) -> Iterable[Record]:
        return ()

    def parse_feedback(self, doc: Document) -> Iterable[Record]:
        return ()

    def parse_vendor(self, doc: Document) -> Iterable[Record]:
        return ()

    def extract_links(self, doc: Document, page_type: PageType) -> Iterable[str]:
        """Hrefs to follow from a content page (relative or absolute; the base resolves them,
        drops fragments and keeps the same host)."""
        return ()

    # --- helpers for markets ------------------------------------------------------------------
    def vendor_id(self, handle: str | None) -> str | None:
        """The keyed pseudonym of a handle as shown (``None`` for a missing or blank handle)."""
        if handle is None or not handle.strip():
            return None
        return self.pseudonymizer.vendor_id(handle)

    def reject(self, reason: str, detail: str = "") -> Rejection:
        """A rejection for a market method to yield (source and provenance are filled in)."""
        return Rejection(reason=reason, detail=detail)

    # --- the contract -------------------------------------------------------------------------
    def matches(self, url: str) -> bool:
        """Whether ``url`` is on one of this market's hosts."""
        try:
            parts = urlsplit(url)
            names = {host_key(parts.netloc), host_key(parts.hostname or "")}
        except ValueError:
            return False
        return bool(names & self.all_hosts)

    def page_type(self, page: Page) -> PageType:
        """What the page is. Never raises: a page that cannot be read is ``unknown``."""
        try:
            return self._analyse(page)[1]
        except Exception:
            self.counters.inc("errors:classify")
            return "unknown"

    def parse(self, page: Page) -> Iterator[Record]:
        """The records of a page, then nothing: every failure is a counted :class:`Rejection`."""
        self.counters.inc("pages")
        try:
            doc, ptype = self._analyse(page)
        except Exception as exc:
            yield self._finish(self.reject("parser_error", _where(exc)), page)
            return
        self.counters.inc(f"page_type:{ptype}")
        if len(page.body) > self.max_body_bytes:
            yield self._finish(self.reject("too_large", f"{len(page.body)} bytes"), page)
            return
        if doc is None and self._too_deep(page):
            yield self._finish(self.reject("too_deep", f"over {self.max_nesting_depth}"), page)
            return
        method = self._route(ptype)
        if doc is None or method is None:
            reason = {"unknown": "unknown_page", "error": "error_page"}.get(ptype, ptype)
            yield self._finish(self.reject(reason, f"status {page.status}"), page)
            return
        yield from self._run(method, doc, ptype, page)

    def links(self, page: Page) -> list[str]:
        """Absolute URLs on the page's own host to visit next (no fragments, no repeats)."""
        try:
            doc, ptype = self._analyse(page)
            if doc is None or ptype not in CONTENT_TYPES:
                return []
            origin = self._url_origin(page.url)
            out: list[str] = []
            seen: set[str] = set()
            for href in self.extract_links(doc, ptype):
                url = urldefrag(urljoin(page.url, href.strip()))[0]
                if url not in seen and self._url_origin(url) == origin:
                    seen.add(url)
                    out.append(url)
                    if len(out) >= self.max_links_per_page:
                        break
            return out
        except Exception:
            self.counters.inc("errors:links")
            return []

    # --- internals ----------------------------------------------------------------------------
    @staticmethod
    def _url_origin(url: str) -> tuple[str, str]:
        parts = urlsplit(url)
        return parts.scheme.lower(), host_key(parts.netloc)

    def _route(self, ptype: PageType) -> Callable[[Document], Iterable[Record]] | None:
        return {"index": self.parse_index, "listing": self.parse_listing,
                "feedback": self.parse_feedback, "vendor": self.parse_vendor}.get(ptype)

    def _analyse(self, page: Page) -> tuple[Document | None, PageType]:
        cached = self._cache
        if cached is not None and cached[0] is page:
            return cached[1], cached[2]
        doc: Document | None = None
        ptype: PageType
        if page.status == 429:
            ptype = "gate:rate_limit"
        elif page.status == 403:
            ptype = "gate:ban"
        elif page.status >= 400:
            ptype = "error"
        elif len(page.body) > self.max_body_bytes or self._too_deep(page):
            ptype = "unknown"
        else:
            doc = Document.of(page)
            ptype = self.classify(doc)
            if ptype == "unknown":
                ptype = self.detect_gate(doc) or "unknown"
        self._cache = (page, doc, ptype)
        return doc, ptype

    def _too_deep(self, page: Page) -> bool:
        return nesting_depth(page.body, self.max_nesting_depth) > self.max_nesting_depth

    def _run(self, method: Callable[[Document], Iterable[Record]], doc: Document,
             ptype: PageType, page: Page) -> Iterator[Record]:
        produced = 0
        try:
            for record in method(doc):
                checked = self._check(record)
                yield self._finish(checked, page)
                if not isinstance(checked, Rejection):
                    produced += 1
                if produced >= self.max_records_per_page:
                    yield self._finish(self.reject("too_many_records",
                                                   f"stopped after {produced}"), page)
                    return
        except Exception as exc:
            yield self._finish(self.reject("parser_error", _where(exc)), page)
            return
        if produced == 0 and ptype in ONE_RECORD_TYPES:
            yield self._finish(self.reject("empty_page", f"{ptype} page without a record"), page)

    def _check(self, record: Record) -> Record:
        """Reject records that break the contract; the value itself is never echoed."""
        if isinstance(record, Rejection):
            return record
        vendor = record.vendor_id
        if vendor is not None and not PSEUDONYM.match(vendor):
            return self.reject("clear_handle", f"{record.kind} vendor_id is not a pseudonym")
        if isinstance(record, ListingObservation):
            for name in ("listing_id", "title"):
                if not getattr(record, name):
                    return self.reject("missing_field", f"listing {name}")
        for f in dataclasses.fields(record):
            value = getattr(record, f.name)
            if isinstance(value, str) and len(value) > self.max_field_chars:
                return self.reject("field_too_long", f"{record.kind} {f.name}: {len(value)} chars")
        return record

    def _finish(self, record: Record, page: Page) -> Record:
        """Count the record and give it the page's source and provenance."""
        prov = page.provenance or Provenance(source=page.url, captured_at=page.captured_at)
        if isinstance(record, Rejection):
            self.counters.inc(f"rejected:{record.reason}")
            return dataclasses.replace(record, source=record.source or prov.source,
                                       provenance=record.provenance or prov)
        self.counters.inc(f"records:{record.kind}")
        if record.provenance is None:
            return dataclasses.replace(record, provenance=prov)
        return record

