"""Takedowns, exit scams and analyst-given events: what changed before and after.

Method (docs/indicators.md):

**Market closures.** Closed markets come from ``market_lifecycle`` (issue 6: closed after three
failed crawls, ``end_kind`` takedown/exit). When that table is empty (no ``build`` yet), a market
whose last observation (vendor sighting or finished crawl) lies more than ``window_days`` before
the store's last observation counts as closed the day after it, ``end_kind = 'unknown'``. For a
market closing at day T, with windows of ``w`` days:

* the *surviving* markets are the other markets in scope observed on or after T;
* ``sales_before`` / ``sales_after``: their estimated sales in [T-w, T) and [T, T+w);
  ``vendors_before`` / ``vendors_after``: distinct vendors selling on them in those windows;
* ``vendors_at_close``: identities with an account on the closed market seen in [T-w, T);
  ``displaced``: those of them with an account on another market seen in [T, T+w);
  ``share_displaced`` = displaced / vendors_at_close. An identity is the vendor link's
  ``actor_id`` (``vendor_links``), else the PGP fingerprint, else the account itself.

**Event impact.** For a day D given by the analyst and each cell of ``by`` (default substance):
sales and revenue in [D-w, D) and [D, D+w), each window clipped to the days the store has sales
for in scope (so a window beyond the data does not read as a collapse). ``rate_ratio`` = (sales
after / days after) / (sales before / days before), with a 95 % log-Wald Poisson interval
exp(ln RR ± 1.96·sqrt(1/a + 1/b)) (0.5 added to both counts when either is zero).
``revenue_ratio`` = mean daily revenue after / before, with a 95 % percentile bootstrap interval
(days resampled with replacement within each window, 2,000 draws, fixed seed: reproducible).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from dnmwatch.estimate.indicators.coverage import coverage_summary
from dnmwatch.estimate.indicators.scope import EVERYTHING, Scope, annotate, dimension_sql, query
from dnmwatch.store import Store

Z95 = 1.959963984540054
BOOTSTRAP_DRAWS = 2000
BOOTSTRAP_SEED = 20200316

_CLOSED_SQL = """
WITH life AS (
    SELECT market, CAST(closed_at AS DATE) AS closed_day, coalesce(end_kind, 'unknown') AS kind
    FROM market_lifecycle WHERE closed_at IS NOT NULL
), seen AS (
    SELECT market, CAST(last_seen AS DATE) AS d FROM vendors WHERE last_seen IS NOT NULL
    UNION ALL SELECT market, CAST(started_at AS DATE) FROM crawls WHERE status = 'finished'
), last AS (SELECT market, max(d) AS d FROM seen GROUP BY market),
fallback AS (
    SELECT market, CAST(d + 1 AS DATE) AS closed_day, 'unknown' AS kind FROM last
    WHERE d < (SELECT max(d) FROM last) - $window::INTEGER
      AND NOT EXISTS (SELECT 1 FROM life)
)
SELECT * FROM (SELECT * FROM life UNION ALL SELECT * FROM fallback)
WHERE (len($markets::VARCHAR[]) = 0 OR list_contains($markets::VARCHAR[], market))
  AND ($date_from::DATE IS NULL OR closed_day >= $date_from::DATE)
  AND ($date_to::DATE IS NULL OR closed_day <= $date_to::DATE)
ORDER BY closed_day, market
"""

_SURVIVOR_SQL = """
WITH obs AS (
    SELECT market, CAST(last_seen AS DATE) AS d FROM vendors WHERE last_seen IS NOT NULL
    UNION ALL SELECT market, CAST(started_at AS DATE) FROM crawls WHERE status = 'finished'
    UNION ALL SELECT market, day FROM sales
), alive AS (SELECT market FROM obs GROUP BY market HAVING max(d) >= $t::DATE)
SELECT count(*) FILTER (WHERE day < $t::DATE) AS sales_before,
       count(*) FILTER (WHERE day >= $t::DATE) AS sales_after,
       count(DISTINCT vendor_id) FILTER (WHERE day < $t::DATE) AS vendors_before,
       count(DISTINCT vendor_id) FILTER (WHERE day >= $t::DATE) AS vendors_after
FROM sales
WHERE market <> $closed AND market IN (SELECT market FROM alive)
  AND day >= $t::DATE - $window::INTEGER AND day < $t::DATE + $window::INTEGER
  AND (len($markets::VARCHAR[]) = 0 OR list_contains($markets::VARCHAR[], market))
"""

_DISPLACED_SQL = """
WITH ident AS (
    SELECT v.market, v.vendor_id,
           coalesce(
               l.actor_id, 'pgp:' || v.pgp_fingerprint, 'acct:' || v.market || '/' || v.vendor_id
           ) AS who,
           CAST(v.first_seen AS DATE) AS f, CAST(v.last_seen AS DATE) AS l
    FROM vendors v LEFT JOIN vendor_links l ON l.market = v.market AND l.vendor_id = v.vendor_id
    WHERE v.first_seen IS NOT NULL AND v.last_seen IS NOT NULL
), at_close AS (
    SELECT DISTINCT who FROM ident
    WHERE market = $closed AND l >= $t::DATE - $window::INTEGER AND f < $t::DATE
), moved AS (
    SELECT DISTINCT who FROM ident
    WHERE market <> $closed AND l >= $t::DATE AND f < $t::DATE + $window::INTEGER
)
SELECT (SELECT count(*) FROM at_close) AS vendors_at_close,
       (SELECT count(*) FROM at_close WHERE who IN (SELECT who FROM moved)) AS displaced
"""


def closed_markets(
    store: Store, scope: Scope = EVERYTHING, window_days: int = 30
) -> list[dict[str, Any]]:
    """Closed markets in scope as ``{market, closed_day, kind}``, by closing day: from
    ``market_lifecycle``, else markets silent for more than ``window_days`` before the store's
    last observation (see the module docstring)."""
    if window_days < 1:
        raise ValueError("window_days must be >= 1")
    rows: list[dict[str, Any]] = query(
        store, _CLOSED_SQL, scope.params(window=window_days)
    ).to_pylist()
    return rows


def market_closures(store: Store, scope: Scope = EVERYTHING, window_days: int = 30) -> pa.Table:
    """Per closed market: survivors' sales and vendors before/after, and vendors displaced."""
    closed = closed_markets(store, scope, window_days)
    rows: list[dict[str, Any]] = []
    for c in closed:
        params = scope.params(t=c["closed_day"], closed=c["market"], window=window_days)
        del params["date_from"], params["date_to"]
        surv = query(store, _SURVIVOR_SQL, params).to_pylist()[0]
        disp_params = {k: params[k] for k in ("t", "closed", "window")}
        disp = query(store, _DISPLACED_SQL, disp_params).to_pylist()[0]
        at_close = int(disp["vendors_at_close"])
        rows.append(
            {
                "market": c["market"],
                "closed_day": c["closed_day"],
                "end_kind": c["kind"],
                "window_days": window_days,
                **{k: int(v) for k, v in surv.items()},
                "vendors_at_close": at_close,
                "displaced": int(disp["displaced"]),
                "share_displaced": disp["displaced"] / at_close if at_close else None,
            }
        )
    schema = pa.schema(
        [
            ("market", pa.string()),
            ("closed_day", pa.date32()),
            ("end_kind", pa.string()),
            ("window_days", pa.int64()),
            ("sales_before", pa.int64()),
            ("sales_after", pa.int64()),
            ("vendors_before", pa.int64()),
            ("vendors_after", pa.int64()),
            ("vendors_at_close", pa.int64()),
            ("displaced", pa.int64()),
            ("share_displaced", pa.float64()),
        ]
    )
    table = pa.Table.from_pylist(rows, schema=schema)
    return annotate(
        table,
        "market_closures",
        f"sales and vendors on surviving markets {window_days} days before/after each closure; "
        "share of the closed market's vendors seen on another market after it",
        coverage_summary(store, scope),
    )


def poisson_ratio_ci(
    after: int, before: int, days_after: int, days_before: int
) -> tuple[float | None, float | None, float | None]:
    """Rate ratio (after/before, per day) and its 95 % log-Wald interval.

    The point estimate uses the raw counts (``None`` when nothing was sold before); the
    interval adds 0.5 to both counts when either is zero, so it exists for every cell with
    exposure on both sides. ``None``s without exposure.
    """
    if days_after <= 0 or days_before <= 0:
        return None, None, None
    point = (after / days_after) / (before / days_before) if before else None
    a, b = (float(after), float(before)) if after and before else (after + 0.5, before + 0.5)
    centre = math.log((a / days_after) / (b / days_before))
    half = Z95 * math.sqrt(1.0 / a + 1.0 / b)
    return point, math.exp(centre - half), math.exp(centre + half)


def bootstrap_ratio_ci(
    before: Sequence[float],
    after: Sequence[float],
    draws: int = BOOTSTRAP_DRAWS,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float | None, float | None, float | None]:
    """Ratio of mean daily values (after/before) and a 95 % percentile bootstrap interval."""
    if not before or not after or sum(before) <= 0:
        return None, None, None
    rng = np.random.default_rng(seed)
    b = np.asarray(before, dtype=float)
    a = np.asarray(after, dtype=float)
    mb = b[rng.integers(0, len(b), size=(draws, len(b)))].mean(axis=1)
    ma = a[rng.integers(0, len(a), size=(draws, len(a)))].mean(axis=1)
    ok = mb > 0
    ratios = ma[ok] / mb[ok]
    point = float(a.mean() / b.mean())
    if not len(ratios):
        return point, None, None
    return point, float(np.quantile(ratios, 0.025)), float(np.quantile(ratios, 0.975))


def _daily(store: Store, scope: Scope, by: Sequence[str], lo: date, hi: date) -> pa.Table:
    dims = ", ".join(dimension_sql(by)) if by else "'all' AS scope"
    sql = (
        f"SELECT {dims}, day, count(*) AS sales, coalesce(sum(price_eur), 0.0) AS revenue_eur "  # noqa: S608 - whitelisted dimensions, bound parameters
        f"FROM sales WHERE {scope.where()} AND day >= $lo AND day < $hi GROUP BY ALL ORDER BY ALL"
    )
    return query(store, sql, scope.params(lo=lo, hi=hi))


def event_windows(
    store: Store, event_day: date, scope: Scope = EVERYTHING, window_days: int = 30
) -> tuple[date, date]:
    """``(lo, hi)``: the before window is [lo, event_day), the after window [event_day, hi),
    each at most ``window_days`` long and clipped to the days with sales in scope."""
    if window_days < 1:
        raise ValueError("window_days must be >= 1")
    span = store.fetchall(
        f"SELECT min(day), max(day) FROM sales WHERE {scope.where()}",  # noqa: S608 - constant
        scope.params(),
    )[0]
    if span[0] is None:
        return event_day, event_day
    lo = min(max(event_day - timedelta(days=window_days), span[0]), event_day)
    hi = max(min(event_day + timedelta(days=window_days), span[1] + timedelta(days=1)), event_day)
    return lo, hi


def event_contributions(
    store: Store,
    event_day: date,
    scope: Scope = EVERYTHING,
    window_days: int = 30,
    by: Sequence[str] = ("substance",),
) -> pa.Table:
    """Per cell of ``by``, side (``before``/``after``) and vendor: sales and revenue — the
    input of disclosure control for :func:`event_impact`."""
    lo, hi = event_windows(store, event_day, scope, window_days)
    dims = ", ".join(dimension_sql(by)) if by else "'all' AS scope"
    sql = (
        f"SELECT {dims}, CASE WHEN day < $event THEN 'before' ELSE 'after' END AS side, "  # noqa: S608 - whitelisted dims
        "vendor_id, count(*) AS sales, coalesce(sum(price_eur), 0.0) AS revenue_eur "
        f"FROM sales WHERE {scope.where()} AND day >= $lo AND day < $hi "
        "GROUP BY ALL ORDER BY ALL"
    )
    return query(store, sql, scope.params(lo=lo, hi=hi, event=event_day))


def event_impact(
    store: Store,
    event_day: date,
    scope: Scope = EVERYTHING,
    window_days: int = 30,
    by: Sequence[str] = ("substance",),
) -> pa.Table:
    """Before/after ``event_day`` per ``by``: sales and revenue, ratios with 95 % intervals."""
    if set(by) & {"month", "quarter"}:
        raise ValueError("event_impact compares two windows: 'by' takes no time dimension")
    names = list(by) if by else ["scope"]
    lo, hi = event_windows(store, event_day, scope, window_days)
    days_before = (event_day - lo).days
    days_after = (hi - event_day).days
    daily = _daily(store, scope, by, lo, hi).to_pylist() if days_before and days_after else []
    cells: dict[tuple[Any, ...], dict[date, tuple[int, float]]] = defaultdict(dict)
    for r in daily:
        cells[tuple(r[n] for n in names)][r["day"]] = (r["sales"], r["revenue_eur"])
    rows: list[dict[str, Any]] = []
    for key in sorted(cells, key=lambda k: tuple(str(v) for v in k)):
        per_day = cells[key]
        before_days = [lo + timedelta(days=i) for i in range(days_before)]
        after_days = [event_day + timedelta(days=i) for i in range(days_after)]
        s_b = sum(per_day.get(d, (0, 0.0))[0] for d in before_days)
        s_a = sum(per_day.get(d, (0, 0.0))[0] for d in after_days)
        rev_b = [per_day.get(d, (0, 0.0))[1] for d in before_days]
        rev_a = [per_day.get(d, (0, 0.0))[1] for d in after_days]
        rr, rr_lo, rr_hi = poisson_ratio_ci(s_a, s_b, days_after, days_before)
        vr, vr_lo, vr_hi = bootstrap_ratio_ci(rev_b, rev_a)
        rows.append(
            {
                **dict(zip(names, key, strict=True)),
                "event_day": event_day,
                "days_before": days_before,
                "days_after": days_after,
                "sales_before": s_b,
                "sales_after": s_a,
                "rate_ratio": rr,
                "rate_ratio_low": rr_lo,
                "rate_ratio_high": rr_hi,
                "revenue_before_eur": float(sum(rev_b)),
                "revenue_after_eur": float(sum(rev_a)),
                "revenue_ratio": vr,
                "revenue_ratio_low": vr_lo,
                "revenue_ratio_high": vr_hi,
            }
        )
    fields = [pa.field(n, pa.string()) for n in names]
    fields += [
        pa.field("event_day", pa.date32()),
        pa.field("days_before", pa.int64()),
        pa.field("days_after", pa.int64()),
        pa.field("sales_before", pa.int64()),
        pa.field("sales_after", pa.int64()),
    ]
    fields += [
        pa.field(n, pa.float64())
        for n in (
            "rate_ratio",
            "rate_ratio_low",
            "rate_ratio_high",
            "revenue_before_eur",
            "revenue_after_eur",
            "revenue_ratio",
            "revenue_ratio_low",
            "revenue_ratio_high",
        )
    ]
    table = pa.Table.from_pylist(rows, schema=pa.schema(fields))
    return annotate(
        table,
        "event_impact",
        f"sales per day {window_days} days after {event_day} / before, Poisson log-Wald 95% CI; "
        "daily revenue ratio with a percentile bootstrap 95% CI",
        coverage_summary(store, scope),
    )
