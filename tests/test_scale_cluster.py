"""Extraction on a local Dask cluster of 2 worker processes (issue 10): the store holds the same
rows, row for row, as the single-process run; a poison file (one that raises in its task, one
that kills its worker) is retried, then quarantined with its reason, and the run goes on."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason="dask.distributed not installed (extra 'cluster')")

import cloudpickle  # type: ignore[import-untyped]

from _extract_support import KEY, SIM_ADAPTERS, crawl, write_warc
from dnmwatch.adapters.registry import load_registry
from dnmwatch.pseudonym import Pseudonymizer
from dnmwatch.sim.generate import generate_world
from dnmwatch.sim.model import preset
from dnmwatch.sim.server import SimServer
from dnmwatch.sources.extract import extract, plan
from dnmwatch.sources.worker import Context, MarketRoute, Task, TaskResult, run_task
from dnmwatch.store import Store

# Workers unpickle the task function; this module is not importable there, so ship it whole.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
TABLES = ("listing_observations", "vendor_observations", "feedback_observations", "pages",
          "rejections", "markets")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[MarketRoute]]:
    """Four small WARC files of simulator pages (two markets, two captures each)."""
    folder = tmp_path_factory.mktemp("warcs")
    world = generate_world(preset("tiny"))
    registry = load_registry(plugins=False)
    routes = []
    with SimServer(world, day=15) as sim:
        for market in ("silkway", "bazaar"):
            adapter = registry.create(SIM_ADAPTERS[market], Pseudonymizer(KEY), market=market)
            pages = crawl(sim.urls[market], adapter, sim.clock.now, limit=60)
            for n in range(2):
                write_warc(folder / f"{market}-{n}.warc.gz", pages, sim.clock.now,
                           info={"dnmwatch-market": market, "dnmwatch-crawl-id": f"c{n}"})
            routes.append(MarketRoute(market, SIM_ADAPTERS[market],
                                      (sim.urls[market].split("//", 1)[1],)))
    return folder, routes


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    from dnmwatch.scale import LocalDask

    with LocalDask(2) as local:
        yield local


def snapshot(store: Store) -> dict[str, list[tuple[object, ...]]]:
    return {t: store.fetchall(f"SELECT * FROM {t} ORDER BY ALL") for t in TABLES}


def poisoned(task: Task, ctx: Context) -> TaskResult:
    """``run_task``, except on the poison files: one raises (a reader bug), one kills its
    worker process outright (a crash in C code, an out-of-memory kill)."""
    name = Path(task.path).name
    if name.startswith("poison-raise"):
        raise RuntimeError("reader bug on this file")
    if name.startswith("poison-kill"):
        os._exit(3)
    return run_task(task, ctx)


def test_cluster_rows_identical_to_single_process(inputs: tuple[Path, list[MarketRoute]],
                                                  cluster: object, tmp_path: Path) -> None:
    from dnmwatch.scale import LocalDask

    assert isinstance(cluster, LocalDask)
    folder, routes = inputs
    tasks = plan([folder], load_registry(plugins=False))
    assert len(tasks) == 4
    with Store.open(tmp_path / "one") as store:
        single = extract(store, tasks, key=KEY, routes=routes, workers=1, clock=lambda: NOW)
        want = snapshot(store)
    with Store.open(tmp_path / "dask") as store:
        spread = extract(store, tasks, key=KEY, routes=routes, clock=lambda: NOW,
                         runner=cluster.runner())
        got = snapshot(store)
    assert not single.failed and not spread.failed
    assert want["listing_observations"] and want["feedback_observations"]
    assert got == want
    assert spread.records == single.records and spread.pages == single.pages


def test_poison_files_are_quarantined_and_the_run_goes_on(
        inputs: tuple[Path, list[MarketRoute]], cluster: object, tmp_path: Path) -> None:
    from dnmwatch.scale import LocalDask

    assert isinstance(cluster, LocalDask)
    folder, routes = inputs
    good = sorted(folder.glob("*.warc.gz"))
    poison = tmp_path / "in"
    poison.mkdir()
    for name in ("poison-raise.warc.gz", "poison-kill.warc.gz"):
        (poison / name).write_bytes(good[0].read_bytes())
    tasks = plan([*good, poison], load_registry(plugins=False))
    with Store.open(tmp_path / "data") as store:
        summary = extract(store, tasks, key=KEY, routes=routes, clock=lambda: NOW,
                          runner=cluster.runner(fn=poisoned))
        held = store.fetchall("SELECT source, detail FROM rejections "
                              "WHERE reason = 'quarantined' ORDER BY 1")
        loaded = {r[0] for r in store.fetchall("SELECT DISTINCT source FROM pages")}
    assert [Path(s).name for s, _d in held] == ["poison-kill.warc.gz", "poison-raise.warc.gz"], held
    details = dict((Path(s).name, d) for s, d in held)
    assert "KilledWorker" in details["poison-kill.warc.gz"]
    assert "reader bug" in details["poison-raise.warc.gz"]
    assert loaded == {str(p) for p in good}, "every other file is extracted"
    assert summary.rejections["quarantined"] == 2 and len(summary.failed) == 2
    lines = (tmp_path / "data" / "quarantine" / "quarantine.jsonl").read_text().splitlines()
    assert sorted(Path(json.loads(x)["source"]).name for x in lines) == [
        "poison-kill.warc.gz", "poison-raise.warc.gz"]


def test_cli_extract_joins_a_scheduler(inputs: tuple[Path, list[MarketRoute]], cluster: object,
                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import typer
    from typer.testing import CliRunner

    from dnmwatch.privacy.audit import AuditLog
    from dnmwatch.privacy.keys import KeyStore
    from dnmwatch.scale import LocalDask
    from dnmwatch.scale.cli import register

    assert isinstance(cluster, LocalDask)
    folder, _routes = inputs
    monkeypatch.setenv("DNMWATCH_PRIVACY__KEY_FILE", str(tmp_path / "secret" / "key"))
    KeyStore(tmp_path / "secret" / "key", tmp_path / "data",
             AuditLog.for_data_dir(tmp_path / "data")).init()
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    files = [str(p) for p in sorted(folder.glob("silkway-*.warc.gz"))]
    result = CliRunner().invoke(app, [
        "extract", *files, "--adapter", "sim-table", "--market", "silkway",
        "--scheduler", cluster.cluster.scheduler_address, "--spool-dir", str(tmp_path),
        "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 0, result.output
    assert any(line.startswith("extracted 2 file(s)") for line in result.output.splitlines())
    with Store.open(tmp_path / "data", read_only=True) as store:
        sources = store.fetchall("SELECT DISTINCT source FROM pages ORDER BY 1")
    assert [s for (s,) in sources] == files
    assert not list(tmp_path.glob(".extract-*")), "the spool folder is removed"


def test_cli_extract_workers_starts_a_local_cluster(inputs: tuple[Path, list[MarketRoute]],
                                                    tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """``--workers 2`` with Dask installed runs on a local Dask cluster it starts and stops
    (cluster_scope), and stores what a single-process run of the same files stores."""
    import typer
    from typer.testing import CliRunner

    from dnmwatch.privacy.audit import AuditLog
    from dnmwatch.privacy.keys import KeyStore
    from dnmwatch.scale.cli import cluster_scope, register

    with cluster_scope(None, 2) as runner:
        assert runner is not None, "a local Dask cluster, not the process pool"
    folder, _routes = inputs
    files = [str(p) for p in sorted(folder.glob("bazaar-*.warc.gz"))]
    monkeypatch.setenv("DNMWATCH_PRIVACY__KEY_FILE", str(tmp_path / "secret" / "key"))
    KeyStore(tmp_path / "secret" / "key", tmp_path / "one",
             AuditLog.for_data_dir(tmp_path / "one")).init()
    snapshots = []
    for name, extra in (("one", []), ("two", ["--workers", "2"])):
        data = tmp_path / name
        app = typer.Typer()
        register(app)
        app.command("noop")(lambda: None)
        result = CliRunner().invoke(app, ["extract", *files, "--adapter", "sim-cards",
                                          "--market", "bazaar", *extra, "--data-dir", str(data)])
        assert result.exit_code == 0, result.output
        with Store.open(data, read_only=True) as store:
            rows = snapshot(store)
        snapshots.append(rows)
    assert snapshots[0]["listing_observations"], "the files hold listings"
    assert snapshots[0] == snapshots[1]
