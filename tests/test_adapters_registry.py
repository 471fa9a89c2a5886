"""The adapter registry (built-ins + real entry points) and the ``adapters``/``parse`` commands.

Outside adapters are installed for real: a distribution's ``.dist-info`` with an
``entry_points.txt`` is written to a temporary folder put on ``sys.path``, exactly what pip
leaves behind, so ``importlib.metadata`` discovers it the way it would in production.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from dnmwatch.adapters.cli import register
from dnmwatch.adapters.registry import AdapterRegistry, load_registry
from dnmwatch.adapters.sim_table import SimTableAdapter
from dnmwatch.errors import ConfigError
from dnmwatch.privacy.audit import AuditLog
from dnmwatch.privacy.keys import KeyStore
from dnmwatch.sim.generate import generate_world
from dnmwatch.sim.model import World, preset
from dnmwatch.sim.server import SimServer

BUILTIN = {
    "sim-table",
    "sim-cards",
    "sim-minimal",
    "empire",
    "cryptonia",
    "dream",
    "apollon",
    "cypher",
    "whitehousemarket",
    "agora",
    "alphabay",
    "matanga",
    "telegram-channel",
    "sim-shop",
    "sim-forum",
}


def _install_plugin(
    root: Path, dist: str, entries: dict[str, str], module: str, source: str
) -> None:
    (root / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = root / f"{dist}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    lines = "\n".join(f"{name} = {target}" for name, target in entries.items())
    (info / "entry_points.txt").write_text(f"[dnmwatch.adapters]\n{lines}\n")


PLUGIN = """
    from dnmwatch.adapters import MarketAdapter

    class OnionAdapter(MarketAdapter):
        name = "onionmarket"
        version = "2.3"
        description = "an outside market"
        hosts = ("abcdefgh.onion",)

    class ClashAdapter(MarketAdapter):
        name = "sim-table"
"""


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("dnmwatch_test_plugin")]:
        del sys.modules[name]


def test_builtins_are_registered_with_versions() -> None:
    registry = load_registry(plugins=False)
    assert set(registry.names()) == BUILTIN
    assert all(registry.get(n).version for n in registry.names())
    with pytest.raises(ConfigError, match=r"unknown adapter 'nope'.*sim-cards"):
        registry.get("nope")


def test_duplicate_names_are_an_error() -> None:
    registry = AdapterRegistry([SimTableAdapter])
    with pytest.raises(ConfigError, match="duplicate adapter name 'sim-table'"):
        registry.register(SimTableAdapter)


def test_entry_point_adapter_is_found_and_looked_up_by_url(plugin_dir: Path) -> None:
    _install_plugin(
        plugin_dir,
        "onion-plugin",
        {"onionmarket": "dnmwatch_test_plugin_a:OnionAdapter"},
        "dnmwatch_test_plugin_a",
        PLUGIN,
    )
    registry = load_registry()
    assert "onionmarket" in registry and set(registry.names()) >= BUILTIN
    assert registry.get("onionmarket").version == "2.3"
    found = registry.for_url("http://ABCDEFGH.onion/listing/3")
    assert found is not None and found.name == "onionmarket"
    assert registry.for_url("http://elsewhere.onion/") is None
    assert "onion-plugin" in registry.origin("onionmarket")


def test_entry_point_clashing_with_a_builtin_is_an_error(plugin_dir: Path) -> None:
    _install_plugin(
        plugin_dir,
        "clash-plugin",
        {"sim-table": "dnmwatch_test_plugin_b:ClashAdapter"},
        "dnmwatch_test_plugin_b",
        PLUGIN,
    )
    with pytest.raises(ConfigError, match="duplicate adapter name 'sim-table'"):
        load_registry()


def test_entry_point_named_unlike_its_adapter_is_an_error(plugin_dir: Path) -> None:
    _install_plugin(
        plugin_dir,
        "odd-plugin",
        {"othername": "dnmwatch_test_plugin_c:OnionAdapter"},
        "dnmwatch_test_plugin_c",
        PLUGIN,
    )
    with pytest.raises(ConfigError, match="must be named like the adapter"):
        load_registry()


def test_broken_entry_point_is_a_config_error(plugin_dir: Path) -> None:
    _install_plugin(
        plugin_dir,
        "broken-plugin",
        {"broken": "dnmwatch_test_plugin_d:Missing"},
        "dnmwatch_test_plugin_d",
        PLUGIN,
    )
    with pytest.raises(ConfigError, match="cannot load adapter"):
        load_registry()


# --- the command line ---------------------------------------------------------------------------


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Root, so that sub-commands keep their names."""

    register(app)
    return app


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(preset("tiny"))


def test_adapters_command_lists_names_and_versions() -> None:
    result = CliRunner().invoke(_app(), ["adapters"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert {line.split()[0] for line in lines} >= BUILTIN
    registry = load_registry(plugins=False)
    versions = {name: registry.get(name).version for name in BUILTIN}
    assert all(
        line.split()[1] == versions[line.split()[0]] for line in lines if line.split()[0] in BUILTIN
    )


def test_parse_prints_the_contract_json_lines(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "secret" / "pseudonym.key"
    monkeypatch.setenv("DNMWATCH_PRIVACY__KEY_FILE", str(key_file))
    KeyStore(key_file, tmp_path / "data", AuditLog.for_data_dir(tmp_path / "data")).init()
    with SimServer(world, day=15) as sim:
        view = sim.view("silkway")
        listing = next(
            x for x in view.market.listings.values() if x.live(view.day) and view.feedback(x)
        )
        engine = sim.engine("silkway")
        pages = {
            "listing": engine.listing_url(view, listing),
            "feedback": engine.feedback_url(view, listing),
            "vendor": engine.vendor_url(view, listing.vendor),
        }
        for kind, path in pages.items():
            html = engine.dispatch(path.split("?")[0], {}, view).html
            (tmp_path / f"{kind}.html").write_text(html, encoding="utf-8")
    url = f"http://127.0.0.1:1{pages['listing']}"
    args = [
        "parse",
        str(tmp_path / "listing.html"),
        "--adapter",
        "sim-table",
        "--url",
        url,
        "--captured-at",
        "2019-09-16T12:00:00",
        "--market",
        "silkway",
        "--data-dir",
        str(tmp_path / "data"),
    ]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert rows[0] == {
        "kind": "page",
        "source": str(tmp_path / "listing.html"),
        "page_type": "listing",
    }
    assert rows[1]["kind"] == "listing"
    assert {
        "listing_id",
        "title",
        "vendor_id",
        "price",
        "currency",
        "ships_from",
        "ships_to",
    } <= set(rows[1])
    assert rows[1]["listing_id"] == listing.listing_id and rows[1]["title"] == listing.title
    assert rows[1]["vendor_id"].startswith("v_") and listing.vendor not in result.output
    assert key_file.exists()
    listing_vendor = rows[1]["vendor_id"]

    files = [str(tmp_path / f"{k}.html") for k in ("feedback", "vendor")]
    result = CliRunner().invoke(
        _app(), ["parse", *files, "--adapter", "sim-table", "--data-dir", str(tmp_path / "data")]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    heads = [r for r in rows if r["kind"] == "page"]
    assert [h["page_type"] for h in heads] == ["feedback", "vendor"]
    feedback = [r for r in rows if r["kind"] == "feedback"]
    assert feedback and all(
        {"listing_id", "vendor_id", "rating", "text", "posted", "captured_at"} <= set(r)
        for r in feedback
    )
    assert "buyer" not in json.dumps(feedback)
    vendor = next(r for r in rows if r["kind"] == "vendor")
    assert vendor["vendor_id"] == listing_vendor  # same key file, same pseudonym
    assert len(vendor["pgp_fingerprint"]) == 40


def test_parse_refuses_without_a_usable_adapter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DNMWATCH_PRIVACY__KEY_FILE", str(tmp_path / "k" / "key"))
    KeyStore(tmp_path / "k" / "key", tmp_path / "d", AuditLog.for_data_dir(tmp_path / "d")).init()
    page = tmp_path / "p.html"
    page.write_text("<p>hello</p>")
    result = CliRunner().invoke(_app(), ["parse", str(page)])
    assert result.exit_code != 0 and isinstance(result.exception, ConfigError)
    result = CliRunner().invoke(
        _app(), ["parse", str(page), "--adapter", "sim-cards", "--data-dir", str(tmp_path / "d")]
    )
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert rows[0]["page_type"] == "unknown"
    assert rows[1] == {**rows[1], "kind": "rejection", "reason": "unknown_page"}
