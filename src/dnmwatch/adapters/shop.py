"""The adapter contract for single-vendor shops: the vendor is the site, not a page field.

A marketplace names the vendor on every listing; a vendor's own shop never does (the whole site
*is* the vendor), often shows no feedback, and shows prices and stock. :class:`ShopAdapter`
keeps the :class:`~dnmwatch.adapters.base.MarketAdapter` contract (routing, bounds, counted
rejections, pseudonyms only, links on the host) and adds one rule: **every record's
``vendor_id`` is the shop's own pseudonym**, stamped by the base, so a shop module cannot
forget it or take it from page text.

Where the shop's name comes from, first found wins:

1. configuration: ``Adapter(pseudonymizer, shop="GreenLeaf")`` or a class's ``shop_name``
   (an adapter written for one known shop);
2. site identity: the name the site shows in its header, :meth:`ShopAdapter.site_name`;
3. the market name the records are written under (``--market``).

The name is pseudonymised like any handle (keyed HMAC), so a shop named after its vendor's
market handle gets the same ``vendor_id`` as that handle: shop and market accounts link with no
extra step. A shop module implements ``read_products`` (catalogue pages), ``read_product``
(product pages), ``read_reviews`` and ``read_about`` (the shop's key or contact page) instead of
the ``parse_*`` hooks, which the base owns.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import ClassVar

from dnmwatch.adapters.base import MarketAdapter
from dnmwatch.adapters.html import Document
from dnmwatch.pseudonym import Pseudonymizer
from dnmwatch.records import Record, Rejection

_OWNED = ("parse_index", "parse_listing", "parse_feedback", "parse_vendor")


class ShopAdapter(MarketAdapter):
    """Base class of single-vendor shop adapters (see the module docstring)."""

    source_type = "shop"
    shop_name: ClassVar[str | None] = None
    """The shop's name when an adapter is written for one known shop."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        clash = sorted(set(_OWNED) & set(vars(cls)))
        if clash:
            raise TypeError(f"{cls.__name__} must implement read_* hooks, not "
                            + ", ".join(clash) + " (the shop base stamps the vendor there)")

    def __init__(self, pseudonymizer: Pseudonymizer, *, market: str | None = None,
                 hosts: Iterable[str] = (), shop: str | None = None) -> None:
        super().__init__(pseudonymizer, market=market, hosts=hosts)
        self.shop = shop or self.shop_name

    # --- hooks a shop overrides ---------------------------------------------------------------
    def site_name(self, doc: Document) -> str | None:
        """The shop's name as the page shows it (header, title); ``None`` if not shown."""
        return None

    def read_products(self, doc: Document) -> Iterable[Record]:
        """Listings of a catalogue page (``vendor_id`` may be left ``None``)."""
        return ()

    def read_product(self, doc: Document) -> Iterable[Record]:
        """The listing of a product page (and its reviews, if the page shows them)."""
        return ()

    def read_reviews(self, doc: Document) -> Iterable[Record]:
        return ()

    def read_about(self, doc: Document) -> Iterable[Record]:
        """A vendor observation from the shop's key/about page (use :meth:`shop_vendor_id`)."""
        return ()

    # --- the shop's identity ------------------------------------------------------------------
    def shop_vendor_id(self, doc: Document) -> str | None:
        """The pseudonym of the shop: configuration, else site identity, else market name."""
        name = self.shop or self.site_name(doc) or self.market
        return self.vendor_id(name)

    def stamp(self, records: Iterable[Record], doc: Document) -> Iterator[Record]:
        """Give every record the shop's ``vendor_id`` (rejections pass through)."""
        vid: str | None = None
        for record in records:
            if isinstance(record, Rejection):
                yield record
                continue
            vid = vid or self.shop_vendor_id(doc)
            if vid is None:
                yield self.reject("missing_field", "shop without a name")
                continue
            yield dataclasses.replace(record, vendor_id=vid)

    # --- routing (owned by the base: subclasses may not override these) ------------------------
    def parse_index(self, doc: Document) -> Iterable[Record]:
        return self.stamp(self.read_products(doc), doc)

    def parse_listing(self, doc: Document) -> Iterable[Record]:
        return self.stamp(self.read_product(doc), doc)

    def parse_feedback(self, doc: Document) -> Iterable[Record]:
        return self.stamp(self.read_reviews(doc), doc)

    def parse_vendor(self, doc: Document) -> Iterable[Record]:
        return self.stamp(self.read_about(doc), doc)
