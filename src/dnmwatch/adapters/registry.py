"""Which adapters exist: the built-in ones and outside ones from the ``dnmwatch.adapters``
entry-point group, registered the same way (as datasette plugins are).

A package adds a market without touching dnmwatch by declaring, in its ``pyproject.toml``::

    [project.entry-points."dnmwatch.adapters"]
    mymarket = "mypackage.mymarket:MyMarketAdapter"

The entry point's name must equal the class's ``name``. Two adapters with one name are an
error (a :class:`~dnmwatch.errors.ConfigError`), never a silent override: which parser
produced a record must not depend on install order.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points
from urllib.parse import urlsplit

from dnmwatch.adapters.base import MarketAdapter, host_key
from dnmwatch.errors import ConfigError
from dnmwatch.pseudonym import Pseudonymizer

ENTRY_POINT_GROUP = "dnmwatch.adapters"
BUILTIN: tuple[str, ...] = (
    "dnmwatch.adapters.sim_table:SimTableAdapter",
    "dnmwatch.adapters.sim_cards:SimCardsAdapter",
    "dnmwatch.adapters.sim_minimal:SimMinimalAdapter",
    "dnmwatch.adapters.empire:EmpireAdapter",
    "dnmwatch.adapters.cryptonia:CryptoniaAdapter",
    "dnmwatch.adapters.dream:DreamAdapter",
    "dnmwatch.adapters.apollon:ApollonAdapter",
    "dnmwatch.adapters.cypher:CypherAdapter",
    "dnmwatch.adapters.whitehousemarket:WhiteHouseMarketAdapter",
    "dnmwatch.adapters.agora:AgoraAdapter",
    "dnmwatch.adapters.alphabay:AlphaBayAdapter",
    "dnmwatch.adapters.matanga:MatangaAdapter",
    "dnmwatch.adapters.channel:TelegramChannelAdapter",
    "dnmwatch.adapters.sim_shop:SimShopAdapter",
    "dnmwatch.adapters.sim_forum:SimForumAdapter",
)
"""Built-in adapters as ``module:Class`` (imported when a registry is built, not at import)."""


def _load_object(spec: str) -> object:
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


def _as_adapter(obj: object, origin: str) -> type[MarketAdapter]:
    if not (isinstance(obj, type) and issubclass(obj, MarketAdapter)):
        raise ConfigError(f"{origin} is not a MarketAdapter subclass")
    if not obj.name:
        raise ConfigError(f"{origin} has no adapter name")
    return obj


class AdapterRegistry:
    """Adapter classes by name, with lookup by name, URL or host."""

    def __init__(self, classes: Iterable[type[MarketAdapter]] = ()) -> None:
        self._by_name: dict[str, type[MarketAdapter]] = {}
        self._origin: dict[str, str] = {}
        for cls in classes:
            self.register(cls)

    def register(self, cls: type[MarketAdapter], origin: str | None = None) -> None:
        """Add an adapter class; a second class with the same name is a :class:`ConfigError`."""
        where = origin or f"{cls.__module__}:{cls.__qualname__}"
        cls = _as_adapter(cls, where)
        if cls.name in self._by_name:
            raise ConfigError(f"duplicate adapter name {cls.name!r}: {self._origin[cls.name]} "
                              f"and {where}")
        self._by_name[cls.name] = cls
        self._origin[cls.name] = where

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __len__(self) -> int:
        return len(self._by_name)

    def get(self, name: str) -> type[MarketAdapter]:
        """The adapter class called ``name``, or a :class:`ConfigError` listing the known ones."""
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise ConfigError(f"unknown adapter {name!r} (available: {known})") from None

    def for_host(self, host: str) -> type[MarketAdapter] | None:
        """The adapter whose declared ``hosts`` include ``host`` (``host`` or ``host:port``)."""
        key = host_key(host)
        bare = key.rsplit(":", 1)[0] if ":" in key else key
        for cls in self._by_name.values():
            hosts = {host_key(h) for h in cls.hosts}
            if key in hosts or bare in hosts:
                return cls
        return None

    def for_url(self, url: str) -> type[MarketAdapter] | None:
        """The adapter of the market that serves ``url``, if one declares its host."""
        try:
            netloc = urlsplit(url).netloc
        except ValueError:
            return None
        return self.for_host(netloc) if netloc else None

    def create(self, name: str, pseudonymizer: Pseudonymizer, *, market: str | None = None,
               hosts: Iterable[str] = ()) -> MarketAdapter:
        """A ready adapter instance (one per thread or process)."""
        return self.get(name)(pseudonymizer, market=market, hosts=hosts)

    def origin(self, name: str) -> str:
        """Where an adapter came from (``module:Class``, or the entry point's distribution)."""
        self.get(name)
        return self._origin[name]


def _entry_point_adapters(
        select: Callable[[], Iterable[EntryPoint]]) -> Iterable[tuple[type[MarketAdapter], str]]:
    for ep in select():
        dist = ep.dist.name if ep.dist is not None else "?"
        origin = f"entry point {ep.name!r} = {ep.value} (from {dist})"
        try:
            obj = ep.load()
        except Exception as exc:
            raise ConfigError(f"cannot load adapter {origin}: {type(exc).__name__}: {exc}") \
                from exc
        cls = _as_adapter(obj, origin)
        if cls.name != ep.name:
            raise ConfigError(f"{origin} names adapter {cls.name!r}; the entry point must be "
                              "named like the adapter")
        yield cls, origin


def load_registry(*, plugins: bool = True,
                  select: Callable[[], Iterable[EntryPoint]] | None = None) -> AdapterRegistry:
    """The built-in adapters plus, if ``plugins``, every installed ``dnmwatch.adapters`` one.

    ``select`` replaces the entry-point discovery (for tests of the registry itself).
    """
    registry = AdapterRegistry()
    for spec in BUILTIN:
        registry.register(_as_adapter(_load_object(spec), spec), spec)
    if plugins:
        finder = select or (lambda: entry_points(group=ENTRY_POINT_GROUP))
        for cls, origin in _entry_point_adapters(finder):
            registry.register(cls, origin)
    return registry


def describe(registry: AdapterRegistry) -> list[tuple[str, str, str]]:
    """``(name, version, description)`` of every adapter, sorted by name."""
    return [(n, registry.get(n).version, registry.get(n).description) for n in registry.names()]
