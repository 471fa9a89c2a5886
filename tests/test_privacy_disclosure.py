"""Disclosure control on hand-made tables: minimum vendors, (2, 85 %) dominance, secondary
suppression against the subtraction attack, fixed point over both dimensions, periods."""

from __future__ import annotations

import itertools
from collections import defaultdict

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dnmwatch.privacy.disclosure import (
    DOMINANCE,
    MIN_VENDORS,
    PUBLISHED,
    SECONDARY,
    Rules,
    protect,
)

Cells = dict[tuple[str, ...], list[tuple[str | None, float]]]


def contributions(cells: Cells, dims: tuple[str, ...] = ("market", "category")) -> pa.Table:
    rows: dict[str, list[object]] = {d: [] for d in (*dims, "vendor_id", "revenue")}
    for key, parts in cells.items():
        for vendor, value in parts:
            for d, v in zip(dims, key, strict=True):
                rows[d].append(v)
            rows["vendor_id"].append(vendor)
            rows["revenue"].append(value)
    return pa.table(rows)


def even(n: int, value: float = 100.0, prefix: str = "v") -> list[tuple[str | None, float]]:
    return [(f"{prefix}{i}", value) for i in range(n)]


def reasons(table: pa.Table, dims: tuple[str, ...] = ("market", "category")) -> dict:
    rows = table.to_pylist()
    return {tuple(r[d] for d in dims): r["reason"] for r in rows}


def test_minimum_vendors() -> None:
    cells: Cells = {("a", "x"): even(5), ("b", "x"): even(4)}
    result = protect(contributions(cells), ["market", "category"], ["revenue"], additive=False)
    got = reasons(result.table)
    assert got == {("a", "x"): PUBLISHED, ("b", "x"): MIN_VENDORS}
    row = result.table.to_pylist()[1]
    assert row["revenue"] is None and row["n_vendors"] is None and row["suppressed"]
    assert result.table.to_pylist()[0]["revenue"] == 500.0


def test_many_rows_of_one_vendor_count_once() -> None:
    cells: Cells = {("a", "x"): [("v1", 10.0)] * 50 + even(3)}
    result = protect(contributions(cells), ["market", "category"], ["revenue"])
    assert result.counts[MIN_VENDORS] == 1


def test_rows_without_vendor_count_as_one_vendor() -> None:
    cells: Cells = {("a", "x"): [(None, 10.0)] * 10 + even(3)}
    result = protect(contributions(cells), ["market", "category"], ["revenue"])
    assert reasons(result.table)[("a", "x")] == MIN_VENDORS


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([20, 20, 20, 20, 20], PUBLISHED),
        ([81, 5, 5, 5, 4], DOMINANCE),  # top two 86 %
        ([85, 1, 1, 1, 1], DOMINANCE),  # top two 86/89 = 96.6 %
        ([45, 40, 5, 5, 5], PUBLISHED),  # exactly 85 %: allowed (rule is "more than")
        ([45, 41, 5, 5, 4], DOMINANCE),  # 86 %
    ],
)
def test_two_vendor_dominance(values: list[float], expected: str) -> None:
    cells: Cells = {("a", "x"): [(f"v{i}", float(v)) for i, v in enumerate(values)]}
    result = protect(contributions(cells), ["market", "category"], ["revenue"])
    top_two = sum(sorted(values)[-2:]) / sum(values)
    assert (top_two > 0.85) == (expected == DOMINANCE)
    assert reasons(result.table)[("a", "x")] == expected


def test_rules_are_configurable_and_checked() -> None:
    cells: Cells = {("a", "x"): even(3)}
    loose = protect(
        contributions(cells), ["market", "category"], ["revenue"], rules=Rules(3, 2, 95)
    )
    assert loose.counts[PUBLISHED] == 1
    with pytest.raises(ValueError):
        Rules(dominance_pct=0)
    with pytest.raises(ValueError):
        protect(contributions(cells), ["market", "nope"], ["revenue"])


def _grid(values: dict[tuple[str, str], int]) -> Cells:
    """Cells of 6 even vendors, except value 0 = a primary-unsafe cell of 2 vendors."""
    cells: Cells = {}
    for key, size in values.items():
        prefix = "".join(key)
        cells[key] = even(2, 50.0, prefix) if size == 0 else even(6, size / 6, prefix)
    return cells


def _lines(table: pa.Table, dims: tuple[str, ...], over: tuple[int, ...]) -> list[list[dict]]:
    rows = table.to_pylist()
    out = []
    for d in over:
        groups: dict[tuple, list[dict]] = defaultdict(list)
        for r in rows:
            key = tuple(r[x] for i, x in enumerate(dims) if i != d)
            groups[key].append(r)
        out += list(groups.values())
    return out


def attack(table: pa.Table, truth: Cells, dims: tuple[str, ...], over: tuple[int, ...]) -> dict:
    """The subtraction attack: with true line totals, a line with one hidden cell gives it away."""
    true_value = {k: sum(v for _, v in parts) for k, parts in truth.items()}
    recovered = {}
    for line in _lines(table, dims, over):
        hidden = [r for r in line if r["suppressed"]]
        if len(hidden) == 1:
            keys = [tuple(r[d] for d in dims) for r in line]
            total = sum(true_value[k] for k in keys)
            visible = sum(r["revenue"] for r in line if not r["suppressed"])
            recovered[tuple(hidden[0][d] for d in dims)] = total - visible
    return recovered


def test_recovery_attack_works_without_secondary_suppression_and_fails_with_it() -> None:
    dims = ("market", "category")
    values = {
        (m, c): (0 if (m, c) == ("m1", "c1") else 100 * (i + 1) * (j + 2))
        for i, m in enumerate(["m1", "m2", "m3"])
        for j, c in enumerate(["c1", "c2", "c3"])
    }
    truth = _grid(values)
    table = contributions(truth)
    primary_only = protect(table, dims, ["revenue"], additive=False).table
    leaked = attack(primary_only, truth, dims, (0, 1))
    assert leaked == {("m1", "c1"): 100.0}  # the hidden cell's true value, recovered

    protected = protect(table, dims, ["revenue"])
    assert attack(protected.table, truth, dims, (0, 1)) == {}
    got = reasons(protected.table)
    # the smallest visible partner in row m1 is (m1, c2), in column c1 it is (m2, c1),
    # and (m2, c2) closes the rectangle
    assert {k for k, r in got.items() if r == SECONDARY} == {
        ("m1", "c2"),
        ("m2", "c1"),
        ("m2", "c2"),
    }
    assert protected.counts == {PUBLISHED: 5, MIN_VENDORS: 1, DOMINANCE: 0, SECONDARY: 3}


def test_fixed_point_over_both_dimensions_leaves_no_line_with_one_hidden_cell() -> None:
    dims = ("market", "category")
    markets, categories = [f"m{i}" for i in range(5)], [f"c{j}" for j in range(5)]
    # a diagonal-ish pattern of unsafe cells and sizes arranged so partners cascade
    unsafe = {("m0", "c0"), ("m2", "c3"), ("m4", "c1")}
    values = {
        (m, c): 0 if (m, c) in unsafe else 100 + 37 * ((i * 7 + j * 3) % 11)
        for i, m in enumerate(markets)
        for j, c in enumerate(categories)
    }
    truth = _grid(values)
    result = protect(contributions(truth), dims, ["revenue"])
    for line in _lines(result.table, dims, (0, 1)):
        assert sum(r["suppressed"] for r in line) != 1
    assert attack(result.table, truth, dims, (0, 1)) == {}
    assert result.counts[SECONDARY] >= 3


def test_lines_of_one_cell_need_no_partner() -> None:
    cells: Cells = {("a", "x"): even(2), ("b", "y"): even(6)}
    result = protect(contributions(cells), ["market", "category"], ["revenue"])
    assert result.counts == {PUBLISHED: 1, MIN_VENDORS: 1, DOMINANCE: 0, SECONDARY: 0}


def _periodic(months: list[str]) -> Cells:
    cells: Cells = {}
    for t, month in enumerate(months):
        for i, m in enumerate(["m1", "m2", "m3"]):
            for j, c in enumerate(["c1", "c2"]):
                n = 2 if (i, j) == ((t % 3), 0) else 6
                cells[(m, month, c)] = even(n, 10.0 + i + j + t, f"{m}{c}{month}")
    return cells


def test_secondary_suppression_stays_within_a_period() -> None:
    dims = ("market", "month", "category")
    early = _periodic(["2026-01", "2026-02"])
    later = _periodic(["2026-01", "2026-02", "2026-03"])
    first = protect(contributions(early, dims), dims, ["revenue"], period="month")
    second = protect(contributions(later, dims), dims, ["revenue"], period="month")
    old = reasons(first.table, dims)
    new = reasons(second.table, dims)
    assert all(new[k] == v for k, v in old.items()), "adding a month changed earlier months"
    # and every within-period line is safe
    for line in _lines(second.table, dims, (0, 2)):
        assert sum(r["suppressed"] for r in line) != 1


def test_period_must_be_a_dimension() -> None:
    with pytest.raises(ValueError):
        protect(
            contributions({("a", "x"): even(5)}),
            ["market", "category"],
            ["revenue"],
            period="month",
        )


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 9), min_size=12, max_size=12),
    values=st.lists(st.integers(1, 1000), min_size=12, max_size=12),
)
def test_property_no_line_ever_has_exactly_one_hidden_cell(
    sizes: list[int], values: list[int]
) -> None:
    dims = ("market", "category")
    keys = list(itertools.product(["m1", "m2", "m3"], ["c1", "c2", "c3", "c4"]))
    cells: Cells = {
        k: even(n, float(v), "".join(k)) for k, n, v in zip(keys, sizes, values, strict=True)
    }
    result = protect(contributions(cells), dims, ["revenue"])
    for line in _lines(result.table, dims, (0, 1)):
        assert sum(r["suppressed"] for r in line) != 1
    for row in result.table.to_pylist():
        assert row["suppressed"] == (row["revenue"] is None)
        if not row["suppressed"]:
            assert row["n_vendors"] >= 5
