"""``dnmwatch crawl`` through Typer: exit statuses, the crawls table, --resume."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from _collect_config import write_config
from dnmwatch.collect.cli import register
from dnmwatch.collect.protocol import LinkSource
from dnmwatch.sim.server import GatePlan, ServerOptions, SimServer
from dnmwatch.sim.server.testworld import handmade_world
from dnmwatch.store import Store
from test_collect_support import GenericLinks, walk


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """test root"""

    def resolver(name: str) -> LinkSource:
        assert name == "generic"
        return GenericLinks()

    register(app, resolver)
    return app


def test_crawl_command_pauses_resumes_and_records(tmp_path: Path) -> None:
    data = tmp_path / "data"
    runner = CliRunner()
    options = ServerOptions(gates=GatePlan(captcha_every=30))
    with SimServer(handmade_world(), day=15, options=options) as sim:
        base = sim.urls["bazaar"]
        expected = walk_without_gates()
        cfg = write_config(tmp_path, base, "bazaar", "generic", 2, seeded=True)
        args = ["crawl", "bazaar", "--config", str(cfg), "--data-dir", str(data)]
        first = runner.invoke(_app(), args)
        assert first.exit_code == 75, first.output
        assert "--resume" in first.output
        nothing = runner.invoke(_app(), ["crawl", "bazaar", "--config", str(cfg), "--data-dir",
                                         str(tmp_path / "empty"), "--resume"])
        assert nothing.exit_code != 0
        sim.options = ServerOptions()
        for app in sim.apps.values():
            app.gates.plan = GatePlan()
        second = runner.invoke(_app(), [*args, "--resume"])
        assert second.exit_code == 0, second.output
        assert "finished" in second.output
    with Store.open(data, read_only=True) as store:
        rows = store.fetchall("SELECT market, status, pages_ok, pages_failed, counters "
                              "FROM crawls")
    assert len(rows) == 1
    market, status, pages_ok, pages_failed, counters = rows[0]
    assert (market, status, pages_failed) == ("bazaar", "finished", 0)
    assert pages_ok == expected
    assert "gate:captcha" in counters


def walk_without_gates() -> int:
    """Number of pages reachable with the gates off (the gates change nothing else)."""
    with SimServer(handmade_world(), day=15) as clean:
        return len(walk(clean.urls["bazaar"]))
