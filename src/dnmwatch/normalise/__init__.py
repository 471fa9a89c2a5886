"""The normalise stage: substance, form, quantities, prices in EUR, rates and countries.

Imports only ``records``, ``errors`` and ``store`` (for the rates table); never ``sim``. The
public functions are re-exported lazily so that ``import dnmwatch.normalise`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dnmwatch.normalise.countries import parse_location
    from dnmwatch.normalise.pipeline import CONTRACT_COLUMNS, Normalised, normalise_title
    from dnmwatch.normalise.prices import parse_price

__all__ = ["CONTRACT_COLUMNS", "Normalised", "normalise_title", "parse_location", "parse_price"]

_WHERE = {
    "CONTRACT_COLUMNS": "pipeline",
    "Normalised": "pipeline",
    "normalise_title": "pipeline",
    "parse_location": "countries",
    "parse_price": "prices",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        module = importlib.import_module(f"dnmwatch.normalise.{_WHERE[name]}")
        return getattr(module, name)
    raise AttributeError(name)
