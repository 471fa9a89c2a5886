"""The audit log: hash chain, tamper detection (edit, delete, reorder, insert, cut tail),
concurrent appends from several processes."""

from __future__ import annotations

import itertools
import json
import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dnmwatch.privacy.audit import GENESIS, AuditError, AuditLog, entry_hash


class Clock:
    """A fake clock advancing one second per call."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def _log(tmp_path: Path, n: int = 5) -> AuditLog:
    log = AuditLog.for_data_dir(tmp_path, clock=Clock())
    for i in range(n):
        log.append("cli", "export", {"n": i, "label": f"release-{i}"})
    return log


def _lines(log: AuditLog) -> list[str]:
    return log.path.read_text(encoding="utf-8").splitlines(keepends=True)


def _write(log: AuditLog, lines: list[str]) -> None:
    log.path.write_text("".join(lines), encoding="utf-8")


def test_entries_are_chained_and_verify(tmp_path: Path) -> None:
    log = _log(tmp_path)
    entries = list(log.entries())
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0]["prev_hash"] == GENESIS
    assert entries[0]["time"] == "2026-01-01T00:00:01.000000+00:00"
    for before, after in itertools.pairwise(entries):
        assert after["prev_hash"] == before["hash"] == entry_hash(before)
    result = log.verify()
    assert result.ok and result.entries == 5 and result.first_bad_seq is None
    assert oct(log.path.stat().st_mode & 0o777) == "0o600"


def test_empty_log_verifies(tmp_path: Path) -> None:
    result = AuditLog.for_data_dir(tmp_path).verify()
    assert result.ok and result.entries == 0


def test_edited_line_is_detected(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    entry = json.loads(lines[2])
    entry["details"]["n"] = 99
    lines[2] = json.dumps(entry, sort_keys=True) + "\n"
    _write(log, lines)
    result = log.verify()
    assert not result.ok and result.first_bad_seq == 3 and "edited" in result.reason


def test_deleted_line_is_detected(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    del lines[1]
    _write(log, lines)
    result = log.verify()
    assert not result.ok and result.first_bad_seq == 2


def test_deleted_line_with_renumbering_is_detected(tmp_path: Path) -> None:
    """Renumbering after a deletion still breaks prev_hash (or the hash)."""
    log = _log(tmp_path)
    lines = [json.loads(x) for x in _lines(log)]
    del lines[1]
    for i, e in enumerate(lines, 1):
        e["seq"] = i
    _write(log, [json.dumps(e) + "\n" for e in lines])
    result = log.verify()
    assert not result.ok and result.first_bad_seq == 2


def test_reordered_lines_are_detected(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    lines[3], lines[4] = lines[4], lines[3]
    _write(log, lines)
    result = log.verify()
    assert not result.ok and result.first_bad_seq == 4


def test_inserted_line_is_detected(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    forged = json.loads(lines[1])
    forged["details"] = {"n": "forged"}
    forged["hash"] = entry_hash(forged)  # a self-consistent entry...
    lines.insert(2, json.dumps(forged) + "\n")  # ...in the wrong place
    _write(log, lines)
    result = log.verify()
    assert not result.ok and result.first_bad_seq == 3


def test_cut_tail_is_detected_through_the_head(tmp_path: Path) -> None:
    log = _log(tmp_path)
    _write(log, _lines(log)[:3])
    result = log.verify()
    assert not result.ok and result.first_bad_seq == 4 and "head" in result.reason


def test_fully_rewritten_chain_is_caught_by_a_saved_head(tmp_path: Path) -> None:
    """A forger who rebuilds every hash still cannot match a head saved elsewhere."""
    log = _log(tmp_path, 3)
    saved = log.head()
    assert saved is not None
    log.path.unlink()
    log.head_path.unlink()
    forged = AuditLog.for_data_dir(tmp_path, clock=Clock())
    for i in range(3):
        forged.append("cli", "export", {"n": i + 100})
    assert forged.verify().ok
    assert forged.head() != saved


def test_damaged_json_line_is_reported(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    lines[0] = "{not json\n"
    _write(log, lines)
    result = log.verify()
    assert not result.ok and result.first_bad_seq == 1


def test_bad_input_is_refused(tmp_path: Path) -> None:
    log = AuditLog.for_data_dir(tmp_path)
    with pytest.raises(AuditError):
        log.append("cli", "Drop Table")
    with pytest.raises(AuditError):
        log.append("cli", "export", {"x": object()})
    naive = AuditLog.for_data_dir(tmp_path, clock=lambda: datetime(2026, 1, 1))
    with pytest.raises(AuditError):
        naive.append("cli", "export")


def _append_many(path: str, worker: int, n: int) -> None:
    log = AuditLog(Path(path))
    for i in range(n):
        log.append(f"worker{worker}", "crawl", {"i": i})


def test_concurrent_appends_from_processes_keep_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(path), w, 25)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    log = AuditLog(path)
    result = log.verify()
    assert result.ok, result.reason
    assert result.entries == 100
