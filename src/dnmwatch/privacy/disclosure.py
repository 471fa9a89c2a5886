"""Disclosure control of published tables: primary and secondary cell suppression.

Why: a published cell such as "revenue of market M, category C, month T" singles out a vendor
when only one or two vendors make it up, or when one of them dominates it (a rival can then
subtract their own sales and read off the other's). The rules follow the statistical
disclosure control handbook and the Deutsche Bundesbank's practice:

* **Minimum frequency** — a cell is published only with at least ``min_vendors`` distinct
  vendors (default 5). Contributions without a vendor id count as *one* vendor together
  (the conservative choice).
* **Dominance (k = 2, p = 85 %)** — a cell is suppressed when its two largest vendors make up
  more than ``dominance_pct`` of the cell's value, checked for every sensitive measure.
* **Secondary suppression** — readers may know (or compute from other releases) the total of a
  row or column; with exactly one hidden cell in such a line, the hidden value is the total
  minus the visible ones. So, for every line of the table (all cells that share every
  dimension but one), if exactly one cell is hidden, the *smallest* visible cell of that line
  (ties: by key, so the result is deterministic) is hidden too. This is repeated over every
  dimension until nothing changes (a fixed point): hiding a cell for one line can leave
  another line with a single hidden cell.
* **Consistency across periods** — the period dimension (``month``, ``quarter``) is never a
  line: secondary suppression works *within* each period only. A period's suppression pattern
  therefore depends on that period's data alone: the same rules everywhere, and a later release
  that adds periods cannot reveal a cell of an earlier one by hiding a different partner for it.
  Totals over periods must not be published next to the table (the exports publish none).

Known limits (documented in ``docs/data-protection.md``): "at least two hidden cells per line"
stops the direct subtraction attack, not every linear-programming attack on complex patterns,
and tables of the same data cut along different classifications are protected one by one.

Medians and other non-additive statistics cannot be recovered from totals, so such tables use
primary suppression only (``additive=False``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

PUBLISHED = "published"
MIN_VENDORS = "primary:min_vendors"
DOMINANCE = "primary:dominance"
SECONDARY = "secondary"
_NO_VENDOR = "\x00no-vendor"

Key = tuple[Hashable, ...]


@dataclass(frozen=True, slots=True)
class Rules:
    """The thresholds; the defaults are the issue's (5 vendors, (2, 85 %) dominance)."""

    min_vendors: int = 5
    dominance_top: int = 2
    dominance_pct: float = 85.0

    def __post_init__(self) -> None:
        if self.min_vendors < 1 or self.dominance_top < 1 or not 0 < self.dominance_pct <= 100:
            raise ValueError("rules need min_vendors >= 1, dominance_top >= 1, 0 < pct <= 100")


@dataclass(slots=True)
class _Cell:
    key: Key
    vendors: dict[Hashable, list[float]] = field(default_factory=dict)
    status: str = PUBLISHED


@dataclass(frozen=True, slots=True)
class Protected:
    """A protected table and how many cells each rule hid.

    ``table`` has the dimensions, ``n_vendors``, the measures (null where hidden), a boolean
    ``suppressed`` and ``reason`` (``published``, ``primary:min_vendors``,
    ``primary:dominance`` or ``secondary``). Publish ``suppressed`` only: the reason tells a
    reader *why* a cell is small, so exports drop it.
    """

    table: pa.Table
    counts: dict[str, int]


def _sort_key(key: Key) -> tuple[tuple[int, str], ...]:
    return tuple((0, "") if v is None else (1, str(v)) for v in key)


def _primary(cell: _Cell, dominance_idx: Sequence[int], rules: Rules) -> str:
    if len(cell.vendors) < rules.min_vendors:
        return MIN_VENDORS
    for i in dominance_idx:
        values = sorted((abs(v[i]) for v in cell.vendors.values()), reverse=True)
        total = sum(values)
        if total > 0 and sum(values[: rules.dominance_top]) * 100.0 > rules.dominance_pct * total:
            return DOMINANCE
    return PUBLISHED


def _secondary(cells: dict[Key, _Cell], lines_over: Sequence[int], size_idx: int) -> int:
    """Hide a partner for every line with exactly one hidden cell, to a fixed point."""

    def size(cell: _Cell) -> float:
        return sum(v[size_idx] for v in cell.vendors.values())

    lines: list[list[_Cell]] = []
    for d in lines_over:
        groups: dict[Key, list[_Cell]] = defaultdict(list)
        for key, cell in cells.items():
            groups[key[:d] + key[d + 1 :]].append(cell)
        lines += [g for g in groups.values() if len(g) > 1]
    added = 0
    changed = True
    while changed:
        changed = False
        for line in lines:
            hidden = [c for c in line if c.status != PUBLISHED]
            if len(hidden) != 1:
                continue
            visible = [c for c in line if c.status == PUBLISHED]
            partner = min(visible, key=lambda c: (size(c), _sort_key(c.key)))
            partner.status = SECONDARY
            added += 1
            changed = True
    return added


def protect(
    contributions: pa.Table,
    dims: Sequence[str],
    measures: Sequence[str],
    *,
    vendor: str = "vendor_id",
    dominance_on: Sequence[str] | None = None,
    period: str | None = None,
    additive: bool = True,
    rules: Rules = Rules(),
) -> Protected:
    """Aggregate vendor contributions into cells and suppress the unsafe ones.

    ``contributions`` holds one row per contribution (a sale, or a vendor's subtotal) with the
    ``dims`` columns, the ``vendor`` column and the numeric ``measures`` (non-negative; they
    are summed per cell). ``dominance_on`` (default: every measure) are the sensitive ones;
    the first of them also ranks secondary candidates (smallest first). ``period`` names the
    dimension secondary suppression never runs along. ``additive=False`` skips secondary
    suppression (for medians and the like, joined to the result by the caller).
    """
    dims, measures = list(dims), list(measures)
    sensitive = list(dominance_on) if dominance_on is not None else measures
    missing = [c for c in [*dims, vendor, *measures] if c not in contributions.column_names]
    if missing or not set(sensitive) <= set(measures) or not measures:
        raise ValueError(f"contributions lack columns {missing} or measures are inconsistent")
    if period is not None and period not in dims:
        raise ValueError(f"period {period!r} is not one of the dimensions {dims}")
    cells: dict[Key, _Cell] = {}
    columns = {c: contributions.column(c).to_pylist() for c in [*dims, vendor, *measures]}
    for row in range(contributions.num_rows):
        key = tuple(columns[d][row] for d in dims)
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = _Cell(key)
        who = columns[vendor][row]
        sums = cell.vendors.setdefault(_NO_VENDOR if who is None else who, [0.0] * len(measures))
        for i, m in enumerate(measures):
            sums[i] += float(columns[m][row] or 0.0)
    dominance_idx = [measures.index(m) for m in sensitive]
    counts = {PUBLISHED: 0, MIN_VENDORS: 0, DOMINANCE: 0, SECONDARY: 0}
    for cell in cells.values():
        cell.status = _primary(cell, dominance_idx, rules)
    if additive and len(cells) > 1:
        lines_over = [i for i, d in enumerate(dims) if d != period]
        _secondary(cells, lines_over, dominance_idx[0] if dominance_idx else 0)
    ordered = sorted(cells.values(), key=lambda c: _sort_key(c.key))
    for cell in ordered:
        counts[cell.status] += 1
    return Protected(_to_table(ordered, contributions.schema, dims, measures), counts)


def _to_table(
    cells: Sequence[_Cell], schema: pa.Schema, dims: Sequence[str], measures: Sequence[str]
) -> pa.Table:
    data: dict[str, list[Any]] = {d: [c.key[i] for c in cells] for i, d in enumerate(dims)}
    shown = [c.status == PUBLISHED for c in cells]
    data["n_vendors"] = [len(c.vendors) if ok else None for c, ok in zip(cells, shown, strict=True)]
    for i, m in enumerate(measures):
        data[m] = [
            sum(v[i] for v in c.vendors.values()) if ok else None
            for c, ok in zip(cells, shown, strict=True)
        ]
    data["suppressed"] = [not ok for ok in shown]
    data["reason"] = [c.status for c in cells]
    fields = [schema.field(d) for d in dims]
    fields += [pa.field("n_vendors", pa.int64())]
    fields += [pa.field(m, pa.float64()) for m in measures]
    fields += [pa.field("suppressed", pa.bool_()), pa.field("reason", pa.string())]
    return pa.table(data, schema=pa.schema(fields))
