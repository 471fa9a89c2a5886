"""Workers must make the writer's pseudonyms, or refuse to work; Dask stays optional.

The 2 GB extraction benchmark once reported half its pages as ``parser_error`` and no listing:
the package was edited while it ran, its worker processes (spawned later) unpickled the
writer's pseudonymizer into a newer class whose ``vendor_id`` needed an attribute the old one
did not carry, and every page naming a vendor failed inside the adapter, silently. These tests
rebuild that situation and check that a task now fails loudly (and is quarantined) instead.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from _extract_support import KEY, SIM_ADAPTERS, crawl, write_warc
from dnmwatch.adapters.registry import load_registry
from dnmwatch.pseudonym import Pseudonymizer
from dnmwatch.sim.generate import generate_world
from dnmwatch.sim.model import preset
from dnmwatch.sim.server import SimServer
from dnmwatch.sources.extract import plan
from dnmwatch.sources.worker import Context, MarketRoute, Task, probe_id, run_task

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def skewed() -> Pseudonymizer:
    """A pseudonymizer as unpickled from a version whose class had only ``_key``."""
    old = object.__new__(Pseudonymizer)
    object.__setattr__(old, "_key", KEY)
    return old


@pytest.fixture(scope="module")
def warc(tmp_path_factory: pytest.TempPathFactory) -> tuple[Task, MarketRoute]:
    folder = tmp_path_factory.mktemp("guard")
    registry = load_registry(plugins=False)
    with SimServer(generate_world(preset("tiny")), day=15) as sim:
        adapter = registry.create("sim-table", Pseudonymizer(KEY), market="silkway")
        pages = crawl(sim.urls["silkway"], adapter, sim.clock.now, limit=25)
        route = MarketRoute("silkway", SIM_ADAPTERS["silkway"],
                            (sim.urls["silkway"].split("//", 1)[1],))
    write_warc(folder / "a.warc.gz", pages, NOW)
    (task,) = plan([folder / "a.warc.gz"], registry)
    return task, route


def ctx(tmp_path: Path, route: MarketRoute, pseudonymizer: Pseudonymizer,
        probe: str | None) -> Context:
    return Context(pseudonymizer=pseudonymizer, spool_dir=str(tmp_path), recorded_at=NOW,
                   routes=(route,), probe=probe)


def test_unchecked_skew_turns_vendor_pages_into_parser_errors(
        warc: tuple[Task, MarketRoute], tmp_path: Path) -> None:
    task, route = warc
    result = run_task(task, ctx(tmp_path, route, skewed(), None))
    assert result.error is None
    assert result.written.get("rejection:parser_error", 0) > 0
    assert "record:listing" not in result.written


def test_a_worker_that_cannot_make_the_writers_pseudonyms_fails_the_task(
        warc: tuple[Task, MarketRoute], tmp_path: Path) -> None:
    task, route = warc
    probe = probe_id(Pseudonymizer(KEY))
    broken = run_task(task, ctx(tmp_path, route, skewed(), probe))
    assert broken.error is not None and "another dnmwatch version" in broken.error
    assert not broken.spools
    other = run_task(task, ctx(tmp_path, route, Pseudonymizer(bytes(32)), probe))
    assert other.error is not None and "differ" in other.error
    fine = run_task(task, ctx(tmp_path, route, Pseudonymizer(KEY), probe))
    assert fine.error is None and fine.written["record:listing"] > 0


def test_dask_is_imported_only_when_a_cluster_is_used() -> None:
    code = ("import sys, dnmwatch.scale, dnmwatch.sources.extract\n"
            "print(sorted(m for m in ('dask', 'distributed') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout.strip()
    assert out == "[]"


def test_writer_memory_is_bounded_during_extraction_and_restored_after(tmp_path: Path) -> None:
    from dnmwatch.sources.writer import writer_limits
    from dnmwatch.store import Store

    def settings(store: Store) -> tuple[str, str]:
        return (store.fetchall("SELECT current_setting('memory_limit')")[0][0],
                store.fetchall("SELECT current_setting('threads')")[0][0])

    with Store.open(tmp_path / "data") as store:
        before = settings(store)
        with writer_limits(store, 64, 1):
            limit, threads = settings(store)
            assert limit in ("64.0 MiB", "61.0 MiB") and str(threads) == "1"
        assert settings(store) == before
