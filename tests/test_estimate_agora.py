"""Agora 2014 (the same listings in several crawls) through extract + build, read in place.

The four product files of ``agora-2014-mozzarella`` hold about 29,000 listing rows from crawls
between January and March 2014, each row carrying the feedback its page showed. A feedback
stays on a page for about a week ("0 days ago" .. "6 days ago"), so crawls a few days apart
see it again: de-duplication must keep each real feedback once. Only counts are asserted or
shown (the rows hold real vendor handles, never printed). Skipped when the folder is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dnmwatch.adapters.registry import load_registry
from dnmwatch.estimate.build import build
from dnmwatch.sources.extract import extract, plan
from dnmwatch.store import Store

KEY = bytes(range(32))
pytestmark = pytest.mark.realdata


def _product_files() -> list[Path]:
    shared = os.environ.get("DNMWATCH_SHARED_DIR")
    base = Path(shared) if shared else Path(__file__).resolve().parents[1].parent / "shared"
    root = base / "data" / "real" / "agora-2014-mozzarella"
    for folder in (root / "product", root / "data" / "product"):
        found = sorted(folder.glob("products-2014-*.csv"))
        if found:
            return found
    pytest.skip(f"Agora 2014 product files not found under {root}")


def test_agora_feedback_deduplicated_across_crawls(tmp_path: Path) -> None:
    paths = _product_files()
    with Store.open(tmp_path / "data") as store:
        summary = extract(store, plan(paths, load_registry(plugins=False)), key=KEY, workers=1)
        assert not summary.failed
        result = build(store)
        raw = store.fetchall("SELECT count(*) FROM feedback_observations")[0][0]
        unique, merged = store.fetchall(
            "SELECT count(*), count(*) FILTER (WHERE sightings > 1) FROM feedback")[0]
        print(f"\nAgora 2014: {raw} feedback appearances -> {unique} unique "
              f"({merged} seen in more than one crawl); build counters "
              f"{result.exclusions()}")
        assert len(paths) == 4
        assert raw == 23488
        assert unique == 21499
        assert merged == 1989
        assert result.counters["feedback:merged_sightings"] == raw - unique
        again = build(store)
        assert again.skipped and again.rows == result.rows
