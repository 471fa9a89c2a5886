"""Feedback de-duplication across overlapping snapshots, on small hand-made cases."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from _estimate_rows import at, feedback, put
from dnmwatch.consolidate.feedback import (
    deduplicate,
    load_sightings,
    normalise_text,
    text_score,
)
from dnmwatch.records import Counters
from dnmwatch.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "data")
    yield s
    s.close()


def _rows(store: Store) -> tuple[list[dict[str, object]], Counters]:
    counters = Counters()
    rejected: list[dict[str, object]] = []
    clusters = deduplicate(load_sightings(store.connection, counters, rejected), counters)
    return [c.row() for c in clusters], counters


def test_same_feedback_in_many_crawls_is_one_row_with_intersected_date(store: Store) -> None:
    put(store, "feedback_observations", [
        feedback("m", "L1", 0, "Great stuff", "2 days ago"),
        feedback("m", "L1", 1, "Great stuff", "1 week ago"),
        feedback("m", "L1", 2, "Great stuff", "2 weeks ago"),
    ])
    rows, counters = _rows(store)
    assert len(rows) == 1
    row = rows[0]
    assert row["sightings"] == 3 and row["first_seen"] == at(0) and row["last_seen"] == at(2)
    # "2 days ago" at crawl 0: (T0-3d, T0-2d]; "1 week ago" at crawl 1: [T0-7d, T0]: the
    # intersection is the first interval; the third sighting allows it too.
    assert row["posted_earliest"] == at(0) - timedelta(days=3)
    assert row["posted_latest"] == at(0) - timedelta(days=2)
    assert counters["feedback:sightings"] == 3 and counters["feedback:unique"] == 1


def test_feedback_seen_once_stays(store: Store) -> None:
    put(store, "feedback_observations", [
        feedback("m", "L1", 0, "Great stuff", "2 days ago"),
        feedback("m", "L1", 1, "Great stuff", "1 week ago"),
        feedback("m", "L1", 1, "Arrived fast", "yesterday", position=0),
    ])
    rows, _ = _rows(store)
    assert sorted(r["text"] for r in rows) == ["Arrived fast", "Great stuff"]


def test_identical_feedback_of_one_crawl_are_never_merged(store: Store) -> None:
    put(store, "feedback_observations", [
        feedback("m", "L1", 0, "All good", "3 days ago", position=0),
        feedback("m", "L1", 0, "All good", "3 days ago", position=1),
        feedback("m", "L1", 1, "All good", "1 week ago", position=0),
        feedback("m", "L1", 1, "All good", "1 week ago", position=1),
    ])
    rows, _ = _rows(store)
    assert len(rows) == 2 and all(r["sightings"] == 2 for r in rows)


def test_a_new_identical_feedback_in_a_later_crawl_is_new(store: Store) -> None:
    put(store, "feedback_observations", [
        feedback("m", "L1", 0, "All good", "3 days ago"),
        feedback("m", "L1", 1, "All good", "1 week ago", position=1),
        feedback("m", "L1", 1, "All good", "2 hours ago", position=0),
    ])
    rows, _ = _rows(store)
    assert len(rows) == 2
    assert sorted(r["sightings"] for r in rows) == [1, 2]


@pytest.mark.parametrize(("other", "rating", "posted"), [
    ("Great stuff", 1.0, "1 week ago"),          # another rating
    ("Terrible stealth", 5.0, "1 week ago"),     # another text
    ("Great stuff", 5.0, "3 weeks ago"),         # incompatible dates
])
def test_incompatible_sightings_stay_apart(store: Store, other: str, rating: float,
                                           posted: str) -> None:
    put(store, "feedback_observations", [
        feedback("m", "L1", 0, "Great stuff", "2 days ago"),
        feedback("m", "L1", 1, other, posted, rating=rating),
    ])
    rows, _ = _rows(store)
    assert len(rows) == 2


def test_other_listing_or_market_is_another_feedback(store: Store) -> None:
    put(store, "feedback_observations", [
        feedback("m", "L1", 0, "Great stuff", "2 days ago"),
        feedback("m", "L2", 0, "Great stuff", "2 days ago"),
        feedback("n", "L1", 0, "Great stuff", "2 days ago"),
    ])
    rows, _ = _rows(store)
    assert len(rows) == 3


def test_truncated_and_edited_texts_merge_and_keep_the_longest(store: Store) -> None:
    long_text = "Ordered twice now, both times the package arrived within three days, top"
    put(store, "feedback_observations", [
        feedback("m", "L1", 0, long_text[:30] + "...", "2 days ago"),
        feedback("m", "L1", 1, long_text, "1 week ago"),
        feedback("m", "L1", 2, long_text.replace("three", "3"), "2 weeks ago"),
    ])
    rows, _ = _rows(store)
    assert len(rows) == 1 and rows[0]["text"] == long_text and rows[0]["sightings"] == 3


def test_text_rules() -> None:
    assert normalise_text("  Great   STUFF… ") == ("great stuff", True)
    assert text_score("all good", False, "all good", False) == 2
    assert text_score("all good", False, "all good thanks!", False) == 0
    assert text_score("all go", True, "all good thanks!", False) == 1


def test_unreadable_dates_are_counted_rejections(store: Store) -> None:
    put(store, "feedback_observations", [
        feedback("m", "L1", 0, "Great stuff", "sometime"),
        feedback("m", "L1", 0, "Fine", "yesterday"),
    ])
    counters = Counters()
    rejected: list[dict[str, object]] = []
    clusters = deduplicate(load_sightings(store.connection, counters, rejected), counters)
    assert len(clusters) == 1
    assert counters["feedback:rejected:date_unparsed"] == 1
    assert rejected[0]["reason"] == "date_unparsed"


def test_ids_are_stable_when_later_crawls_add_sightings(store: Store) -> None:
    put(store, "feedback_observations", [feedback("m", "L1", 0, "Great stuff", "2 days ago")])
    first, _ = _rows(store)
    put(store, "feedback_observations", [feedback("m", "L1", 1, "Great stuff", "1 week ago")])
    second, _ = _rows(store)
    assert [r["feedback_id"] for r in first] == [r["feedback_id"] for r in second]
    assert isinstance(second[0]["posted_at"], datetime)


def test_a_copied_row_with_a_moved_capture_time_gets_its_own_id(store: Store) -> None:
    """The same row stored twice with capture times a day apart (a copied or re-imported file)
    agrees on everything the id hashes: both stay (one snapshot shows each feedback once) and
    the later one gets a suffixed id instead of a duplicate key."""
    row = feedback("m", "L1", 0, "Great stuff", "2 days ago")
    moved = {**row, "observed_at": row["observed_at"] + timedelta(days=1)}
    put(store, "feedback_observations", [row, moved])
    rows, counters = _rows(store)
    ids = [r["feedback_id"] for r in rows]
    assert len(ids) == 2 and len(set(ids)) == 2
    assert ids[1] == ids[0] + "~1" and counters["feedback:id_collisions"] == 1
