"""The channel export reader: both read paths, times, text forms, reposts, bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dnmwatch.records import Counters, Rejection
from dnmwatch.sources.channel import (
    ROW_COLUMNS,
    ChannelSource,
    is_channel_export,
    message_text,
    normalised_text,
)


def _msg(i: int, day: int, text: Any, who: str = "Shop", hour: int = 12) -> dict[str, Any]:
    moment = datetime(2020, 5, day, hour, tzinfo=UTC)
    return {"id": i, "type": "message", "date": moment.replace(tzinfo=None).isoformat(),
            "date_unixtime": str(int(moment.timestamp())), "from": who, "from_id": f"u{who}",
            "text": text}


def _export(tmp: Path, messages: list[Any], **header: Any) -> Path:
    data = {"name": "Test Channel", "type": "public_channel", "id": 42, **header,
            "messages": messages}
    path = tmp / "result.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _rows(source: ChannelSource) -> list[dict[str, str]]:
    return [item[1] for item in source.rows() if not isinstance(item, Rejection)]


def test_reposts_within_the_window_are_one_row(tmp_path: Path) -> None:
    path = _export(tmp_path, [
        _msg(1, 1, "🔥 Kush 5g - 50€"), _msg(2, 3, "Kush 5g - 50€ ✅"),
        _msg(3, 4, "kush 5G — 50 €!!"), _msg(4, 20, "Kush 5g - 50€"),
        _msg(5, 21, "Kush 5g - 50€", who="Other")])
    source = ChannelSource(path)
    rows = _rows(source)
    assert [(r["message_id"], r["reposts"]) for r in rows] == [("1", "2"), ("4", "0"), ("5", "0")]
    assert rows[0]["first_seen"].startswith("2020-05-01") and rows[0]["last_seen"].startswith(
        "2020-05-04")
    assert set(rows[0]) == set(ROW_COLUMNS)
    assert rows[0]["channel"] == "Test Channel" and rows[0]["channel_id"] == "42"
    assert source.counters["channel:reposts"] == 2


def test_streamed_and_whole_reads_agree(tmp_path: Path) -> None:
    messages = [_msg(i, 1 + i % 28, f"Offer {i % 9}: {i % 9}g - {10 + i % 9}€", hour=i % 24)
                for i in range(1, 400)]
    messages.insert(5, {"id": 999, "type": "service", "date": "2020-05-01T00:00:00",
                        "action": "pin_message"})
    path = _export(tmp_path, messages, about="x" * 70_000)
    whole = ChannelSource(path)
    streamed = ChannelSource(path, size_cap=0)
    a, b = _rows(whole), _rows(streamed)
    assert a == b and len(a) > 9
    assert whole.counters["channel:read_whole"] == 1
    assert streamed.counters["channel:read_streamed"] == 1
    assert streamed.counters["channel:service_messages"] == 1


def test_text_entities_and_times(tmp_path: Path) -> None:
    assert message_text(["a ", {"type": "bold", "text": "b"}, {"type": "x"}, 3]) == "a b"
    assert message_text(None) == ""
    assert normalised_text("🔥 Kúsh  5G!!") == "kush 5g"
    msg = {"id": 1, "type": "message", "date": "2020-05-01T10:00:00", "from": "A",
           "text_entities": [{"type": "plain", "text": "hello"}]}
    counters = Counters()
    rows = _rows(ChannelSource(_export(tmp_path, [msg]), counters=counters))
    assert rows[0]["text"] == "hello" and rows[0]["date"] == "2020-05-01T10:00:00+00:00"
    assert counters["channel:date_without_zone"] == 1


def test_bad_inputs_are_counted_rejections(tmp_path: Path) -> None:
    cases = {
        "broken.json": '{"name": "x", "messages": [{"id": 1, ',
        "list.json": "[1, 2, 3]",
        "nomsg.json": '{"name": "x", "type": "t"}',
        "types.json": json.dumps({"messages": [1, "a", None, {"id": 2, "date": 5},
                                               {"id": 3, "date": "not a date", "text": "x"}]}),
    }
    for name, body in cases.items():
        path = tmp_path / name
        path.write_text(body, encoding="utf-8")
        for cap in (0, 10**9):
            items = list(ChannelSource(path, size_cap=cap).rows())
            assert items and all(isinstance(i, Rejection) for i in items), (name, cap)
    missing = list(ChannelSource(tmp_path / "none.json").rows())
    assert [r.reason for r in missing if isinstance(r, Rejection)] == ["unreadable_file"]


def test_recognising_an_export(tmp_path: Path) -> None:
    assert is_channel_export(_export(tmp_path, []))
    other = tmp_path / "x.json"
    other.write_text("[]", encoding="utf-8")
    assert not is_channel_export(other)
    assert not is_channel_export(tmp_path / "missing.json")


def test_open_groups_are_bounded(tmp_path: Path) -> None:
    path = _export(tmp_path, [_msg(i, 1, f"text {i}") for i in range(1, 50)])
    source = ChannelSource(path, max_open=10)
    assert len(_rows(source)) == 49
    assert source.counters["channel:dedup_evicted"] == 39
