"""Settings: layering, per-market overrides, environment parsing, secrets, error reporting."""

from __future__ import annotations

import re
import tomllib
import types
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from dnmwatch.errors import ConfigError, SecretError
from dnmwatch.settings import (
    CrawlSettings,
    SecretRef,
    Settings,
    format_settings,
    load_settings,
)

DOCS = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"

MARKET_TOML = """
[markets.sim_a]
adapter = "sim"
hosts = ["127.0.0.1:8001", "AbCdEf.onion"]
seeds = ["http://127.0.0.1:8001/index", "http://abcdef.onion/x"]
password = "env:SIM_A_PASS"
cookie = "file:{cookie}"

[markets.sim_a.crawl]
delay_s = 1.0
attempts = 2

[markets.sim_b]
adapter = "sim"
hosts = ["127.0.0.1:8002"]
"""


def write(tmp_path: Path, text: str, name: str = "dnmwatch.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(
    path: Path | None = None,
    env: dict[str, str] | None = None,
    overrides: dict[str, object] | None = None,
) -> Settings:
    return load_settings(path, env=env or {}, overrides=overrides)


def test_defaults_without_any_layer() -> None:
    s = load()
    assert s.data_dir == Path("dnmwatch-data")
    assert s.proxy.url == "socks5h://127.0.0.1:9050"
    assert s.crawl.concurrency == 1
    assert s.crawl.attempts == 5
    assert s.crawl.max_body_bytes == 8 * 1024 * 1024
    assert s.allow_direct_loopback is False
    assert s.privacy.key_file == Path("~/.config/dnmwatch/pseudonym.key").expanduser()
    assert s.markets == {}


def test_each_layer_beats_the_one_before(tmp_path: Path) -> None:
    cfg = write(tmp_path, 'data_dir = "/from/file"\nlog_level = "warning"\n[crawl]\ndelay_s = 7\n')
    assert load(cfg).data_dir == Path("/from/file")
    assert load(cfg).log_level == "WARNING"

    env = {"DNMWATCH_DATA_DIR": "/from/env", "DNMWATCH_CRAWL__DELAY_S": "8.5"}
    s = load(cfg, env)
    assert (s.data_dir, s.crawl.delay_s, s.log_level) == (Path("/from/env"), 8.5, "WARNING")

    s = load_settings(cfg, env=env, overrides={"data_dir": "/from/cli", "crawl.delay_s": 0})
    assert (s.data_dir, s.crawl.delay_s) == (Path("/from/cli"), 0.0)


def test_config_file_from_environment(tmp_path: Path) -> None:
    cfg = write(tmp_path, "log_level = 'error'\n")
    assert load(env={"DNMWATCH_CONFIG": str(cfg)}).log_level == "ERROR"


def test_per_market_overrides_and_cli_wins_over_both(tmp_path: Path) -> None:
    cfg = write(tmp_path, "[crawl]\ndelay_s = 5\njitter_s = 0.5\n" + MARKET_TOML.format(cookie="c"))
    s = load(cfg)
    a, b = s.for_market("sim_a"), s.for_market("sim_b")
    assert isinstance(a, CrawlSettings)
    assert (a.delay_s, a.attempts, a.jitter_s) == (1.0, 2, 0.5)
    assert (b.delay_s, b.attempts, b.jitter_s) == (5.0, 5, 0.5)

    # Environment sits below the per-market table: it changes the default only.
    s = load(cfg, {"DNMWATCH_CRAWL__DELAY_S": "9"})
    assert (s.for_market("sim_a").delay_s, s.for_market("sim_b").delay_s) == (1.0, 9.0)

    # The command line beats the market's own value.
    s = load(cfg, overrides={"crawl.delay_s": 0.25})
    assert (s.for_market("sim_a").delay_s, s.for_market("sim_b").delay_s) == (0.25, 0.25)
    assert s.for_market("sim_a").attempts == 2

    with pytest.raises(ConfigError, match=r"unknown market 'nope'.*sim_a, sim_b"):
        s.for_market("nope")


def test_market_defaults_and_host_normalisation(tmp_path: Path) -> None:
    s = load(write(tmp_path, MARKET_TOML.format(cookie="c")))
    a = s.market("sim_a")
    assert a.socks_username == "sim_a"
    assert a.hosts == ["127.0.0.1:8001", "abcdef.onion"]
    assert s.market("sim_b").start_urls() == ["http://127.0.0.1:8002/"]
    assert a.start_urls() == ["http://127.0.0.1:8001/index", "http://abcdef.onion/x"]


def test_environment_nested_and_json_values() -> None:
    env = {
        "DNMWATCH_MARKETS__SIM_A__ADAPTER": "sim",
        "DNMWATCH_MARKETS__SIM_A__HOSTS": '["127.0.0.1:8001"]',
        "DNMWATCH_MARKETS__SIM_A__CRAWL__CONCURRENCY": "3",
        "DNMWATCH_ALLOW_DIRECT_LOOPBACK": "true",
        "DNMWATCH_PROXY__URL": "socks5h://10.0.0.2:9150",
        "DNMWATCH_SHARED_DIR": "/not/a/setting",
        "DNMWATCH_SIM_A_PASSWORD": "a secret variable, not a setting",
        "OTHER": "ignored",
    }
    s = load(env=env)
    assert s.market("sim_a").hosts == ["127.0.0.1:8001"]
    assert s.for_market("sim_a").concurrency == 3
    assert s.allow_direct_loopback is True
    assert s.proxy.url == "socks5h://10.0.0.2:9150"
    assert s.direct_allowed("127.0.0.1:8001") and s.direct_allowed("127.5.6.7")
    assert not s.direct_allowed("10.0.0.1:80") and not s.direct_allowed("localhost:80")
    assert not load().direct_allowed("127.0.0.1:8001")


def test_environment_errors_name_the_variable() -> None:
    env = {
        "DNMWATCH_CRAWL__CONCURRENCY": "9",
        "DNMWATCH_MARKETS__X__HOSTS": "[not json",
        "DNMWATCH_DATADIR": "/typo",
    }
    with pytest.raises(ConfigError) as info:
        load(env=env)
    problems = info.value.problems
    assert len(problems) == 3
    assert any("crawl.concurrency" in p and "DNMWATCH_CRAWL__CONCURRENCY" in p for p in problems)
    assert any("DNMWATCH_MARKETS__X__HOSTS" in p and "invalid JSON" in p for p in problems)
    assert any("DNMWATCH_DATADIR" in p and "did you mean data_dir" in p for p in problems)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("socks5://127.0.0.1:9050", "DNS leak"),
        ("http://127.0.0.1:8118", "socks5h"),
        ("socks5h://user:pw@127.0.0.1:9050", "no credentials"),
        ("socks5h://127.0.0.1", "host and a port"),
    ],
)
def test_proxy_must_resolve_names_remotely(url: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(fragment)) as info:
        load(overrides={"proxy.url": url})
    assert info.value.problems[0].startswith("proxy.url:")


def test_secret_references_resolve(tmp_path: Path) -> None:
    secret_file = tmp_path / "cookie.txt"
    secret_file.write_text("sid=abc123\n", encoding="utf-8")
    s = load(write(tmp_path, MARKET_TOML.format(cookie=secret_file)))
    market = s.market("sim_a")
    assert market.password is not None and market.cookie is not None
    assert market.password.resolve({"SIM_A_PASS": "pa55"}) == "pa55"
    assert market.cookie.resolve() == "sid=abc123"
    with pytest.raises(SecretError, match=r"SIM_A_PASS.*not set"):
        market.password.resolve({})
    with pytest.raises(SecretError, match="empty"):
        market.password.resolve({"SIM_A_PASS": ""})
    with pytest.raises(SecretError, match="cannot read"):
        SecretRef(f"file:{tmp_path / 'missing'}").resolve()


def test_resolved_secrets_never_shown(tmp_path: Path) -> None:
    secret_file = tmp_path / "cookie.txt"
    secret_file.write_text("sid=VERYSECRET\n", encoding="utf-8")
    s = load(write(tmp_path, MARKET_TOML.format(cookie=secret_file)))
    market = s.market("sim_a")
    assert market.cookie is not None and market.cookie.resolve() == "sid=VERYSECRET"
    shown = [repr(s), str(s), format_settings(s), s.model_dump_json(), repr(market.cookie)]
    assert all("VERYSECRET" not in text for text in shown)
    assert "env:SIM_A_PASS" in format_settings(s)
    assert f"file:{secret_file}" in repr(s)


def test_literal_secret_refused_without_echo(tmp_path: Path) -> None:
    cfg = write(tmp_path, MARKET_TOML.replace('"env:SIM_A_PASS"', '"hunter2"').format(cookie="c"))
    with pytest.raises(ConfigError) as info:
        load(cfg)
    assert info.value.problems == [
        "markets.sim_a.password: secrets must be references ('env:NAME' or 'file:PATH'), "
        "not literal values"
    ]
    assert "hunter2" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_all_errors_reported_at_once(tmp_path: Path) -> None:
    cfg = write(
        tmp_path,
        """
[proxy]
url = "socks5://127.0.0.1:9050"
[crawl]
concurrency = 8
[markets.m]
adapter = "a"
hosts = ["m.onion"]
password = "plaintext"
""",
    )
    with pytest.raises(ConfigError) as info:
        load(cfg)
    locations = sorted(p.split(":", 1)[0] for p in info.value.problems)
    assert locations == ["crawl.concurrency", "markets.m.password", "proxy.url"]
    assert str(info.value).startswith("3 configuration errors:")


def test_unknown_keys_refused_everywhere(tmp_path: Path) -> None:
    text = "colour = 'blue'\n[crawl]\ndelay = 1\n[markets.m]\nadapter='a'\nhosts=['m.onion']\n"
    cfg = write(tmp_path, text + "x=1\n")
    with pytest.raises(ConfigError) as info:
        load(cfg, overrides={"proxy.port": 1})
    assert sorted(info.value.problems) == [
        "colour: unknown key",
        "crawl.delay: unknown key",
        "markets.m.x: unknown key",
        "proxy.port: unknown key (from command line proxy.port)",
    ]


def test_bad_toml_reports_line(tmp_path: Path) -> None:
    cfg = write(tmp_path, 'data_dir = "x"\n[crawl\ndelay_s = 1\n')
    with pytest.raises(ConfigError, match=r"invalid TOML.*line 2") as info:
        load(cfg, env={"DNMWATCH_CRAWL__ATTEMPTS": "[1"})
    assert len(info.value.problems) == 2  # the environment is still checked
    with pytest.raises(ConfigError, match="cannot read"):
        load(tmp_path / "absent.toml")


def test_seed_hosts_must_be_market_hosts(tmp_path: Path) -> None:
    cfg = write(
        tmp_path,
        "[markets.m]\nadapter='a'\nhosts=['m.onion']\n"
        "seeds=['http://m.onion/ok', 'http://evil.onion/', 'ftp://m.onion/']\n",
    )
    with pytest.raises(ConfigError) as info:
        load(cfg)
    (problem,) = info.value.problems
    assert problem.startswith("markets.m.seeds:")
    assert "'http://evil.onion/' is not on one of this market's hosts" in problem
    assert "'ftp://m.onion/' is not an http(s) URL" in problem
    assert "m.onion/ok" not in problem


def test_market_requirements(tmp_path: Path) -> None:
    cfg = write(tmp_path, "[markets.Bad__Name]\nhosts=['http://x.onion/path']\n")
    with pytest.raises(ConfigError) as info:
        load(cfg)
    text = "\n".join(info.value.problems)
    assert "markets.Bad__Name.adapter: required key is missing" in text
    assert "markets.Bad__Name.hosts: hosts are bare host names" in text


def test_key_file_must_live_outside_data_dir(tmp_path: Path) -> None:
    over = {"data_dir": tmp_path / "data", "privacy.key_file": tmp_path / "data" / "k.key"}
    with pytest.raises(ConfigError, match="outside data_dir"):
        load_settings(env={}, overrides=over)
    over["privacy.key_file"] = tmp_path / "k.key"
    assert load_settings(env={}, overrides=over).privacy.key_file == tmp_path / "k.key"


def test_format_settings_round_trips(tmp_path: Path) -> None:
    s = load(write(tmp_path, MARKET_TOML.format(cookie="c")), overrides={"crawl.delay_s": 2})
    text = format_settings(s)
    again = load(write(tmp_path, text, "again.toml"))
    assert again == s
    assert tomllib.loads(text)["markets"]["sim_a"]["password"] == "env:SIM_A_PASS"


# --------------------------------------------------------------------------- documentation


def _models_in(annotation: object) -> list[tuple[str, type[BaseModel]]]:
    """(path suffix, model) pairs reachable from a field annotation."""
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [("", annotation)]
    if origin is dict:
        _, value = typing.get_args(annotation)
        return [(".<name>" + suffix, m) for suffix, m in _models_in(value)]
    if origin in (typing.Union, types.UnionType):
        return [pair for arg in typing.get_args(annotation) for pair in _models_in(arg)]
    return []


def documented_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys: list[str] = []
    for name, field in model.model_fields.items():
        dotted = f"{prefix}{name}"
        keys.append(dotted)
        for suffix, sub in _models_in(field.annotation):
            keys += documented_keys(sub, f"{dotted}{suffix}.")
    return keys


def test_every_key_is_documented() -> None:
    doc = DOCS.read_text(encoding="utf-8")
    keys = documented_keys(Settings)
    assert "markets.<name>.crawl.delay_s" in keys and "proxy.url" in keys
    missing = [k for k in keys if f"`{k}`" not in doc]
    assert not missing, f"keys missing from docs/configuration.md: {missing}"
