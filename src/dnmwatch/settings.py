"""The one typed settings model of dnmwatch, its layers and its secret references.

Why one model: every knob is declared here once, typed, and documented in
``docs/configuration.md`` (scrapy settings, datasette ``Setting``); a test fails on any field
missing from that page.

Layers, lowest first (each one beats the one before)::

    defaults < TOML config file < DNMWATCH_* environment < command line overrides

Per market, the effective crawl settings are the ``crawl`` defaults overlaid with the market's own
``markets.<name>.crawl`` table; command-line ``crawl.*`` overrides win over both (see
:meth:`Settings.for_market`).

Secrets (market passwords, session cookies) never live in a config file: the file holds a
*reference* (``env:NAME`` or ``file:PATH``) resolved at the moment of use by
:meth:`SecretRef.resolve`. Nothing here prints, logs or caches a resolved value.

Loading reports every problem at once (one :class:`~dnmwatch.errors.ConfigError`).
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import core_schema

from dnmwatch.errors import ConfigError, SecretError

ENV_PREFIX = "DNMWATCH_"
ENV_NESTING = "__"
ENV_CONFIG_FILE = "DNMWATCH_CONFIG"
"""Names the config file when :func:`load_settings` gets none."""
ENV_RESERVED = frozenset({ENV_CONFIG_FILE, "DNMWATCH_SHARED_DIR"})
"""``DNMWATCH_*`` variables that are not settings (read by other parts of the tool)."""

DEFAULT_USER_AGENT = "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0"
"""Tor Browser's user agent: a crawler should look like the crowd it hides in."""

MARKET_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]|_(?!_))*$")
_HOST = re.compile(r"^[a-z0-9.-]+(?::[0-9]{1,5})?$")


class SecretRef:
    """A reference to a secret: ``env:NAME`` (an environment variable) or ``file:PATH``.

    Holding the reference rather than the value means a settings object can be printed,
    logged, pickled or dumped without ever exposing a password. The value is read only by
    :meth:`resolve`, at the moment of use, and is never stored on the object.
    """

    __slots__ = ("kind", "target")

    def __init__(self, reference: str) -> None:
        kind, sep, target = reference.partition(":")
        if not sep or kind not in ("env", "file") or not target.strip():
            # Never echo the input: it may be the literal secret someone pasted.
            raise ValueError(
                "secrets must be references ('env:NAME' or 'file:PATH'), not literal values"
            )
        if kind == "env" and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", target):
            raise ValueError("env: secret reference needs a variable name like env:MARKET_PASS")
        self.kind: Literal["env", "file"] = "env" if kind == "env" else "file"
        self.target = target.strip()

    @property
    def reference(self) -> str:
        """The reference as written in the config (safe to show)."""
        return f"{self.kind}:{self.target}"

    def resolve(self, env: Mapping[str, str] | None = None) -> str:
        """Read the secret now. Raises :class:`SecretError` if it is missing or empty.

        ``env`` defaults to ``os.environ``; tests inject a mapping. A file's trailing newline is
        dropped (``echo pass > file`` is the common way to write one).
        """
        if self.kind == "env":
            source = os.environ if env is None else env
            value = source.get(self.target)
            if value is None:
                raise SecretError(f"secret {self.reference}: environment variable is not set")
        else:
            path = Path(self.target).expanduser()
            try:
                value = path.read_text(encoding="utf-8").rstrip("\r\n")
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
                raise SecretError(f"secret {self.reference}: cannot read file ({reason})") from None
        if not value:
            raise SecretError(f"secret {self.reference}: value is empty")
        return value

    def __repr__(self) -> str:
        return f"SecretRef({self.reference!r})"

    def __str__(self) -> str:
        return self.reference

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretRef) and other.reference == self.reference

    def __hash__(self) -> int:
        return hash(self.reference)

    @classmethod
    def _validate(cls, value: object) -> SecretRef:
        if isinstance(value, SecretRef):
            return value
        if not isinstance(value, str):
            raise ValueError("secrets must be references ('env:NAME' or 'file:PATH')")
        return cls(value)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )


Concurrency = Annotated[int, Field(ge=1, le=4)]
Seconds = Annotated[float, Field(ge=0, le=86_400)]
PositiveSeconds = Annotated[float, Field(gt=0, le=86_400)]
Attempts = Annotated[int, Field(ge=1, le=20)]
BodyBytes = Annotated[int, Field(ge=1024, le=1 << 30)]
UserAgent = Annotated[str, Field(min_length=1, max_length=512)]
BreakerFailures = Annotated[int, Field(ge=1, le=10_000)]
WarcBytes = Annotated[int, Field(ge=64 * 1024, le=1 << 40)]
UserPath = Annotated[Path, AfterValidator(Path.expanduser)]
LogLevel = Annotated[
    Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
    BeforeValidator(lambda v: v.upper() if isinstance(v, str) else v),
]


class _Model(BaseModel):
    """Frozen, strict about unknown keys: a typo in a config file is an error, not a no-op."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class ProxySettings(_Model):
    """The SOCKS proxy (Tor) that every market request goes through."""

    url: str = "socks5h://127.0.0.1:9050"

    @field_validator("url")
    @classmethod
    def _remote_dns_only(cls, url: str) -> str:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "socks5":
            raise ValueError(
                "socks5:// resolves host names locally (a DNS leak, and .onion names cannot "
                "resolve); use socks5h:// so the proxy resolves them"
            )
        if scheme != "socks5h":
            raise ValueError(f"proxy must be socks5h://host:port (remote DNS), not {scheme!r}")
        if parts.username or parts.password:
            raise ValueError("no credentials in proxy.url: use markets.<name>.socks_username")
        if not parts.hostname or not re.fullmatch(r"[^:]+:[0-9]{1,5}", parts.netloc):
            raise ValueError("proxy url needs a host and a port, e.g. socks5h://127.0.0.1:9050")
        return url


class CrawlSettings(_Model):
    """How politely and persistently to fetch pages. Defaults suit one Tor circuit."""

    concurrency: Concurrency = 1
    delay_s: Seconds = 3.0
    jitter_s: Seconds = 1.5
    attempts: Attempts = 5
    backoff_base_s: Seconds = 2.0
    backoff_cap_s: Seconds = 300.0
    timeout_s: PositiveSeconds = 90.0
    max_body_bytes: BodyBytes = 8 * 1024 * 1024
    user_agent: UserAgent = DEFAULT_USER_AGENT
    breaker_failures: BreakerFailures = 10
    warc_max_bytes: WarcBytes = 256 * 1024 * 1024


class CrawlOverrides(_Model):
    """A market's own crawl settings; any key left out falls back to ``crawl``."""

    concurrency: Concurrency | None = None
    delay_s: Seconds | None = None
    jitter_s: Seconds | None = None
    attempts: Attempts | None = None
    backoff_base_s: Seconds | None = None
    backoff_cap_s: Seconds | None = None
    timeout_s: PositiveSeconds | None = None
    max_body_bytes: BodyBytes | None = None
    user_agent: UserAgent | None = None
    breaker_failures: BreakerFailures | None = None
    warc_max_bytes: WarcBytes | None = None


class PrivacySettings(_Model):
    """Where the pseudonymisation key lives: outside the data dir, so a copy of the store
    (or an export of it) never carries the key that links pseudonyms back to handles."""

    key_file: UserPath = Path("~/.config/dnmwatch/pseudonym.key")
    warc_retention_days: Annotated[int, Field(ge=1, le=36_500)] = 180
    text_retention_days: Annotated[int, Field(ge=1, le=36_500)] = 365
    min_vendors: Annotated[int, Field(ge=3, le=1000)] = 5
    dominance_pct: Annotated[float, Field(gt=0, le=100)] = 85.0


def _host_key(host: str) -> str:
    return host.strip().lower().rstrip(".")


class MarketSettings(_Model):
    """One market: which adapter parses it, which hosts it may be fetched from, its login."""

    adapter: Annotated[str, Field(min_length=1)]
    hosts: Annotated[list[str], Field(min_length=1)]
    seeds: list[str] = []
    socks_username: Annotated[str, Field(min_length=1)] | None = None
    username: SecretRef | None = None
    password: SecretRef | None = None
    cookie: SecretRef | None = None
    crawl: CrawlOverrides = CrawlOverrides()

    @field_validator("hosts")
    @classmethod
    def _hosts(cls, hosts: list[str]) -> list[str]:
        clean = [_host_key(h) for h in hosts]
        bad = [h for h in clean if not _HOST.fullmatch(h)]
        if bad:
            raise ValueError(
                f"hosts are bare host names or host:port (no scheme or path): {', '.join(bad)}"
            )
        return clean

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, seeds: list[str], info: ValidationInfo) -> list[str]:
        hosts = set(info.data.get("hosts") or ())
        problems: list[str] = []
        for seed in seeds:
            parts = urlsplit(seed)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                problems.append(f"{seed!r} is not an http(s) URL")
            elif hosts and not {parts.hostname, _host_key(parts.netloc)} & hosts:
                problems.append(f"{seed!r} is not on one of this market's hosts")
        if problems:
            raise ValueError("; ".join(problems))
        return seeds

    def start_urls(self) -> list[str]:
        """Where a crawl starts: the seeds, or the front page of the first host."""
        return list(self.seeds) or [f"http://{self.hosts[0]}/"]


class Settings(_Model):
    """Everything dnmwatch can be told. Build it with :func:`load_settings`."""

    data_dir: UserPath = Path("./dnmwatch-data")
    log_level: LogLevel = "INFO"
    proxy: ProxySettings = ProxySettings()
    allow_direct_loopback: bool = False
    crawl: CrawlSettings = CrawlSettings()
    privacy: PrivacySettings = PrivacySettings()
    markets: dict[str, MarketSettings] = {}

    @model_validator(mode="before")
    @classmethod
    def _market_defaults(cls, data: Any) -> Any:
        """Each market gets its own Tor circuit by default: ``socks_username`` = its name."""
        if isinstance(data, dict) and isinstance(data.get("markets"), dict):
            markets = {}
            for name, market in data["markets"].items():
                if isinstance(market, dict) and market.get("socks_username") is None:
                    market = {**market, "socks_username": name}
                markets[name] = market
            data = {**data, "markets": markets}
        return data

    @field_validator("markets")
    @classmethod
    def _market_names(cls, markets: dict[str, MarketSettings]) -> dict[str, MarketSettings]:
        bad = [name for name in markets if not MARKET_NAME.fullmatch(name)]
        if bad:
            raise ValueError(
                "market names are lower-case letters, digits, '-' and single '_': "
                + ", ".join(repr(b) for b in bad)
            )
        return markets

    @model_validator(mode="after")
    def _key_outside_store(self) -> Settings:
        key = self.privacy.key_file.resolve()
        if key.is_relative_to(self.data_dir.resolve()):
            raise ValueError(
                "privacy.key_file must live outside data_dir: a copy of the store must not "
                "carry the key that links pseudonyms to handles"
            )
        return self

    def market(self, name: str) -> MarketSettings:
        """The settings of one market, or a :class:`ConfigError` naming the known ones."""
        try:
            return self.markets[name]
        except KeyError:
            known = ", ".join(sorted(self.markets)) or "none"
            raise ConfigError(f"unknown market {name!r} (configured: {known})") from None

    def for_market(self, name: str) -> CrawlSettings:
        """Effective crawl settings of one market: ``crawl`` overlaid with its overrides.

        Command-line ``crawl.*`` overrides were already written into every market's
        overrides by :func:`load_settings`, so they win over both.
        """
        own = self.market(name).crawl.model_dump(exclude_none=True)
        return self.crawl.model_copy(update=own)

    def direct_allowed(self, host: str) -> bool:
        """Whether ``host`` may be fetched without the proxy: only a literal 127.0.0.0/8
        address, and only when ``allow_direct_loopback`` is on (the simulator)."""
        if not self.allow_direct_loopback:
            return False
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        try:
            return ipaddress.ip_address(name.strip("[]")) in ipaddress.ip_network("127.0.0.0/8")
        except ValueError:
            return False


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: tables merge key by key, anything else (lists too) is replaced."""
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = dict(value) if isinstance(value, Mapping) else value
    return out


def _nest(path: list[str], value: Any) -> dict[str, Any]:
    return {path[0]: _nest(path[1:], value) if len(path) > 1 else value}


def _read_config(path: Path, problems: list[str]) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:  # its message carries the line and column
        problems.append(f"config file {path}: invalid TOML: {exc}")
    except OSError as exc:
        problems.append(f"config file {path}: cannot read ({exc.strerror})")
    return {}


def env_layer(env: Mapping[str, str], problems: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The ``DNMWATCH_*`` layer: the ONE place environment variables become settings.

    Rule: drop the prefix, split on ``__`` for nesting, lower-case each part
    (``DNMWATCH_PROXY__URL`` -> ``proxy.url``,
    ``DNMWATCH_MARKETS__SIM_A__CRAWL__DELAY_S`` -> ``markets.sim_a.crawl.delay_s``). A value
    starting with ``[`` or ``{`` is parsed as JSON (lists such as ``hosts``); other values are
    strings that the model converts (``"3.5"``, ``"true"``). Variables whose first part is no
    setting are left alone (secret variables, ``DNMWATCH_SHARED_DIR``) unless the name is
    close to a setting, which is reported as a likely typo. Returns the layer and a map of
    dotted key -> variable name, so errors can name the variable.
    """
    top_keys = list(Settings.model_fields)
    layer: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for name in sorted(env):
        if not name.startswith(ENV_PREFIX) or name in ENV_RESERVED:
            continue
        path = [p.lower() for p in name[len(ENV_PREFIX) :].split(ENV_NESTING)]
        if path[0] not in top_keys:
            close = difflib.get_close_matches(path[0], top_keys, n=1, cutoff=0.8)
            if close:
                problems.append(f"environment {name}: unknown setting (did you mean {close[0]}?)")
            continue
        if any(not p for p in path):
            problems.append(f"environment {name}: empty part in the name")
            continue
        raw = env[name]
        value: Any = raw
        if raw.lstrip().startswith(("[", "{")):
            try:
                value = json.loads(raw)
            except json.JSONDecodeError as exc:
                problems.append(f"environment {name}: invalid JSON: {exc}")
                continue
        layer = _merge(layer, _nest(path, value))
        origin[".".join(path)] = f"environment {name}"
    return layer, origin


def override_layer(
    overrides: Mapping[str, object], problems: list[str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The command-line layer: dotted keys (``{"crawl.delay_s": 0}``) to a nested table."""
    layer: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for key, value in overrides.items():
        path = key.split(".")
        if any(not p for p in path):
            problems.append(f"override {key!r}: empty part in the key")
            continue
        layer = _merge(layer, _nest(path, value))
        origin[key] = f"command line {key}"
    return layer, origin


def _spread_crawl_overrides(merged: dict[str, Any], cli: Mapping[str, Any]) -> None:
    """Make command-line ``crawl.*`` values beat per-market ones by writing them into each."""
    crawl = cli.get("crawl")
    markets = merged.get("markets")
    if not isinstance(crawl, Mapping) or not isinstance(markets, dict):
        return
    known = {k: v for k, v in crawl.items() if k in CrawlSettings.model_fields}
    for name, market in markets.items():
        if isinstance(market, dict):
            own = market.get("crawl")
            base = own if isinstance(own, dict) else {}
            markets[name] = {**market, "crawl": _merge(base, known)}


def _describe(error: Mapping[str, Any], origin: Mapping[str, str]) -> str:
    loc = ".".join(str(p) for p in error["loc"])
    msg = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        msg = "unknown key"
    elif error["type"] == "missing":
        msg = "required key is missing"
    source = next(
        (src for key, src in origin.items() if loc == key or loc.startswith(key + ".")), ""
    )
    where = f" (from {source})" if source else ""
    return f"{loc or '<root>'}: {msg}{where}"


def load_settings(
    config_file: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
) -> Settings:
    """Build the settings from all layers, or raise one :class:`ConfigError` listing every
    problem (with its dotted location and, for environment or command line, its source).

    ``config_file`` defaults to ``$DNMWATCH_CONFIG`` when set, else no file. ``env`` defaults
    to ``os.environ``; ``overrides`` are command-line values keyed by dotted names.
    """
    environ = os.environ if env is None else env
    problems: list[str] = []
    if config_file is None and environ.get(ENV_CONFIG_FILE):
        config_file = Path(environ[ENV_CONFIG_FILE])
    file_layer = _read_config(config_file.expanduser(), problems) if config_file else {}
    file_broken = bool(problems)
    env_values, origin = env_layer(environ, problems)
    cli_values, cli_origin = override_layer(overrides or {}, problems)
    origin.update(cli_origin)
    if file_broken:  # validating without the file's content would only add noise
        raise ConfigError(problems)
    merged = _merge(_merge(file_layer, env_values), cli_values)
    _spread_crawl_overrides(merged, cli_values)
    try:
        settings = Settings.model_validate(merged)
    except ValidationError as exc:
        problems += [_describe(err, origin) for err in exc.errors()]
        # ``from None``: the pydantic error carries input values, which may be a pasted secret.
        raise ConfigError(problems) from None
    if problems:
        raise ConfigError(problems)
    return settings


def _toml_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    # JSON spells booleans, numbers and basic strings the way TOML does.
    return json.dumps(value if isinstance(value, bool | int | float) else str(value))


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _toml_table(prefix: str, table: Mapping[str, Any], lines: list[str]) -> None:
    scalars = {k: v for k, v in table.items() if not isinstance(v, Mapping) and v is not None}
    if prefix and (scalars or not table):
        lines += ["", f"[{prefix}]"]
    lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in scalars.items()]
    for key, value in table.items():
        if isinstance(value, Mapping):
            _toml_table(f"{prefix}.{_toml_key(key)}" if prefix else _toml_key(key), value, lines)


def format_settings(settings: Settings) -> str:
    """The effective settings as TOML, safe to print: secrets appear as their references
    (``env:NAME``), never resolved. Unset per-market overrides are omitted."""
    lines: list[str] = []
    _toml_table("", settings.model_dump(mode="json"), lines)
    return "\n".join(lines).lstrip("\n") + "\n"
