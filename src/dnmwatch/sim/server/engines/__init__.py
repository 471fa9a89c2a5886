"""The three HTML/URL designs a simulated market can be served with.

Each engine is a pure renderer (see :mod:`.base`); :func:`engine_for` picks the one a
:class:`~dnmwatch.sim.model.MarketSpec` names.
"""

from __future__ import annotations

from dnmwatch.errors import SimulationError
from dnmwatch.sim.server.engines.base import Engine, Page, View
from dnmwatch.sim.server.engines.cards import CardsEngine
from dnmwatch.sim.server.engines.minimal import MinimalEngine
from dnmwatch.sim.server.engines.table import TableEngine

ENGINES: dict[str, type[Engine]] = {
    "table": TableEngine,
    "cards": CardsEngine,
    "minimal": MinimalEngine,
}


def engine_for(name: str) -> Engine:
    """A fresh engine instance for an engine name (``table``, ``cards`` or ``minimal``)."""
    try:
        return ENGINES[name]()
    except KeyError:
        raise SimulationError(f"unknown engine {name!r}; choose one of "
                              + ", ".join(ENGINES)) from None


__all__ = ["ENGINES", "CardsEngine", "Engine", "MinimalEngine", "Page", "TableEngine", "View",
           "engine_for"]
