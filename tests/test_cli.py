"""The command line as a user drives it: real processes for the console script, real files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from _sim_helpers import stop_process
from dnmwatch import __version__
from dnmwatch.cli import main


def _cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dnmwatch", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_config_show_layers_command_line_over_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DNMWATCH_DATA_DIR", str(tmp_path / "from-env"))
    assert main(["config", "show"]) == 0
    assert str(tmp_path / "from-env") in capsys.readouterr().out
    assert main(["config", "show", "--data-dir", str(tmp_path / "from-cli")]) == 0
    shown = capsys.readouterr().out
    assert str(tmp_path / "from-cli") in shown and "from-env" not in shown


def test_config_errors_are_one_message_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('log_level = "INFO"\n[crawl]\ndelay_s = "slow"\nattempts = 0\n')
    monkeypatch.chdir(tmp_path)
    assert main(["config", "show", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "crawl.delay_s" in err and "crawl.attempts" in err
    assert "Traceback" not in err


def test_sim_generate_writes_truth(tmp_path: Path) -> None:
    result = _cli(
        "sim", "generate", "--seed", "3", "--scale", "tiny", "--out", "truth", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    transactions = pq.read_table(tmp_path / "truth" / "transactions.parquet")
    assert transactions.num_rows > 0
    assert (tmp_path / "truth" / "manifest.json").is_file()


def test_bad_scale_is_a_clear_error(tmp_path: Path) -> None:
    result = _cli("sim", "generate", "--scale", "huge", "--out", "t", cwd=tmp_path)
    assert result.returncode == 1
    assert "unknown scale" in result.stderr and "Traceback" not in result.stderr


def test_demo_generates_serves_and_stops(tmp_path: Path) -> None:
    result = _cli("demo", "--workdir", "w", "--scale", "tiny", "--no-keep-serving", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "w" / "truth" / "listings.parquet").is_file()
    assert "http://127.0.0.1:" in result.stdout
    assert "front page answered HTTP 200" in result.stdout


def test_serve_rejects_bad_fault_options(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sim", "serve", "--scale", "tiny", "--fault", "boom=2", "--downtime", "9-3"])
    assert code == 1
    err = capsys.readouterr().err
    assert "--fault 'boom=2'" in err and "--downtime '9-3'" in err


def test_sim_serve_answers_then_stops_on_sigterm(tmp_path: Path) -> None:
    import re
    import signal
    import urllib.request

    proc = subprocess.Popen(
        [sys.executable, "-m", "dnmwatch", "sim", "serve", "--scale", "tiny", "--day", "10"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    try:
        assert proc.stdout is not None
        seen = ""
        while "serving" not in seen:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else "server exited"
            seen += line
        urls = re.findall(r"http://127\.0\.0\.1:\d+", seen)
        assert len(urls) >= 4  # three markets and the clock control
        with urllib.request.urlopen(urls[0] + "/", timeout=10) as response:
            assert response.status == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        stop_process(proc)


def test_serve_a_subset_of_markets_by_engine_or_name() -> None:
    from dnmwatch.errors import SimulationError
    from dnmwatch.sim.cli import _choose_markets
    from dnmwatch.sim.generate import generate_world
    from dnmwatch.sim.model import preset
    from dnmwatch.sim.server import SimServer

    world = generate_world(preset("tiny"))
    assert _choose_markets(world, [], []) is None
    assert _choose_markets(world, ["minimal"], []) == ["gidra"]
    assert _choose_markets(world, ["table"], ["gidra"]) == ["silkway", "gidra"]
    with pytest.raises(SimulationError, match="no engine"):
        _choose_markets(world, ["holo"], [])
    with SimServer(world, markets=["gidra"]) as server:
        assert list(server.urls) == ["gidra"]
    with pytest.raises(SimulationError, match="no market nosuch"):
        SimServer(world, markets=["gidra", "nosuch"])


def test_a_served_subset_still_shows_claims_on_other_markets() -> None:
    """Vendor pages list the actor's accounts on markets that are not being served."""
    import urllib.request

    from dnmwatch.sim.generate import generate_world
    from dnmwatch.sim.model import preset
    from dnmwatch.sim.server import SimServer

    world = generate_world(preset("tiny"))
    with SimServer(world, day=10, markets=["silkway"]) as server:
        view = server.view("silkway")
        engine = server.engine("silkway")
        multi = [
            v
            for v in view.market.vendors.values()
            if len(server.index.accounts.get(v.actor, ())) > 1 and v.join <= view.day
        ]
        assert multi, "the tiny world has vendors on several markets"
        for vendor in multi[:3]:
            url = server.urls["silkway"] + engine.vendor_url(view, vendor.handle)
            with urllib.request.urlopen(url, timeout=10) as response:
                assert response.status == 200
                page = response.read().decode()
            others = {m for m, _ in server.index.accounts[vendor.actor]} - {"silkway"}
            assert any(m.capitalize() in page for m in others)


def test_every_command_help_is_reflowed_into_paragraphs() -> None:
    """Docstrings' hard line breaks made ragged help; each paragraph is one line after
    registration, for every command of every sub-app."""
    import typer as typer_mod

    from dnmwatch.cli import _register, app, reflow_help

    _register()
    seen = 0

    def check(t: typer_mod.Typer) -> None:
        nonlocal seen
        for command in t.registered_commands:
            if command.help:
                seen += 1
                assert all("\n" not in p for p in command.help.split("\n\n")), command.name
        for group in t.registered_groups:
            if group.typer_instance is not None:
                check(group.typer_instance)

    check(app)
    assert seen >= 20
    demo = typer_mod.Typer()

    @demo.command()
    def sample() -> None:
        """First line
        goes on.

        Second   paragraph."""

    reflow_help(demo)
    assert demo.registered_commands[0].help == "First line goes on.\n\nSecond paragraph."
