"""Market adapters: one small module per market that turns a stored page into records.

See :mod:`dnmwatch.adapters.base` for the contract, :mod:`dnmwatch.adapters.registry` for how
adapters are found (built in, or from the ``dnmwatch.adapters`` entry-point group) and
``docs/adapters.md`` for how to write one.
"""

from __future__ import annotations

from dnmwatch.adapters.base import CONTENT_TYPES, MarketAdapter
from dnmwatch.adapters.html import Document
from dnmwatch.adapters.registry import ENTRY_POINT_GROUP, AdapterRegistry, load_registry

__all__ = [
    "CONTENT_TYPES",
    "ENTRY_POINT_GROUP",
    "AdapterRegistry",
    "Document",
    "MarketAdapter",
    "load_registry",
]
