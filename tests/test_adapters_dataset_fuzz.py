"""Hypothesis fuzzing of the dataset adapters (``agora``, ``alphabay``, ``matanga``).

Seeds are the rows of the synthetic fixtures (``tests/fixtures/adapters/<market>/``). Rows are
mutated (a cell replaced by random text, digits or a megabyte of one character, columns
dropped, the row emptied), and whole files are damaged (truncated, bytes spliced in,
re-encoded as UTF-16/cp1252/latin-1, or replaced by random bytes) before going through
:class:`~dnmwatch.sources.csvdata.CsvSource`. Whatever comes in: no exception escapes, only
records come out, no ``parser_error`` (the safety net exists, but these adapters should not
need it), vendor ids are pseudonyms, and every rejection is counted by its reason.
Runs are derandomised and keep no example database.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnmwatch.adapters.registry import load_registry
from dnmwatch.adapters.rows import RowAdapter
from dnmwatch.pseudonym import PSEUDONYM, Pseudonymizer
from dnmwatch.records import (
    FeedbackObservation,
    ListingObservation,
    Provenance,
    Record,
    Rejection,
    VendorObservation,
)
from dnmwatch.sources.csvdata import CsvSource
from test_adapters_dataset_fixtures import FILES

MARKETS = list(FILES)
PSEUD = Pseudonymizer(b"\x0b" * 32)
CAPTURED = datetime(2017, 4, 22, tzinfo=UTC)
RECORD_TYPES = (ListingObservation, VendorObservation, FeedbackObservation, Rejection)
FUZZ = settings(max_examples=40, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _adapter(market: str) -> RowAdapter:
    adapter = load_registry(plugins=False).create(market, PSEUD)
    assert isinstance(adapter, RowAdapter)
    return adapter


def _seed_rows(market: str) -> list[dict[str, str]]:
    return [item[1] for item in CsvSource(FILES[market]).rows() if isinstance(item, tuple)]


SEED_ROWS = {m: _seed_rows(m) for m in MARKETS}
HUGE = ["5/5 ", "1", "\u00e4", "x", "\n    ", "Quantity left: 9", "Buy price USD 1", "Ã¤"]


def _check(adapter: RowAdapter, records: Iterable[Record], rows: int) -> None:
    out = list(records)
    assert all(isinstance(r, RECORD_TYPES) for r in out)
    reasons = Counter(r.reason for r in out if isinstance(r, Rejection))
    assert "parser_error" not in reasons
    for reason, n in reasons.items():
        assert adapter.counters[f"rejected:{reason}"] == n
    for rec in out:
        if not isinstance(rec, Rejection) and rec.vendor_id is not None:
            assert PSEUDONYM.match(rec.vendor_id)
        assert rec.provenance is not None
    assert adapter.counters["rows"] == rows


@st.composite
def mutated_row(draw: st.DrawFn, market: str) -> dict[str, str]:
    row = dict(draw(st.sampled_from(SEED_ROWS[market])))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["text", "digits", "huge", "drop", "empty", "blank_all"]))
        column = draw(st.sampled_from(sorted(row) or ["x"]))
        if op == "text":
            row[column] = draw(st.text(max_size=200))
        elif op == "digits":
            row[column] = draw(st.from_regex(r"[0-9.,eE+\- ]{0,40}", fullmatch=True))
        elif op == "huge":
            row[column] = draw(st.sampled_from(HUGE)) * draw(st.sampled_from([10_000, 250_000]))
        elif op == "drop":
            row.pop(column, None)
        elif op == "empty":
            row[column] = ""
        else:
            row = {k: "" for k in row}
    return row


@pytest.mark.parametrize("market", MARKETS)
@FUZZ
@given(data=st.data())
def test_mutated_rows_never_raise(market: str, data: st.DataObject) -> None:
    adapter = _adapter(market)
    row = data.draw(mutated_row(market))
    prov = Provenance(source="fuzz.csv", offset=1,
                      captured_at=data.draw(st.sampled_from([None, CAPTURED])))
    _check(adapter, adapter.parse_row(row, prov), 1)


def _damage(body: bytes, op: str, data: st.DataObject) -> bytes:
    if op == "truncate":
        return body[:data.draw(st.integers(0, len(body)))]
    if op == "splice":
        at = data.draw(st.integers(0, len(body)))
        return body[:at] + data.draw(st.binary(max_size=64)) + body[at:]
    if op in ("utf-16", "cp1252", "latin-1"):
        return body.decode("utf-8", "replace").encode(op, "replace")
    if op == "quotes":
        return body.replace(b",", b'"', data.draw(st.integers(1, 5)))
    return data.draw(st.binary(max_size=4096))


def _rows_of(path: Path, adapter: RowAdapter) -> tuple[list[Record], int, CsvSource]:
    source = CsvSource(path)
    out: list[Record] = []
    rows = 0
    for item in source.rows():
        if isinstance(item, Rejection):
            continue
        rows += 1
        out += list(adapter.parse_row(item[1], item[0]))
    return out, rows, source


@pytest.mark.parametrize("market", MARKETS)
@FUZZ
@given(data=st.data())
def test_damaged_files_through_the_csv_source(market: str, data: st.DataObject) -> None:
    op = data.draw(st.sampled_from(["truncate", "splice", "utf-16", "cp1252", "latin-1",
                                    "quotes", "random"]))
    body = _damage(FILES[market].read_bytes(), op, data)
    adapter = _adapter(market)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / FILES[market].name
        path.write_bytes(body)
        records, rows, source = _rows_of(path, adapter)
    _check(adapter, records, rows)
    assert source.counters["csv:rows"] == rows


@pytest.mark.parametrize("market", MARKETS)
@FUZZ
@given(body=st.binary(max_size=8192))
def test_random_bytes_as_a_csv_file(market: str, body: bytes) -> None:
    adapter = _adapter(market)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "random.csv"
        path.write_bytes(body)
        records, rows, _source = _rows_of(path, adapter)
    _check(adapter, records, rows)


def test_a_huge_cell_is_a_counted_rejection_in_bounded_time() -> None:
    """A 1 MB title is ``field_too_long``; a megabyte of digits or ratings is read in linear
    time (the patterns were made linear after this test found a quadratic one)."""
    for market, column in (("agora", "product"), ("alphabay", "listing_title"),
                           ("matanga", "description")):
        adapter = _adapter(market)
        row = dict(SEED_ROWS[market][0])
        row[column] = "x" * 1_000_000
        records = list(adapter.parse_row(row, Provenance("huge.csv", 1, CAPTURED)))
        assert [r.reason for r in records if isinstance(r, Rejection)][:1] == ["field_too_long"]
        assert adapter.counters["rejected:field_too_long"] >= 1
    adapter = _adapter("alphabay")
    row = dict(SEED_ROWS["alphabay"][0], detail_qty_sold="1" * 1_000_000)
    assert [type(r) for r in adapter.parse_row(row, Provenance("d.csv", 1, CAPTURED))] == \
        [ListingObservation]
    adapter = _adapter("agora")
    row = dict(SEED_ROWS["agora"][0], feedback=" 5/5" * 250_000)
    assert [type(r) for r in adapter.parse_row(row, Provenance("f.csv", 1))] == \
        [ListingObservation]
