"""Shared by the real-market adapter tests: where the saved pages are, which adapter reads
which folder, what page type each folder holds, and how records are summarised for comparison.

Summaries never hold a handle or a page's text in clear: titles and feedback texts become a
short SHA-256, vendors the pseudonym under a fixed test key (what the adapter emits anyway).
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dnmwatch.pseudonym import Pseudonymizer
from dnmwatch.records import Page, Record, Rejection

PSEUD = Pseudonymizer(bytes(32))
CAPTURED = datetime(2019, 11, 1, tzinfo=UTC)
HASHED = ("title", "text", "pgp_fingerprint")
KEPT = {
    "listing": ("listing_id", "title", "vendor_id", "price", "currency", "ships_from",
                "ships_to", "category", "stock", "sold"),
    "vendor": ("vendor_id", "pgp_fingerprint", "ships_from", "sales", "rating", "member_since",
               "other_markets"),
    "feedback": ("listing_id", "vendor_id", "rating", "text", "posted", "price", "currency"),
    "rejection": ("reason",),
}


def shared_dir() -> Path:
    env = os.environ.get("DNMWATCH_SHARED_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared"


REAL = shared_dir() / "data" / "real"
MAGNUBLO = REAL / "darknet-html-magnublo"
YELLOWBRICK = REAL / "cypher-whm-yellowbrick-2020"

# market -> (root, glob, URL the pages are given: host matters for links only)
CORPUS: dict[str, tuple[Path, str, str]] = {
    "empire": (MAGNUBLO / "empire" / "html_files", "**/saved_empire_*",
               "http://empiremktxgjovhm.onion/page"),
    "cryptonia": (MAGNUBLO / "cryptonia" / "html_files", "**/*", "http://cryptonia.onion/page"),
    "dream": (MAGNUBLO / "dream" / "html_files", "**/*", "http://lchudifyeqm4ldjj.onion/page"),
    "apollon": (MAGNUBLO / "apollon" / "html_files", "**/*", "http://apollon.onion/page"),
    "cypher": (YELLOWBRICK / "cypher-market" / "page-downloads", "*/*.html",
               "http://jcnhui6sgumsawtd.onion/category/x"),
    "whitehousemarket": (YELLOWBRICK / "white-house-market" / "page-downloads", "*/*.html",
                         "http://whm.onion/welcome"),
}
FOLDER_TYPES: dict[str, frozenset[str]] = {
    "listings": frozenset({"listing"}),
    "users": frozenset({"vendor"}), "sellers": frozenset({"vendor", "feedback"}),
    "pgp": frozenset({"vendor"}), "feedback": frozenset({"feedback", "vendor"}),
    "feedbacks": frozenset({"feedback"}),
    "search_results": frozenset({"index"}), "search_result": frozenset({"index"}),
    "category_indexes": frozenset({"index"}), "sub_category_indexes": frozenset({"index"}),
    "main_page": frozenset({"index"}), "html_files": frozenset({"index"}),
    "2020-09-17": frozenset({"index"}),
    "login_page": frozenset({"gate:login"}), "meta_refresh": frozenset({"gate:login"}),
    "ddos": frozenset({"gate:queue"}), "anti_ddos": frozenset({"gate:queue"}),
    "item_not_found": frozenset({"error"}),
}


def files(market: str) -> list[Path]:
    root, pattern, _ = CORPUS[market]
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob(pattern) if p.is_file() and p.stat().st_size > 0)


def rel(market: str, path: Path) -> str:
    return path.relative_to(CORPUS[market][0]).as_posix()


def page_of(market: str, path: Path) -> Page:
    return Page(url=CORPUS[market][2], captured_at=CAPTURED, body=path.read_bytes())


def fingerprint(entries: list[tuple[str, int]]) -> str:
    """sha256 over the sorted ``relative path <TAB> size`` lines of a corpus."""
    text = "\n".join(f"{name}\t{size}" for name, size in sorted(entries))
    return hashlib.sha256(text.encode()).hexdigest()


def short_hash(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def summary(record: Record) -> dict[str, Any]:
    """The compared fields of a record, identifying text hashed."""
    out: dict[str, Any] = {"kind": record.kind}
    for name in KEPT[record.kind]:
        value = getattr(record, name)
        if name in HASHED and isinstance(value, str):
            value = short_hash(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[name] = value
    if isinstance(record, Rejection):
        out["reason"] = record.reason
    return out


class Tally:
    """Hits and totals per field, and the rates printed (``digits`` decimals) and checked
    against floors."""

    def __init__(self, digits: int = 3) -> None:
        self.digits = digits
        self.hits: dict[str, int] = {}
        self.total: dict[str, int] = {}

    def add(self, field: str, ok: bool) -> None:
        self.total[field] = self.total.get(field, 0) + 1
        self.hits[field] = self.hits.get(field, 0) + int(ok)

    def rates(self) -> dict[str, float]:
        return {f: self.hits[f] / n for f, n in sorted(self.total.items())}

    def check(self, market: str, floors: dict[str, float]) -> None:
        rates = self.rates()
        print(f"\n{market}: " + ", ".join(f"{f}={r:.{self.digits}f} (n={self.total[f]})"
                                          for f, r in rates.items()))
        low = {f: round(rates.get(f, 0.0), 4) for f, floor in floors.items()
               if rates.get(f, 0.0) < floor}
        assert not low, f"{market}: fields below their floor: {low}"
