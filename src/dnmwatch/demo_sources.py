"""The demo's sources beyond the marketplaces: one shop, one forum and one channel export.

Why these three, and why these ones: monitoring that reads only marketplaces misses where trade
goes after a takedown (issue 11). The demo therefore shows, next to its markets, one source of
each other kind, chosen from the world so that **displacement** is visible in the report:

* the **shop** (:func:`choose_shop`) is the storefront of an actor that sold on a market that
  was taken down and moved to a market that survives: it opens with that account, after the
  takedown, under a brand name and the account's PGP key, so the build can link it to the
  closed market by the key while no handle becomes a source name;
* the **forum** (:func:`choose_forum`) advertises the vendors of a surviving market, where the
  migrants went, and carries their buyers' reviews; it is up for the whole run;
* the **channel export** (:func:`write_channel`) is a seller group whose sellers include the
  biggest vendors of the taken-down market (:func:`channel_handles`), then others.

Every choice is a pure function of the world (no hard-coded handle), so any seed works. The
sites are served by a :class:`~dnmwatch.sim.server.SiteServer` on the markets' clock and crawled
with them; the channel export is extracted with the crawls. Afterwards
:func:`measure_sources` compares what the store holds with what each source showed, from the
source's own truth (the shop's index, the forum's board, the channel's offers).

Like :mod:`dnmwatch.demo`, this is wiring: it may import the simulator and the pipeline.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rich.table import Table

from dnmwatch.errors import SimulationError
from dnmwatch.estimate.accuracy import (
    SourceRecall,
    finished_crawls,
    listing_day_recall,
    offer_recall,
    review_recall,
)
from dnmwatch.privacy.keys import Pseudonymizer
from dnmwatch.sim.channels import ChannelExport, generate_channel
from dnmwatch.sim.model import MarketSpec, World
from dnmwatch.sim.server.forum_board import Board, ForumSpec
from dnmwatch.sim.server.index import MarketIndex
from dnmwatch.sim.server.sites import ShopSpec, SiteServer, SiteSpec
from dnmwatch.store import Store

CHANNEL_NAME = "greybazaar"
"""The channel's name; its export is extracted as the source ``tg:greybazaar``."""
CHANNEL_FILE = Path("channel") / "result.json"
"""Where, under the demo's folder, the channel export is written (as Telegram Desktop would)."""
CHANNEL_SELLERS = 10
CHANNEL_FROM_CLOSED = 7
"""How many of the channel's sellers come from the taken-down market (the others at random):
enough that the report's displacement table can show the channel row (its disclosure control
names a cell of at least 5 vendors)."""
FORUM_VENDORS = 12
"""Vendor threads on the forum (the surviving market's accounts with the most listings), for
the same reason."""
FLOORS = {"shop": 1.0, "forum offers": 1.0, "forum reviews": 1.0, "channel": 0.97}
"""Recall floors of each source, as its golden test sets them (``tests/test_sim_shop.py``,
``test_sim_forum.py``, ``test_channel_golden.py``), printed beside the demo's figures."""


@dataclass(slots=True)
class DemoSources:
    """The demo's shop, forum and channel export; :meth:`attach` adds what their server
    built (the shop's index, the forum's board), which :func:`measure_sources` reads."""

    shop: ShopSpec
    forum: ForumSpec
    channel: ChannelExport
    channel_file: Path
    shop_index: MarketIndex | None = None
    board: Board | None = None
    closed_sellers: list[str] = field(default_factory=list)
    """The channel's sellers that sold on the taken-down market."""

    @property
    def sites(self) -> list[SiteSpec]:
        return [self.shop, self.forum]

    @property
    def channel_market(self) -> str:
        """The channel's name in the store: ``tg:`` and its name (the adapter's rule)."""
        return f"tg:{self.channel.data['name']}"

    def attach(self, server: SiteServer) -> None:
        self.shop_index = server.index.markets[self.shop.site]
        self.board = server.boards[self.forum.site]


def _takedown(world: World) -> MarketSpec:
    """The market taken down first (else the first to close, else the first market)."""
    specs = world.config.markets
    closed = sorted((s for s in specs if s.end_day is not None),
                    key=lambda s: (s.end_kind != "takedown", s.end_day or 0, s.name))
    return (closed or list(specs))[0]


SHOP_BRANDS = ("Green Leaf Store", "Nordic Apotheke", "Candy Cloud", "Blue Lotus Shop",
               "Alpine Remedies", "Harbour Goods")
"""Brand names the demo's shop trades under (one, picked by the vendor's handle)."""


def _survivors(world: World) -> list[str]:
    names = [s.name for s in world.config.markets if s.end_day is None]
    if not names:
        raise SimulationError("the world has no market that survives the run")
    return names


def _listing_counts(world: World) -> Counter[tuple[str, str]]:
    return Counter((r["market"], r["vendor_handle"]) for r in world.table("listings").to_pylist())


def choose_shop(world: World) -> ShopSpec:
    """The account on a surviving market of an actor that sold on the taken-down market,
    preferring one that moved there after the takedown (``migrated_from``), keeps its handle,
    stays to the end, and has the most listings; ties by handle. Only accounts with a PGP key
    qualify: the shop trades under a brand name (:data:`SHOP_BRANDS`), not the handle, so that
    no vendor handle becomes a source name in clear, and the key is what links it."""
    closed, alive = _takedown(world).name, set(_survivors(world))
    vendors = world.table("vendors").to_pylist()
    on_closed = {v["actor_id"]: v["vendor_handle"] for v in vendors if v["market"] == closed}
    counts = _listing_counts(world)
    ranked = sorted(
        (v for v in vendors if v["market"] in alive and v["pgp_fingerprint"]
         and counts[(v["market"], v["vendor_handle"])]),
        key=lambda v: (v["actor_id"] not in on_closed, v["migrated_from"] != closed,
                       on_closed.get(v["actor_id"]) != v["vendor_handle"],
                       v["leave_day"] is not None,
                       -counts[(v["market"], v["vendor_handle"])], v["vendor_handle"]))
    if not ranked:
        raise SimulationError("no vendor with listings on a surviving market")
    handle = ranked[0]["vendor_handle"]
    brand = SHOP_BRANDS[int(hashlib.sha256(handle.encode()).hexdigest(), 16) % len(SHOP_BRANDS)]
    return ShopSpec(ranked[0]["market"], handle, name=brand)


def choose_forum(world: World, shop: ShopSpec | None = None) -> ForumSpec:
    """A forum advertising the vendors of the surviving market the shop's account is on
    (else the first surviving market), named ``forum-<market>``."""
    alive = _survivors(world)
    market = shop.market if shop is not None and shop.market in alive else alive[0]
    return ForumSpec(market, name=f"forum-{market}", vendors=FORUM_VENDORS, seed=world.config.seed)


def channel_handles(world: World, n: int = CHANNEL_FROM_CLOSED) -> list[str]:
    """The ``n`` vendors of the taken-down market with the most listings (ties by handle)."""
    closed = _takedown(world).name
    counts = _listing_counts(world)
    handles = sorted({v for m, v in counts if m == closed}, key=lambda h: (-counts[(closed, h)], h))
    return handles[:n]


def write_channel(world: World, workdir: Path) -> tuple[ChannelExport, Path, list[str]]:
    """Generate the channel export, write it to ``WORKDIR/channel/result.json``; return it,
    its path, and which of its sellers sold on the taken-down market."""
    wanted = channel_handles(world)
    closed = _takedown(world)
    export = generate_channel(world, name=CHANNEL_NAME, sellers=CHANNEL_SELLERS, handles=wanted,
                              handles_from_day=closed.end_day or 0)
    sellers = {o.vendor_handle for o in export.offers}
    return export, export.write(workdir / CHANNEL_FILE), [h for h in wanted if h in sellers]


def prepare_sources(world: World, workdir: Path) -> DemoSources:
    """Choose the shop and the forum and write the channel export (see the module docstring)."""
    shop = choose_shop(world)
    export, path, closed = write_channel(world, workdir)
    return DemoSources(shop, choose_forum(world, shop), export, path, closed_sellers=closed)


# ------------------------------------------------------------------------------ accuracy

def _shop_recall(store: Store, world: World, sources: DemoSources) -> SourceRecall:
    """Products on the shop's pages on each finished crawl day against the account's listings
    live that day (the shop shows exactly those, under its product slugs)."""
    from dnmwatch.sim.server.engines.shop import product_slug

    index, site = sources.shop_index, sources.shop.site
    if index is None:
        raise SimulationError("attach() the site server before measuring its sources")
    expected = []
    for at in finished_crawls(store, site):
        day = (at.date() - world.config.start).days
        for x in index.listings.values():
            vendor = index.vendors.get(x.vendor)
            if x.live(day) and (vendor is None or vendor.active(day)):
                expected.append((at.date(), product_slug(site, x)))
    return listing_day_recall(store, site, "listings on crawl days", expected)


def measure_sources(store: Store, world: World, key: Pseudonymizer,
                    sources: DemoSources) -> list[SourceRecall]:
    """Recall of each source against its own truth: the shop's listings on each crawl day,
    the forum's offers and reviews posted before its last finished crawl, the channel's offers
    (each an offer of a vendor, title, price and currency at a time)."""
    board, forum = sources.board, sources.forum.site
    if board is None:
        raise SimulationError("attach() the site server before measuring its sources")
    crawls = finished_crawls(store, forum)
    last = crawls[-1].replace(tzinfo=UTC).timestamp() if crawls else float("-inf")
    offers = [(key.vendor_id(o.vendor), o.title, o.price, o.currency,
               datetime.fromtimestamp(o.posted_ts, tz=UTC))
              for o in board.offers if o.posted_ts <= last]
    reviews = [(key.vendor_id(r.vendor), float(r.rating), r.text)
               for r in board.reviews if r.posted_ts <= last]
    channel = [(key.vendor_id(o.vendor_handle), o.title, o.price, o.currency, o.first_seen)
               for o in sources.channel.offers]
    return [_shop_recall(store, world, sources),
            offer_recall(store, forum, "offers", offers),
            review_recall(store, forum, "reviews", reviews),
            offer_recall(store, sources.channel_market, "offers", channel)]


def floor_of(recall: SourceRecall) -> float:
    """The golden test's floor for a recall line of :func:`measure_sources`."""
    if recall.source.startswith("shop-"):
        return FLOORS["shop"]
    if recall.source.startswith("tg:"):
        return FLOORS["channel"]
    return FLOORS[f"forum {recall.what}"]


def sources_table(sources: DemoSources) -> Table:
    """What the demo serves and imports beside the markets, and why it was chosen."""
    table = Table(title="sources beyond the markets")
    for col in ("source", "kind", "what it is"):
        table.add_column(col)
    table.add_row(sources.shop.site, "shop (sim-shop)",
                  f"storefront of a {sources.shop.market} account whose actor sold on the "
                  "taken-down market")
    table.add_row(sources.forum.site, "forum (sim-forum)",
                  f"vendor threads and reviews of {sources.forum.market}'s vendors")
    table.add_row(sources.channel_market, "channel (telegram-channel)",
                  f"{len(sources.channel.offers)} offers of "
                  f"{len({o.vendor_handle for o in sources.channel.offers})} sellers, "
                  f"{len(sources.closed_sellers)} of them from the taken-down market")
    return table
