"""The adapter contract enforced by the base class, with small adapters written for the test:
routing, nothing escapes, bounds, privacy checks, provenance, links and counters."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dnmwatch.adapters.base import MarketAdapter
from dnmwatch.adapters.html import Document, decode_body, parse_amount, parse_money
from dnmwatch.errors import ConfigError
from dnmwatch.privacy.audit import AuditLog
from dnmwatch.privacy.keys import KeyStore, fingerprint
from dnmwatch.pseudonym import Pseudonymizer
from dnmwatch.records import (
    FeedbackObservation,
    ListingObservation,
    Page,
    PageType,
    Provenance,
    Record,
    Rejection,
)

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)
PSEUD = Pseudonymizer(b"\x01" * 32)


def page(body: str | bytes, url: str = "http://m.onion/item/7", status: int = 200) -> Page:
    raw = body.encode() if isinstance(body, str) else body
    return Page(url=url, captured_at=NOW, body=raw, status=status)


class Toy(MarketAdapter):
    """Listing pages are ``<h1 class=t>``; a ``<b class=boom>`` makes the parser fail."""

    name = "toy"
    version = "9"
    hosts = ("m.onion",)

    def classify(self, doc: Document) -> PageType:
        return "listing" if doc.first("h1.t") is not None else "unknown"

    def parse_listing(self, doc: Document) -> Iterator[Record]:
        for h1 in doc.css("h1.t"):
            if h1.css_first("b.boom") is not None:
                raise KeyError("secret-handle-in-message")
            yield ListingObservation(self.market, "7", h1.text(), self.vendor_id("Alice "),
                                     1.0, "USD")

    def extract_links(self, doc: Document, page_type: PageType) -> Iterable[str]:
        return [a.attributes.get("href") or "" for a in doc.css("a")]


class Leaky(Toy):
    name = "leaky"

    def parse_listing(self, doc: Document) -> Iterator[Record]:
        yield ListingObservation(self.market, "7", "t", "Alice", 1.0, "USD")
        yield FeedbackObservation(self.market, "7", None, 5.0, "ok", "now", NOW)


def test_routes_listing_pages_and_fills_provenance() -> None:
    toy = Toy(PSEUD)
    records = list(toy.parse(page('<h1 class="t">Weed 5g</h1>')))
    assert len(records) == 1
    rec = records[0]
    assert isinstance(rec, ListingObservation)
    assert rec.title == "Weed 5g" and rec.market == "toy"
    assert rec.vendor_id == PSEUD.vendor_id("alice")
    assert rec.provenance == Provenance(source="http://m.onion/item/7", captured_at=NOW)
    assert toy.counters["records:listing"] == 1 and toy.counters["page_type:listing"] == 1


def test_an_exception_in_market_code_is_a_counted_rejection_without_its_message() -> None:
    toy = Toy(PSEUD)
    records = list(toy.parse(page('<h1 class="t">a</h1><h1 class="t"><b class="boom">x</b></h1>')))
    assert [r.kind for r in records] == ["listing", "rejection"]
    rejection = records[1]
    assert isinstance(rejection, Rejection) and rejection.reason == "parser_error"
    assert "KeyError" in rejection.detail and "secret-handle" not in rejection.detail
    assert rejection.source == "http://m.onion/item/7"
    assert toy.counters["rejected:parser_error"] == 1


def test_classifier_failure_is_unknown_not_an_exception() -> None:
    class Broken(Toy):
        name = "broken"

        def classify(self, doc: Document) -> PageType:
            raise RuntimeError("bad selector")

    broken = Broken(PSEUD)
    assert broken.page_type(page("<p>x</p>")) == "unknown"
    assert [r.reason for r in broken.parse(page("<p>y</p>")) if isinstance(r, Rejection)] == [
        "parser_error"]


def test_unknown_gate_and_error_pages_are_typed_rejections() -> None:
    toy = Toy(PSEUD)
    unknown = list(toy.parse(page("<p>nothing to see</p>")))
    assert [(r.kind, getattr(r, "reason", "")) for r in unknown] == [("rejection",
                                                                     "unknown_page")]
    captcha = page('<title>Security check</title><form><input name="captcha_code"></form>')
    assert toy.page_type(captcha) == "gate:captcha"
    assert toy.page_type(page('<form><input type="password" name="p"></form>')) == "gate:login"
    assert toy.page_type(page("<h1>x</h1>", status=429)) == "gate:rate_limit"
    assert toy.page_type(page("<h1>x</h1>", status=503)) == "error"
    assert toy.counters["rejected:unknown_page"] == 1


def test_a_clear_handle_never_leaves_the_adapter() -> None:
    leaky = Leaky(PSEUD)
    records = list(leaky.parse(page('<h1 class="t">t</h1>')))
    assert records[0].kind == "rejection"
    assert isinstance(records[0], Rejection) and records[0].reason == "clear_handle"
    assert "Alice" not in repr(records)
    assert records[1].kind == "feedback"


def test_size_bounds() -> None:
    class Small(Toy):
        name = "small"
        max_body_bytes = 1000
        max_field_chars = 50
        max_records_per_page = 2

    small = Small(PSEUD)
    big = list(small.parse(page("<h1 class=t>x</h1>" + " " * 2000)))
    assert [getattr(r, "reason", "") for r in big] == ["too_large"]
    long_title = list(small.parse(page('<h1 class="t">' + "y" * 60 + "</h1>")))
    assert [getattr(r, "reason", "") for r in long_title] == ["field_too_long", "empty_page"]
    many = list(small.parse(page('<h1 class="t">a</h1>' * 5)))
    assert [r.kind for r in many] == ["listing", "listing", "rejection"]


def test_links_are_absolute_same_host_without_fragments_or_repeats() -> None:
    toy = Toy(PSEUD)
    body = ('<h1 class="t">t</h1><a href="/c/1#top">1</a><a href="/c/1">again</a>'
            '<a href="http://other.onion/x">away</a><a href="feedback?p=2">rel</a>'
            '<a href="javascript:alert(1)">js</a>')
    assert toy.links(page(body)) == ["http://m.onion/c/1", "http://m.onion/item/feedback?p=2"]
    assert toy.links(page("<p>unknown page</p>")) == []


def test_matches_declared_and_instance_hosts() -> None:
    toy = Toy(PSEUD, hosts=["127.0.0.1:8080"])
    assert toy.matches("http://M.onion./x") and toy.matches("http://127.0.0.1:8080/")
    assert not toy.matches("http://evil.onion/") and not toy.matches("http://[::1")


def test_shadowing_base_internals_is_refused() -> None:
    with pytest.raises(TypeError, match="_check"):
        class Bad(Toy):
            def _check(self, record: Record) -> Record:
                return record


def test_decoding_and_amounts() -> None:
    assert decode_body("Grüße".encode("cp1252")) == "Grüße"
    assert decode_body(b'<meta charset="koi8-r">' + "Цена".encode("koi8-r")).endswith("Цена")
    assert decode_body(b"\xef\xbb\xbfok") == "ok"
    assert parse_money("USD 1,234.50 (0.01 BTC)") == (1234.5, "USD")
    assert parse_money("₿0.001234 BTC") == (0.001234, "BTC")
    assert parse_money("€1.234,50") == (1234.5, "EUR")
    assert parse_amount("1,234,567") == 1234567 and parse_amount("12,5") == 12.5
    assert parse_money("free") == (None, None)


def test_pseudonyms_are_keyed_stable_and_normalised() -> None:
    other = Pseudonymizer(b"\x02" * 32)
    assert PSEUD.vendor_id("  DrugLord ") == PSEUD.vendor_id("druglord")
    assert PSEUD.vendor_id("druglord") != other.vendor_id("druglord")
    assert PSEUD.vendor_id("Straße") == PSEUD.vendor_id("STRASSE")
    assert len(PSEUD.vendor_id("x")) == 18
    assert repr(PSEUD) == "Pseudonymizer(key=<" + fingerprint(bytes([1] * 32)) + ">)"
    with pytest.raises(ConfigError):
        Pseudonymizer(b"short")
    with pytest.raises(ValueError):
        PSEUD.vendor_id("   ")


def test_key_file_made_by_keys_init_only_with_owner_only_permissions(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "pseudonym.key"
    keys = KeyStore(path, tmp_path / "data", AuditLog(tmp_path / "audit.jsonl"))
    with pytest.raises(ConfigError, match="dnmwatch keys init"):
        keys.load("parse")  # never created on first use
    keys.init()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keys.load("parse").vendor_id("a") == keys.load("parse").vendor_id("a")
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        keys.load("parse")
    os.chmod(path, 0o600)
    path.write_text("abcd\n")
    with pytest.raises(ConfigError, match="shorter"):
        keys.load("parse")
