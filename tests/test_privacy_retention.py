"""Retention on a real store: dry run changes nothing, apply deletes old WARC files and blanks
old free text, derived tables stay, and the purge is audit-logged."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dnmwatch.privacy import retention
from dnmwatch.privacy.audit import AuditLog
from dnmwatch.store import Store

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _populate(store: Store) -> None:
    old, new = NOW - timedelta(days=400), NOW - timedelta(days=10)
    store.insert_rows(
        "feedback",
        [
            {"market": "m", "feedback_id": "f1", "text": "old review", "first_seen": old},
            {"market": "m", "feedback_id": "f2", "text": "new review", "first_seen": new},
            {"market": "m", "feedback_id": "f3", "text": None, "first_seen": old},
        ],
    )
    store.insert_rows(
        "listing_observations",
        [
            {"market": "m", "listing_id": "1", "observed_at": old, "title": "old", "source": "w",
             "delivery": "Закладки: Ваке"},
            {"market": "m", "listing_id": "1", "observed_at": new, "title": "new", "source": "w",
             "delivery": "dead drops in Kreuzberg"},
        ],
    )
    store.insert_rows("listings", [{"market": "m", "listing_id": "1", "title": "MDMA 1g"}])
    store.insert_rows("sales", [{"market": "m", "day": (NOW - timedelta(days=400)).date()}])
    for name, age in (("old.warc.gz", 200), ("new.warc.gz", 5), ("notes.txt", 999)):
        path = store.warc_dir / "m" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 100)
        stamp = (NOW - timedelta(days=age)).timestamp()
        os.utime(path, (stamp, stamp))


def test_plan_is_a_dry_run(tmp_path: Path) -> None:
    with Store.open(tmp_path / "data") as store:
        _populate(store)
        todo = retention.plan(
            store.connection, store.warc_dir, warc_days=180, text_days=365, now=NOW
        )
        assert [f.path.name for f in todo.files] == ["old.warc.gz"]
        assert todo.text == {"feedback.text": 1, "listing_observations.title": 1,
                             "listing_observations.delivery": 1}
        assert todo.bytes == 100
        assert (store.warc_dir / "m" / "old.warc.gz").exists()
        assert store.fetchall("SELECT count(*) FROM feedback WHERE text IS NOT NULL")[0][0] == 2


def test_apply_purges_raw_data_and_keeps_derived_tables(tmp_path: Path) -> None:
    data = tmp_path / "data"
    audit = AuditLog.for_data_dir(data)
    with Store.open(data) as store:
        _populate(store)
        todo = retention.plan(
            store.connection, store.warc_dir, warc_days=180, text_days=365, now=NOW
        )
        done = retention.apply(store.connection, todo, audit=audit, warc_root=store.warc_dir)
        assert len(done.files) == 1 and done.text["feedback.text"] == 1
        assert not (store.warc_dir / "m" / "old.warc.gz").exists()
        assert (store.warc_dir / "m" / "new.warc.gz").exists()
        assert (store.warc_dir / "m" / "notes.txt").exists()  # not a WARC file
        texts = dict(store.fetchall("SELECT feedback_id, text FROM feedback"))
        assert texts == {"f1": None, "f2": "new review", "f3": None}
        titles = sorted(
            store.fetchall("SELECT title FROM listing_observations"), key=lambda r: str(r[0])
        )
        assert titles == [(None,), ("new",)]
        delivery = store.fetchall("SELECT delivery FROM listing_observations ORDER BY 1")
        assert delivery == [("dead drops in Kreuzberg",), (None,)]
        assert store.fetchall("SELECT title FROM listings") == [("MDMA 1g",)]
        assert store.fetchall("SELECT count(*) FROM sales") == [(1,)]
        again = retention.plan(
            store.connection, store.warc_dir, warc_days=180, text_days=365, now=NOW
        )
        assert again.files == [] and sum(again.text.values()) == 0
    entry = list(audit.entries())[-1]
    assert entry["action"] == "purge" and entry["details"]["warc_files"] == 1
    assert str(tmp_path) not in str(entry) and audit.verify().ok


def test_apply_never_deletes_outside_the_warc_folder(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.warc.gz"
    outside.write_bytes(b"keep")
    with Store.open(tmp_path / "data") as store:
        forged = retention.Plan(NOW, NOW, files=[retention.ExpiredFile(outside, 4, NOW)])
        audit = AuditLog.for_data_dir(store.data_dir)
        done = retention.apply(store.connection, forged, audit=audit, warc_root=store.warc_dir)
    assert outside.exists() and done.files == []


def test_symlinked_warc_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "precious.warc.gz"
    target.write_bytes(b"keep")
    old = (NOW - timedelta(days=999)).timestamp()
    os.utime(target, (old, old))
    with Store.open(tmp_path / "data") as store:
        (store.warc_dir / "link.warc.gz").symlink_to(target)
        todo = retention.plan(store.connection, store.warc_dir, warc_days=1, text_days=1, now=NOW)
    assert todo.files == []
