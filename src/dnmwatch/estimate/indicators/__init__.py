"""Indicators: the figures of a drug-market bulletin, as SQL over the store.

Every function takes an open :class:`~dnmwatch.store.Store` and a :class:`Scope` and returns an
Arrow table whose schema metadata carries the lower-bound note, the method and the coverage
summary (:func:`table_note` reads them). ``docs/indicators.md`` documents each method.
Importing this package does no I/O.
"""

from __future__ import annotations

from dnmwatch.estimate.indicators.coverage import (
    coverage,
    coverage_sentence,
    coverage_summary,
)
from dnmwatch.estimate.indicators.delivery import (
    DELIVERY_DIMENSIONS,
    delivery_areas,
    delivery_contributions,
    delivery_methods,
)
from dnmwatch.estimate.indicators.displacement import (
    SOURCE_TYPES,
    displacement,
    product_shift,
    product_shift_contributions,
)
from dnmwatch.estimate.indicators.events import (
    bootstrap_ratio_ci,
    closed_markets,
    event_contributions,
    event_impact,
    event_windows,
    market_closures,
    poisson_ratio_ci,
)
from dnmwatch.estimate.indicators.listings import listing_activity, market_shares
from dnmwatch.estimate.indicators.prices import (
    WHOLESALE_USD,
    quantity_bands,
    unit_price_contributions,
    unit_prices,
)
from dnmwatch.estimate.indicators.sales import (
    category_shares,
    origin_split,
    sales_contributions,
    sales_totals,
)
from dnmwatch.estimate.indicators.scope import (
    DIMENSIONS,
    EU_MEMBERS,
    EVERYTHING,
    LOWER_BOUND_NOTE,
    Scope,
    table_note,
)
from dnmwatch.estimate.indicators.vendors import vendor_activity, vendor_concentration

__all__ = [
    "DELIVERY_DIMENSIONS",
    "DIMENSIONS",
    "EU_MEMBERS",
    "EVERYTHING",
    "LOWER_BOUND_NOTE",
    "SOURCE_TYPES",
    "WHOLESALE_USD",
    "Scope",
    "bootstrap_ratio_ci",
    "category_shares",
    "closed_markets",
    "coverage",
    "coverage_sentence",
    "coverage_summary",
    "delivery_areas",
    "delivery_contributions",
    "delivery_methods",
    "displacement",
    "event_contributions",
    "event_impact",
    "event_windows",
    "listing_activity",
    "market_closures",
    "market_shares",
    "origin_split",
    "poisson_ratio_ci",
    "product_shift",
    "product_shift_contributions",
    "quantity_bands",
    "sales_contributions",
    "sales_totals",
    "table_note",
    "unit_price_contributions",
    "unit_prices",
    "vendor_activity",
    "vendor_concentration",
]
