"""Indicator computation over >= 10 million sales rows: DuckDB (the store) vs pandas.

Generates a synthetic ``sales`` table inside a real store (DuckDB SQL, seeded hash-based
values: 8 markets, 20,000 vendors, 16 substances, 30 countries, 3 years), then times the same
six indicators both ways, loading time excluded for both:

Both sides compute the same columns (sales, revenue, unpriced, corrected figures, distinct
vendors, shares, quantiles):

1. sales and revenue per market and month;
2. sales and revenue per substance, category and ships-from country;
3. EU / non-EU origin shares per month;
4. median and IQR of the unit price per substance, country and quarter;
5. retail / wholesale bands per substance (USD 1,000 at the day's rate, as-of join);
6. vendor concentration per market (top 1 % and 10 % shares, HHI).

pandas is the baseline (the test extra installs it); results are cross-checked for equal row
counts. Run: ``.venv/bin/python bench/bench_indicators.py [--rows N]``.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dnmwatch.estimate import indicators as ind
from dnmwatch.store import Store

SUBSTANCES = ["cannabis", "cocaine", "amphetamine", "methamphetamine", "mdma", "heroin",
              "ketamine", "lsd", "psilocybin", "alprazolam", "oxycodone", "cathinone", "2c",
              "diazepam", "tramadol", "anabolic_steroid"]
COUNTRIES = ["DE", "NL", "GB", "US", "FR", "ES", "IT", "PL", "BE", "CA", "AU", "CN", "IN",
             "SE", "DK", "AT", "CZ", "PT", "IE", "CH", "NO", "BR", "MX", "CO", "ZA", "RU",
             "UA", "EU", "WW", "XX"]


def generate(store: Store, rows: int) -> None:
    subs = "[" + ", ".join(f"'{s}'" for s in SUBSTANCES) + "]"
    ctry = "[" + ", ".join(f"'{c}'" for c in COUNTRIES) + "]"
    store.execute(f"""
        INSERT INTO sales (market, listing_id, vendor_id, day, substance, category, ships_from,
                           price_eur, mass_g, count, feedback_id, weight)
        SELECT 'm' || (hash(i, 1) % 8) AS market,
               'l' || (hash(i, 2) % 400000) AS listing_id,
               'v' || (hash(i, 3) % 20000) AS vendor_id,
               DATE '2019-01-01' + CAST(hash(i, 4) % 1095 AS INTEGER) AS day,
               {subs}[CAST(1 + hash(i, 5) % 16 AS BIGINT)] AS substance,
               CASE WHEN hash(i, 5) % 16 < 8 THEN 'stimulants' ELSE 'other_drug' END,
               {ctry}[CAST(1 + hash(i, 6) % 30 AS BIGINT)] AS ships_from,
               round(5 + (hash(i, 7) % 200000) / 100.0, 2) AS price_eur,
               CASE WHEN hash(i, 8) % 2 = 0 THEN 0.5 + (hash(i, 9) % 100) / 4.0 END AS mass_g,
               CASE WHEN hash(i, 8) % 2 = 1 THEN 1 + hash(i, 10) % 100 END AS count,
               'f' || i, 1.0
        FROM range({rows}) t(i)
    """)
    store.execute("""
        INSERT INTO rates (day, currency, eur_per_unit)
        SELECT DATE '2019-01-01' + CAST(i AS INTEGER), 'USD', 0.85 + (i % 90) / 1000.0
        FROM range(1095) t(i)
    """)


def _eu(df: pd.DataFrame) -> pd.Series:
    code = df["ships_from"].str.upper()
    eu = code.isin(sorted(ind.EU_MEMBERS)) | (code == "EU") | (
        (code == "GB") & (df["day"] < pd.Timestamp(date(2020, 2, 1))))
    unknown = code.isna() | code.isin(["XX", "WW"])
    return pd.Series(np.where(eu, "EU", np.where(unknown, "unknown", "non-EU")), index=df.index)


def _totals(df: pd.DataFrame, keys: list[Any]) -> pd.DataFrame:
    """The columns of ``sales_totals``: sales, revenue, unpriced, corrected, vendors."""
    d = df.assign(corr=df["price_eur"] * df["weight"], unpriced=df["price_eur"].isna())
    return d.groupby(keys).agg(
        sales=("price_eur", "size"), revenue_eur=("price_eur", "sum"),
        unpriced=("unpriced", "sum"), sales_corrected=("weight", "sum"),
        revenue_corrected_eur=("corr", "sum"), vendors=("vendor_id", "nunique")).reset_index()


def pandas_indicators(df: pd.DataFrame, rates: pd.DataFrame,
                      sold_by: dict[str, str]) -> dict[str, Any]:
    """The same six indicators, with the same columns as the DuckDB functions."""
    out: dict[str, Any] = {}
    month = df["day"].dt.to_period("M")
    out["market_month"] = _totals(df, ["market", month])
    out["sub_cat_country"] = _totals(df, ["substance", "category", "ships_from"])
    g = _totals(df.assign(month=month, origin=_eu(df)), ["month", "origin"])
    g["share_sales"] = g["sales"] / g.groupby("month")["sales"].transform("sum")
    g["share_revenue"] = g["revenue_eur"] / g.groupby("month")["revenue_eur"].transform("sum")
    out["origin"] = g
    unit = df["substance"].map(sold_by)
    count = df["count"].astype("float64")
    per_unit = (count > 0).to_numpy() & (df["mass_g"].isna() | unit.eq("unit")).to_numpy()
    qty = np.where(per_unit, count, df["mass_g"])
    p = df.assign(unit_price=df["price_eur"] / qty, unit=np.where(per_unit, "unit", "g"),
                  quarter=df["day"].dt.to_period("Q")).dropna(subset=["unit_price"])
    keys = ["substance", "ships_from", "quarter", "unit"]
    q = p.groupby(keys)["unit_price"].quantile([0.25, 0.5, 0.75]).unstack()
    q["iqr"] = q[0.75] - q[0.25]
    n = p.groupby(keys).agg(n=("unit_price", "size"), vendors=("vendor_id", "nunique"))
    out["unit_prices"] = n.join(q).reset_index()
    r = rates.sort_values("day")
    b = pd.merge_asof(df[["day", "substance", "vendor_id", "price_eur"]].sort_values("day"), r,
                      on="day")
    b["band"] = np.where(b["price_eur"] >= 1000 * b["eur_per_unit"], "wholesale", "retail")
    bands = b.groupby(["substance", "band"]).agg(
        sales=("price_eur", "size"), revenue_eur=("price_eur", "sum"),
        vendors=("vendor_id", "nunique")).reset_index()
    bands["share_sales"] = bands["sales"] / bands.groupby("substance")["sales"].transform("sum")
    out["bands"] = bands
    v = df.groupby(["market", "vendor_id"])["price_eur"].sum().reset_index()
    v = v.sort_values(["market", "price_eur"], ascending=[True, False])
    rows = []
    for market, grp in v.groupby("market"):
        rev = grp["price_eur"].to_numpy()
        tot = rev.sum()
        n = len(rev)
        rows.append({"market": market, "n": n,
                     "top1": rev[: max(math.ceil(0.01 * n), 1)].sum() / tot,
                     "top10": rev[: max(math.ceil(0.10 * n), 1)].sum() / tot,
                     "hhi": 10000 * ((rev / tot) ** 2).sum()})
    out["concentration"] = pd.DataFrame(rows)
    return out


def duckdb_indicators(store: Store) -> dict[str, Any]:
    return {
        "market_month": ind.sales_totals(store, by=("market", "month")),
        "sub_cat_country": ind.sales_totals(store, by=("substance", "category", "ships_from")),
        "origin": ind.origin_split(store),
        "unit_prices": ind.unit_prices(store),
        "bands": ind.quantity_bands(store),
        "concentration": ind.vendor_concentration(store),
    }


def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    best, result = math.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from dnmwatch.normalise.substances import taxonomy

    sold_by = {k: v.sold_by for k, v in taxonomy().items()}
    with tempfile.TemporaryDirectory() as tmp:
        with Store.open(Path(tmp)) as store:
            t0 = time.perf_counter()
            generate(store, args.rows)
            print(f"generated {args.rows:,} sales rows in {time.perf_counter() - t0:.1f} s")
            t_duck, duck = timed(lambda: duckdb_indicators(store), args.repeat)
            t0 = time.perf_counter()
            df = store.connection.sql(
                "SELECT market, vendor_id, day, substance, category, ships_from, price_eur, "
                "mass_g, count, weight FROM sales").to_df()
            df["day"] = pd.to_datetime(df["day"])
            rates = store.connection.sql("SELECT day, eur_per_unit FROM rates").to_df()
            rates["day"] = pd.to_datetime(rates["day"])
            print(f"loaded into pandas in {time.perf_counter() - t0:.1f} s (not timed below)")
        t_pd, pdres = timed(lambda: pandas_indicators(df, rates, sold_by), args.repeat)
    for key in duck:
        print(f"  {key:<16} rows duckdb {duck[key].num_rows:>7,} pandas {len(pdres[key]):>7,}")
    print(f"DuckDB (store, 6 indicators): {t_duck:.2f} s")
    print(f"pandas (same 6 indicators):   {t_pd:.2f} s")
    print(f"ratio pandas / DuckDB: {t_pd / t_duck:.1f}x")


if __name__ == "__main__":
    main()
