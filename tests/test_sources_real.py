"""The dataset adapters on the real CSV files, read in place from ``../shared/data/real``
(or ``$DNMWATCH_SHARED_DIR/data/real``); skipped when absent. Only counts and shares are
asserted or shown: the rows hold real vendor handles, which must never be printed."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from dnmwatch.adapters.registry import load_registry
from dnmwatch.sources.csvdata import CsvSource
from dnmwatch.sources.extract import ExtractSummary, extract, plan
from dnmwatch.store import Store

KEY = bytes(range(32))
pytestmark = pytest.mark.realdata


def real_dir() -> Path:
    shared = os.environ.get("DNMWATCH_SHARED_DIR")
    base = Path(shared) if shared else Path(__file__).resolve().parents[1].parent / "shared"
    return base / "data" / "real"


def files(*patterns: str) -> list[Path]:
    root = real_dir()
    for pattern in patterns:
        found = sorted(root.glob(pattern))
        if found:
            return found
    pytest.skip(f"real dataset not found under {root} ({patterns[0]})")


def run(tmp_path: Path, paths: list[Path]) -> Iterator[tuple[Store, ExtractSummary]]:
    tasks = plan(paths, load_registry(plugins=False))
    with Store.open(tmp_path / "data") as store:
        yield store, extract(store, tasks, key=KEY, workers=2)


def rows_in(paths: list[Path]) -> int:
    return sum(1 for p in paths for item in CsvSource(p).rows() if isinstance(item, tuple))


def share(store: Store, condition: str, table: str = "listing_observations") -> float:
    total, hit = store.fetchall(f"SELECT count(*), count(*) FILTER (WHERE {condition}) "
                                f"FROM {table}")[0]
    return float(hit) / float(total) if total else 0.0


def test_agora(tmp_path: Path) -> None:
    paths = files("agora-2014-mozzarella/product/products-2014-01-01.csv",
                  "agora-2014-mozzarella/data/product/products-2014-01-01.csv")
    rating_lines = re.compile(r"\n[ \t]{4,}\d/5[ \t]*\r?\n")
    entries = sum(len(rating_lines.findall(row.get("feedback", "")))
                  for p in paths for item in CsvSource(p).rows()
                  if isinstance(item, tuple) for row in (item[1],))
    for store, summary in run(tmp_path, paths):
        assert not summary.failed
        assert summary.records["listing"] >= 0.99 * rows_in(paths)
        assert entries > 1000
        assert summary.records["feedback"] >= 0.99 * entries
        assert share(store, "regexp_full_match(vendor_id, 'v_[0-9a-f]{16}')") >= 0.99
        assert share(store, "price > 0 AND currency = 'BTC'") >= 0.99
        assert share(store, "posted_shown LIKE '% ago'", "feedback_observations") == 1.0


def test_alphabay(tmp_path: Path) -> None:
    paths = files("alphabay-2017-denton/*.csv", "alphabay-2017-denton/data/*.csv")
    for store, summary in run(tmp_path, paths):
        assert not summary.failed
        assert summary.records["listing"] == rows_in(paths)
        assert summary.counters["csv:encoding:mac_roman"] == len(paths)
        assert summary.counters["csv:repaired_fields"] > 0
        assert share(store, "currency = 'USD' AND price >= 0") >= 0.99  # some ask USD 0.00
        assert share(store, "sold IS NOT NULL") >= 0.99
        assert share(store, "vendor_id IS NOT NULL") >= 0.99
        days = store.fetchall("SELECT min(observed_at), max(observed_at) "
                              "FROM listing_observations")[0]
        assert days[0].year == 2017 and days[1].year == 2017


def test_matanga(tmp_path: Path) -> None:
    paths = files("matanga-georgia-2020/SCRAPED/output_0*.csv",
                  "matanga-georgia-2020/DATA/INPUT/SCRAPED/output_0*.csv")[:60]
    for store, summary in run(tmp_path, paths):
        assert not summary.failed
        assert summary.records["listing"] == rows_in(paths)
        assert share(store, "price > 0") >= 0.95
        assert share(store, "currency = 'USD'") >= 0.9
        assert share(store, "tiers LIKE '%гр%' OR tiers LIKE '%шт%' OR tiers IS NULL") >= 0.9
        assert store.fetchall("SELECT count(*) FROM listing_observations "
                              "WHERE vendor_id IS NOT NULL")[0][0] == 0
