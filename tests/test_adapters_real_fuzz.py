"""Hypothesis fuzzing of the real-market adapters: hostile pages never make an exception escape.

Seeds are the synthetic pages of ``tests/fixtures/adapters/<market>/`` (so this runs in CI);
the mutations are those of ``tests/test_adapters_fuzz.py`` (truncation, spliced bytes,
latin-1/cp1252/UTF-16 re-encoding, a megabyte attribute, closing tags stripped, deep nesting,
random bytes, odd HTTP statuses and charsets). Whatever comes in: ``page_type`` returns a
known type, ``parse`` yields only records and no ``parser_error``, vendor ids are pseudonyms,
links stay on the host, and a page nobody recognises is one counted rejection.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnmwatch.adapters.base import CONTENT_TYPES, MarketAdapter
from dnmwatch.adapters.registry import load_registry
from dnmwatch.pseudonym import Pseudonymizer
from dnmwatch.records import Page, Rejection
from test_adapters_fuzz import OPS, _check_contract, _mutate

FIXTURES = Path(__file__).parent / "fixtures" / "adapters"
MARKETS = ["empire", "cryptonia", "dream", "apollon", "cypher", "whitehousemarket"]
PSEUD = Pseudonymizer(b"\x09" * 32)
NOW = datetime(2019, 11, 1, tzinfo=UTC)
FUZZ = settings(max_examples=40, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _adapter(market: str) -> MarketAdapter:
    return load_registry(plugins=False).create(market, PSEUD)


def _seeds(market: str) -> list[Page]:
    return [Page(url=f"http://{market}.test/page", captured_at=NOW, body=p.read_bytes())
            for p in sorted((FIXTURES / market).glob("*.html"))]


SEEDS = {m: _seeds(m) for m in MARKETS}


@pytest.mark.parametrize("market", MARKETS)
@FUZZ
@given(data=st.data())
def test_mutated_pages_never_raise(market: str, data: st.DataObject) -> None:
    seed = data.draw(st.sampled_from(SEEDS[market]))
    op = data.draw(st.sampled_from(OPS))
    page = Page(url=seed.url, captured_at=seed.captured_at, body=_mutate(seed.body, op, data),
                status=data.draw(st.sampled_from([200, 200, 200, 403, 404, 429, 503])),
                content_type=data.draw(st.sampled_from(
                    ["text/html", "text/html; charset=windows-1251", "text/html; charset=bogus"])))
    _check_contract(_adapter(market), page)


@pytest.mark.parametrize("market", MARKETS)
@FUZZ
@given(body=st.binary(max_size=8192))
def test_random_bytes_are_a_counted_rejection(market: str, body: bytes) -> None:
    adapter = _adapter(market)
    page = Page(url="http://127.0.0.1:9/x", captured_at=NOW, body=body)
    assert adapter.page_type(page) not in CONTENT_TYPES
    records = list(adapter.parse(page))
    assert len(records) == 1 and isinstance(records[0], Rejection)
    assert adapter.counters[f"rejected:{records[0].reason}"] == 1
