"""The shared gate heuristics on real markets' gate pages (magnublo's saved Dream, Cryptonia
and Empire login and anti-DDoS pages), read in place from ``../shared/data/real``.

Only page types are compared and printed: these pages belong to real, long-dead markets and may
carry tokens or names, so nothing of their content is shown.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dnmwatch.adapters.base import MarketAdapter
from dnmwatch.pseudonym import Pseudonymizer
from dnmwatch.records import Page, Rejection


def _shared() -> Path:
    env = os.environ.get("DNMWATCH_SHARED_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared"


ROOT = _shared() / "data" / "real" / "darknet-html-magnublo"
pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not ROOT.is_dir(), reason=f"real market pages not found at {ROOT}"),
]
EXPECTED = {
    "dream/html_files/login_page/login_0.html": "gate:login",
    "dream/html_files/login_page/login_1.html": "gate:login",
    "dream/html_files/anti_ddos/anti_ddos_0.html": "gate:queue",
    "cryptonia/html_files/login_page/saved_cryptonia_login_page_0": "gate:login",
    "cryptonia/html_files/login_page/saved_cryptonia_login_page_1": "gate:login",
    "cryptonia/html_files/ddos/anti_ddos_page": "gate:queue",
    "empire/html_files/login_page/saved_empire_login_page_0": "gate:login",
    "empire/html_files/login_page/saved_empire_login_page_1": "gate:login",
    "empire/html_files/login_page/saved_empire_login_page_2": "gate:login",
}


class _NoContent(MarketAdapter):
    """An adapter that recognises no content: only the shared gate heuristics answer."""

    name = "no-content"


def test_real_gate_pages_are_typed_by_the_shared_heuristics() -> None:
    present = {rel: kind for rel, kind in EXPECTED.items() if (ROOT / rel).is_file()}
    if not present:
        pytest.skip("none of the gate pages is in this copy of the data")
    adapter = _NoContent(Pseudonymizer(bytes(32)))
    wrong = {}
    for rel, kind in present.items():
        page = Page(url="http://market.onion/login", captured_at=datetime(2019, 6, 1, tzinfo=UTC),
                    body=(ROOT / rel).read_bytes())
        got = adapter.page_type(page)
        if got != kind:
            wrong[rel] = got
        records = list(adapter.parse(page))
        assert [type(r) for r in records] == [Rejection]
    assert not wrong, f"mistyped gate pages: {wrong}"
