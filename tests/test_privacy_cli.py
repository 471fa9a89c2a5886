"""The safeguard commands as a user types them: keys, audit, export, purge."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from dnmwatch.privacy.cli import register
from dnmwatch.privacy.export import TABLES
from dnmwatch.privacy.keys import KeyFileError


@pytest.fixture
def app() -> typer.Typer:
    root = typer.Typer(add_completion=False)

    @root.callback()
    def _root() -> None:
        """Test root."""

    register(root)
    return root


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    for name in list(os.environ):
        if name.startswith("DNMWATCH_"):
            monkeypatch.delenv(name)
    key = tmp_path / "keys" / "dnm.key"
    data = tmp_path / "data"
    monkeypatch.setenv("DNMWATCH_PRIVACY__KEY_FILE", str(key))
    monkeypatch.setenv("DNMWATCH_DATA_DIR", str(data))
    return {"key": key, "data": data, "tmp": tmp_path}


def test_keys_init_show_path_rotate_and_audit(app: typer.Typer, env: dict[str, Path]) -> None:
    result = CliRunner().invoke(app, ["keys", "init"])
    assert result.exit_code == 0, result.output
    assert env["key"].exists() and oct(env["key"].stat().st_mode & 0o777) == "0o600"
    key_hex = env["key"].read_text().strip()
    assert key_hex not in result.output

    again = CliRunner().invoke(app, ["keys", "init"])
    assert isinstance(again.exception, KeyFileError)

    shown = CliRunner().invoke(app, ["keys", "show-path"])
    assert shown.output.strip() == str(env["key"])

    rotated = CliRunner().invoke(app, ["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    assert len(list(env["key"].parent.glob("dnm.key.old-*"))) == 1

    verify = CliRunner().invoke(app, ["audit", "verify"])
    assert verify.exit_code == 0 and "2 entries" in verify.output
    show = CliRunner().invoke(app, ["audit", "show", "--last", "1"])
    assert json.loads(show.output)["action"] == "key_rotate"
    head = CliRunner().invoke(app, ["audit", "show", "--head"])
    assert json.loads(head.output)["seq"] == 2


def test_audit_verify_fails_on_tampering(app: typer.Typer, env: dict[str, Path]) -> None:
    CliRunner().invoke(app, ["keys", "init"])
    CliRunner().invoke(app, ["keys", "rotate"])
    log = env["data"] / "audit.jsonl"
    log.write_text(log.read_text().replace("key_init", "key_use"))
    result = CliRunner().invoke(app, ["audit", "verify"])
    assert result.exit_code == 1 and "seq 1" in result.output


def test_export_on_a_fresh_store_and_purge_dry_run(app: typer.Typer, env: dict[str, Path]) -> None:
    out = env["tmp"] / "release"
    result = CliRunner().invoke(app, ["export", "--format", "csv", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "datapackage.json").exists()
    assert len(list(out.glob("*.csv"))) == len(TABLES)

    dry = CliRunner().invoke(app, ["purge"])
    assert dry.exit_code == 0 and "dry run" in dry.output
    applied = CliRunner().invoke(app, ["purge", "--apply"])
    assert applied.exit_code == 0 and "purged 0 files" in applied.output
    actions = [
        json.loads(x)["action"] for x in (env["data"] / "audit.jsonl").read_text().splitlines()
    ]
    assert actions == ["export", "purge"]

    bad = CliRunner().invoke(app, ["export", "--format", "xlsx", "-o", str(env["tmp"] / "x")])
    assert bad.exit_code != 0
