"""Vendors: who they are (country, handle, PGP key, substances) and where they sell.

An *actor* is one vendor business; an *account* is its presence on one market. Some actors sell
on several markets from the start (same key, mostly the same handle); when a market is taken
down or exits, most of its vendors open accounts on surviving markets within three weeks, mostly
keeping their PGP key and sometimes changing their handle slightly. That is the ground truth the
vendor-linking stage is measured against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dnmwatch.sim.model import MarketSpec, SimConfig
from dnmwatch.sim.rng import pick, pick_weighted, stream

COUNTRY_WEIGHTS: dict[str, float] = {
    "US": 25.0, "GB": 12.0, "DE": 10.0, "NL": 9.0, "AU": 7.0, "CA": 5.0, "FR": 4.0, "ES": 3.0,
    "IT": 2.0, "PL": 2.0, "SE": 2.0, "BE": 2.0, "CZ": 1.5, "AT": 1.0, "CH": 1.0, "RU": 1.5,
    "CN": 1.0, "IN": 0.5, "XX": 8.0,
}
"""Declared home countries; XX = undeclared (about 8%)."""

EU = frozenset({"DE", "NL", "FR", "ES", "IT", "PL", "SE", "BE", "CZ", "AT"})
_NEIGHBOURS: dict[str, str] = {
    "DE": "DE,AT,CH", "NL": "NL,BE,DE", "BE": "BE,NL,FR", "FR": "FR,BE,ES", "ES": "ES,PT,FR",
    "IT": "IT,AT,FR", "PL": "PL,CZ,DE", "SE": "SE,NO,DK,FI", "CZ": "CZ,SK,PL", "AT": "AT,DE,CH",
    "GB": "GB,IE", "US": "US,CA", "CA": "CA,US", "AU": "AU,NZ", "CH": "CH,DE,AT",
}
LANGUAGE_OF: dict[str, str] = {
    "DE": "de", "AT": "de", "CH": "de", "NL": "nl", "BE": "nl", "FR": "fr", "ES": "es",
    "IT": "it", "PL": "pl", "RU": "ru",
}
_CURRENCY_HABIT: dict[str, dict[str, float]] = {
    "table": {"USD": 0.6, "BTC": 0.3, "EUR": 0.1},
    "cards": {"EUR": 0.5, "BTC": 0.4, "USD": 0.1},
    "minimal": {"BTC": 0.6, "EUR": 0.25, "USD": 0.15},
}

_HEADS = ("Dutch", "Green", "Coke", "Pharma", "Magic", "Euro", "Royal", "Top", "Mr", "Dr",
          "Happy", "Silk", "Golden", "Crystal", "Snow", "Frosty", "Ice", "Dank", "Kush", "Blue",
          "Lucky", "Swiss", "Nordic", "Berlin", "Amster", "Aussie", "Canna", "Psy", "Molly",
          "Xtc", "Stealth", "Pure", "White", "Night", "Cloud", "Hash", "Candy", "Cali",
          "Narco", "Dream", "Rocket", "Alpine", "Viking", "Bavarian", "London", "Polar",
          "Shadow", "Mystic", "Cosmic", "Budget", "Express", "Holland", "Med", "Chemical")
_TAILS = ("Magic", "King", "Queen", "4You", "Shop", "Store", "Labs", "Direct", "Connect",
          "Plug", "Bros", "Family", "Express", "Deals", "Empire", "Garden", "Supply", "Pharmacy",
          "Market", "Boss", "Leaf", "Factory", "Lab", "World", "Zone", "Team", "Club", "Center",
          "Hub", "House", "Kitchen", "Farm", "Traders", "Trading", "Dealer", "Candy", "Cartel")
_TAGS = ("420", "24", "88", "69", "2019", "1", "7", "_uk", "_nl", "_de", "UK", "NL", "EU",
         "USA", "_us", "_au", "Official", "_official", "X", "xx")


@dataclass(frozen=True, slots=True)
class Actor:
    """One vendor business, across markets."""

    actor_id: str
    country: str
    ships_to: str
    substances: tuple[str, ...]
    handle: str
    fingerprint: str
    language: str
    """The language the vendor writes titles in when not writing English."""


@dataclass(frozen=True, slots=True)
class Account:
    """An actor's vendor account on one market."""

    market: str
    handle: str
    actor: Actor
    fingerprint: str
    join_day: int
    leave_day: int | None
    migrated_from: str | None
    currency: str


def fingerprint(rng: np.random.Generator) -> str:
    """A PGP v4 fingerprint: 40 upper-case hex digits."""
    return "".join("0123456789ABCDEF"[int(i)] for i in rng.integers(0, 16, size=40))


def make_handle(rng: np.random.Generator) -> str:
    """A vendor handle from word parts: "DutchMagic", "coke_king_uk", "Pharma4You"."""
    head, tail = pick(rng, _HEADS), pick(rng, _TAILS)
    style = int(rng.integers(5))
    tag = pick(rng, _TAGS) if rng.random() < 0.4 else ""
    if style == 0:
        return head + tail + tag
    if style == 1:
        return f"{head}_{tail}".lower() + tag.lower()
    if style == 2:
        return (head + tail).upper() + tag
    if style == 3:
        return head.lower() + tail.lower() + tag
    return f"{head}.{tail}" + tag


def alter_handle(rng: np.random.Generator, handle: str) -> str:
    """A slight change: digits appended, two letters swapped, "_official", or the case."""
    op = int(rng.integers(4))
    new = handle
    if op == 0:
        new = handle + pick(rng, ("2", "1", "_2", "69", "420", "x"))
    elif op == 1 and len(handle) > 4:
        i = int(rng.integers(1, len(handle) - 2))
        new = handle[:i] + handle[i + 1] + handle[i] + handle[i + 2:]
    elif op == 2:
        new = handle + pick(rng, ("_official", "Official", "_OG", "_back"))
    else:
        new = handle.lower() if handle != handle.lower() else handle.capitalize()
    return new if new != handle else handle + "_"


def _ships_to(rng: np.random.Generator, country: str) -> str:
    roll = rng.random()
    if country == "XX":
        return "WW" if roll < 0.8 else "EU"
    if country in ("AU", "US"):
        return country if roll < 0.65 else ("WW" if roll < 0.9 else _NEIGHBOURS[country])
    if country in EU:
        if roll < 0.35:
            return "WW"
        if roll < 0.7:
            return "EU"
        return country if roll < 0.9 else _NEIGHBOURS[country]
    if roll < 0.45:
        return "WW"
    return country if roll < 0.85 else _NEIGHBOURS.get(country, "WW")


def make_actors(config: SimConfig, substance_weights: dict[str, float]) -> list[Actor]:
    """``config.vendors`` actors with unique handles, countries, ships-to and substances."""
    rng = stream(config.seed, "actors")
    actors: list[Actor] = []
    seen: set[str] = set()
    width = max(4, len(str(config.vendors)))
    for i in range(config.vendors):
        country = pick_weighted(rng, COUNTRY_WEIGHTS)
        n_subst = int(rng.choice([1, 2, 3, 4], p=[0.4, 0.32, 0.18, 0.1]))
        subst: list[str] = []
        while len(subst) < min(n_subst, len(substance_weights)):
            s = pick_weighted(rng, substance_weights)
            if s not in subst:
                subst.append(s)
        handle = make_handle(rng)
        while handle.lower() in seen:
            handle = make_handle(rng)
        seen.add(handle.lower())
        actors.append(Actor(f"A{i + 1:0{width}d}", country, _ships_to(rng, country),
                            tuple(subst), handle, fingerprint(rng),
                            LANGUAGE_OF.get(country, "en")))
    return actors


def market_stop(market: MarketSpec, days: int) -> int:
    """First day the market is not active within the run."""
    return min(market.end_day, days) if market.end_day is not None else days


def _join_day(rng: np.random.Generator, market: MarketSpec, days: int) -> int | None:
    start, stop = market.launch_day, market_stop(market, days)
    if stop - start < 10:
        return None
    if rng.random() < 0.45:
        return start + int(rng.integers(0, min(7, stop - start - 8)))
    return start + int((stop - start - 8) * rng.beta(1.2, 2.2))


def _leave_day(rng: np.random.Generator, join: int, stop: int) -> int | None:
    if rng.random() < 0.12 and stop - join > 20:
        return join + 14 + int(rng.integers(0, stop - join - 14))
    return None


def place_accounts(config: SimConfig, actors: list[Actor]
                   ) -> tuple[list[Account], list[tuple[int, str, str, str]]]:
    """Accounts of every actor, migrations included, and the migration events.

    Events are ``(day, market, kind, detail)`` tuples.
    """
    rng = stream(config.seed, "accounts")
    markets = [m for m in config.markets if market_stop(m, config.days) - m.launch_day >= 10]
    weights = np.array([market_stop(m, config.days) - m.launch_day for m in markets], float)
    accounts: list[Account] = []
    handles: dict[str, set[str]] = {m.name: set() for m in config.markets}

    def unique(market: str, handle: str) -> str:
        while handle.lower() in handles[market]:
            handle = alter_handle(rng, handle)
        handles[market].add(handle.lower())
        return handle

    for actor in actors:
        n = 1 + (int(rng.integers(1, 3)) if rng.random() < config.multi_market_share else 0)
        chosen = rng.choice(len(markets), size=min(n, len(markets)), replace=False,
                            p=weights / weights.sum())
        for k, idx in enumerate(sorted(int(c) for c in chosen)):
            market = markets[idx]
            join = _join_day(rng, market, config.days)
            if join is None:
                continue
            handle = actor.handle if k == 0 or rng.random() < 0.75 else alter_handle(rng,
                                                                                      actor.handle)
            currency = pick_weighted(rng, _CURRENCY_HABIT.get(market.engine,
                                                              _CURRENCY_HABIT["cards"]))
            accounts.append(Account(market.name, unique(market.name, handle), actor,
                                    actor.fingerprint, join,
                                    _leave_day(rng, join, market_stop(market, config.days)),
                                    None, currency))
    events: list[tuple[int, str, str, str]] = []
    by_name = {m.name: m for m in config.markets}
    ended = sorted((m for m in config.markets if m.end_day is not None and m.end_day < config.days),
                   key=lambda m: (m.end_day or 0, m.name))
    for closed in ended:
        end = closed.end_day or 0
        moved: dict[str, list[int]] = {}
        for acc in [a for a in accounts if a.market == closed.name and a.leave_day is None]:
            if rng.random() >= config.migration_share:
                continue
            present = {a.market for a in accounts if a.actor.actor_id == acc.actor.actor_id
                       and market_stop(by_name[a.market], end + 1) > end}
            targets = [m for m in config.markets if m.name not in present
                       and m.launch_day <= end + 21
                       and (m.end_day is None or m.end_day > end + 25)]
            if not targets:
                continue
            target = targets[int(rng.integers(len(targets)))]
            join = max(end + int(rng.integers(1, 22)), target.launch_day)
            if join >= market_stop(target, config.days) - 1:
                continue
            handle = acc.handle
            if rng.random() < config.handle_change_share:
                handle = alter_handle(rng, handle)
            key = fingerprint(rng) if rng.random() < config.key_change_share else acc.fingerprint
            currency = pick_weighted(rng, _CURRENCY_HABIT.get(target.engine,
                                                              _CURRENCY_HABIT["cards"]))
            accounts.append(Account(target.name, unique(target.name, handle), acc.actor, key,
                                    join, _leave_day(rng, join, market_stop(target, config.days)),
                                    closed.name, currency))
            moved.setdefault(target.name, []).append(join)
        for target_name in sorted(moved):
            days = moved[target_name]
            events.append((min(days), target_name, "migration",
                           f"{len(days)} vendors from {closed.name} within "
                           f"{max(days) - end} days of its {closed.end_kind}"))
    return accounts, events
