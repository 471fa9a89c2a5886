"""Sites beyond marketplaces: single-vendor shops and forums, served like the markets.

Why a separate server rather than more markets: a shop or a forum is not a market of the world
(the truth tables, ``MarketSpec`` and ``sim serve --engine`` stay as they are); it is a *view* of
the world, a projection of one vendor account or of a market's vendors. :class:`SiteServer`
reuses :class:`~.runner.SimServer` entirely (sockets, lifecycle, gates, faults, traffic log,
control server) and only swaps the market indexes for site indexes and the engines for the
site engines. Give it the clock of a running :class:`SimServer` to move both together.

* :class:`ShopSpec`: the storefront of one account (``market``, ``vendor``). It is up while the
  account is active (``join_day`` to ``leave_day`` or the market's end) and refuses connections
  otherwise; its products are the account's listings, at the day's prices, with stock.
* :class:`~.forum_board.ForumSpec`: a forum whose vendor threads advertise the accounts of one
  market; it is up for the whole run (forums outlive markets).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from dnmwatch.errors import SimulationError
from dnmwatch.sim.model import MarketSpec, World
from dnmwatch.sim.server.clock import SimClock
from dnmwatch.sim.server.engines.base import Engine
from dnmwatch.sim.server.engines.forum import ForumEngine
from dnmwatch.sim.server.engines.shop import ShopEngine
from dnmwatch.sim.server.forum_board import Board, ForumSpec, build_board
from dnmwatch.sim.server.index import Category, MarketIndex, WorldIndex, slugify
from dnmwatch.sim.server.options import ServerOptions
from dnmwatch.sim.server.runner import SimServer


@dataclass(frozen=True, slots=True)
class ShopSpec:
    """A single-vendor shop run by the account ``vendor`` of ``market``."""

    market: str
    vendor: str
    """The account's handle on ``market``; the shop's name unless ``name`` is given."""
    name: str | None = None
    reviews: bool = False
    """Whether product pages show the latest reviews (most shops show none)."""

    @property
    def shop_name(self) -> str:
        return self.name or self.vendor

    @property
    def site(self) -> str:
        """The site's key (``shop-<name>``), used for its URL, cookies and traffic log."""
        return f"shop-{slugify(self.shop_name)}"


SiteSpec = ShopSpec | ForumSpec


def fake_onion(name: str) -> str:
    """A stable fake v3 onion host for a site (56 base32 characters)."""
    digest = hashlib.sha256(f"dnmwatch-site/{name}".encode()).digest()
    return base64.b32encode(digest + digest[:3]).decode().lower()[:56] + ".onion"


def shop_index(world: WorldIndex, spec: ShopSpec) -> MarketIndex:
    """The shop as a one-vendor market index (same listing objects as the source market)."""
    source = world.markets.get(spec.market)
    vendor = source.vendors.get(spec.vendor) if source is not None else None
    if source is None or vendor is None:
        raise SimulationError(f"no vendor {spec.vendor!r} on market {spec.market!r}")
    ends = [d for d in (vendor.leave, source.spec.end_day) if d is not None]
    mspec = MarketSpec(name=spec.site, engine=source.spec.engine, host=fake_onion(spec.site),
                       launch_day=vendor.join, end_day=min(ends) if ends else None,
                       end_kind="exit" if ends else None, locale=source.spec.locale)
    index = MarketIndex(spec=mspec, vendors={vendor.handle: vendor})
    for listing in source.listings.values():
        if listing.vendor == vendor.handle:
            index.listings[listing.listing_id] = listing
            index.by_category.setdefault("products", []).append(listing.listing_id)
    index.categories = [Category(1, "products", "Products")]
    return index


def forum_index(world: WorldIndex, spec: ForumSpec) -> tuple[MarketIndex, Board]:
    """The forum as a (content-less) market index that is always up, and its board."""
    board = build_board(world, spec)
    mspec = MarketSpec(name=spec.site, engine="minimal", host=fake_onion(spec.site),
                       launch_day=0, locale="en")
    return MarketIndex(spec=mspec), board


class SiteServer(SimServer):
    """Shops and forums of a world on loopback, one port each, plus a control server.

    ``urls`` maps each site key (``ShopSpec.site``, ``ForumSpec.name``) to its base URL;
    ``boards`` holds each forum's board (its posts and truth); ``engine(site)`` and
    ``view(site)`` work as for markets. ``clock`` shares a clock (e.g. a running
    :class:`SimServer`'s) so that moving one moves both.
    """

    def __init__(self, world: World, sites: Sequence[SiteSpec], *, day: int | None = None,
                 options: ServerOptions | None = None, host: str = "127.0.0.1",
                 base_port: int = 0, clock: SimClock | None = None) -> None:
        super().__init__(world, day=day, options=options, host=host, base_port=base_port)
        if not sites:
            raise SimulationError("no site to serve")
        source = self.index
        indexes: dict[str, MarketIndex] = {}
        self.site_engines: dict[str, Engine] = {}
        self.boards: dict[str, Board] = {}
        for spec in sites:
            if spec.site in indexes:
                raise SimulationError(f"two sites named {spec.site!r}")
            if isinstance(spec, ShopSpec):
                indexes[spec.site] = shop_index(source, spec)
                self.site_engines[spec.site] = ShopEngine(spec.shop_name, reviews=spec.reviews)
            else:
                indexes[spec.site], board = forum_index(source, spec)
                self.boards[spec.site] = board
                self.site_engines[spec.site] = ForumEngine(board)
        self.index = WorldIndex(config=source.config, markets=indexes, rates=source.rates,
                                accounts=source.accounts)
        self._served = set(indexes)
        if clock is not None:
            self.clock = clock
            clock.on_change(self._clock_changed)

    def start(self) -> SiteServer:
        """Start serving; each site's application gets its site engine before any request
        can reach it (the port numbers are only known once :meth:`start` returns)."""
        super().start()
        for name, engine in self.site_engines.items():
            self.apps[name].engine = engine
        return self

    def __enter__(self) -> SiteServer:
        return self.start()

    def _market_states(self) -> dict[str, dict[str, object]]:
        states = super()._market_states()
        for name, state in states.items():
            state["engine"] = self.site_engines[name].name
        return states
