"""``dnmwatch serve`` and ``dnmwatch users``: loopback only unless asked, accounts managed."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from dnmwatch.errors import ConfigError
from dnmwatch.privacy.audit import AuditLog
from dnmwatch.web.cli import is_loopback, register, serve
from dnmwatch.web.users import UserDB


@pytest.fixture()
def app() -> typer.Typer:
    root = typer.Typer()

    @root.callback()
    def _root() -> None:
        """test root"""

    register(root)
    return root


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("127.0.0.2", True),
        ("0.0.0.0", False),
        ("192.168.1.4", False),
        ("example.org", False),
        ("::", False),
    ],
)
def test_loopback_detection(host: str, ok: bool) -> None:
    assert is_loopback(host) is ok


def test_serve_refuses_a_public_address_without_allow_remote(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--allow-remote"):
        serve(host="0.0.0.0", data_dir=tmp_path)


def test_users_add_list_remove(app: typer.Typer, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"DNMWATCH_NEW_PASSWORD": "a long enough password"}
    added = runner.invoke(
        app, ["users", "add", "ana", "--role", "analyst", "--data-dir", str(tmp_path)], env=env
    )
    assert added.exit_code == 0, added.output
    again = runner.invoke(app, ["users", "add", "ana", "--data-dir", str(tmp_path)], env=env)
    assert again.exit_code != 0
    bad = runner.invoke(
        app, ["users", "add", "bob", "--role", "root", "--data-dir", str(tmp_path)], env=env
    )
    assert bad.exit_code != 0
    listed = runner.invoke(app, ["users", "list", "--data-dir", str(tmp_path)])
    assert listed.output.startswith("ana\tanalyst\t") and "argon2" not in listed.output
    assert UserDB.for_data_dir(tmp_path).verify("ana", "a long enough password") is not None
    removed = runner.invoke(app, ["users", "remove", "ana", "--data-dir", str(tmp_path)])
    assert removed.exit_code == 0 and UserDB.for_data_dir(tmp_path).list() == []
    actions = [e["action"] for e in AuditLog.for_data_dir(tmp_path).entries()]
    assert actions == ["user_add", "user_remove"]
    assert "a long enough password" not in (tmp_path / "audit.jsonl").read_text()


def test_users_add_reads_the_password_from_stdin(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["users", "add", "vi", "--password-stdin", "-", "--data-dir", str(tmp_path)],
        input="another long password\n",
    )
    assert result.exit_code == 0, result.output
    assert UserDB.for_data_dir(tmp_path).verify("vi", "another long password") is not None
