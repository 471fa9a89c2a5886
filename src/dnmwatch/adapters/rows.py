"""The adapter contract for datasets: rows of a CSV instead of pages.

Research datasets of old markets (Agora 2014, AlphaBay 2017, Matanga 2020...) are tables that
someone else already scraped. A :class:`RowAdapter` is a :class:`MarketAdapter` (so it is
registered, listed and created the same way, and a page given to it is a counted
``unknown_page``) with one more public method, :meth:`RowAdapter.parse_row`, and one hook a
dataset overrides, :meth:`RowAdapter.read_row`.

``parse_row`` gives rows the page guarantees: an exception in dataset code becomes a counted
``parser_error`` rejection (type and line, never the message); records go through the same
checks (pseudonymous ``vendor_id`` only, required listing fields, field length, records per
row); every record gets the row's provenance; counters count rows, records by kind and
rejections by reason. A dataset declares ``columns``: the header names that identify it, so
``dnmwatch extract data.csv`` can find its adapter without ``--adapter``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from typing import ClassVar

from dnmwatch.adapters.base import MarketAdapter, _where
from dnmwatch.records import Provenance, Record, Rejection


class RowAdapter(MarketAdapter):
    """Base class of dataset adapters. Subclasses set ``columns`` and override ``read_row``."""

    columns: ClassVar[frozenset[str]] = frozenset()
    """Header names every file of the dataset has (used to recognise it)."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "parse_row" in vars(cls) or "_finish_row" in vars(cls):
            raise TypeError(f"{cls.__name__} must override read_row, not parse_row")

    @classmethod
    def recognises(cls, header: Iterable[str]) -> bool:
        """Whether a CSV with this header row belongs to the dataset."""
        return bool(cls.columns) and cls.columns <= set(header)

    # --- the hook a dataset overrides -----------------------------------------------------------
    def read_row(self, row: Mapping[str, str], provenance: Provenance) -> Iterable[Record]:
        """The records of one row (text as in the file, already decoded and repaired)."""
        return ()

    # --- the contract ---------------------------------------------------------------------------
    def parse_row(self, row: Mapping[str, str], provenance: Provenance) -> Iterator[Record]:
        """The checked, counted records of one row; nothing escapes."""
        self.counters.inc("rows")
        produced = 0
        try:
            for record in self.read_row(row, provenance):
                checked = self._check(record)
                yield self._finish_row(checked, provenance)
                if not isinstance(checked, Rejection):
                    produced += 1
                if produced >= self.max_records_per_page:
                    yield self._finish_row(self.reject("too_many_records",
                                                       f"stopped after {produced}"), provenance)
                    return
        except Exception as exc:
            yield self._finish_row(self.reject("parser_error", _where(exc)), provenance)
            return
        if produced == 0:
            self.counters.inc("rows:empty")

    def _finish_row(self, record: Record, provenance: Provenance) -> Record:
        if isinstance(record, Rejection):
            self.counters.inc(f"rejected:{record.reason}")
            return dataclasses.replace(record, source=record.source or provenance.source,
                                       provenance=record.provenance or provenance)
        self.counters.inc(f"records:{record.kind}")
        if record.provenance is None:
            return dataclasses.replace(record, provenance=provenance)
        return record
