"""How close a built store comes to the simulator's truth (the acceptance figures of issue 6).

The truth is read as Arrow tables (``World.tables``, or the Parquet files ``dnmwatch demo``
leaves in ``truth/``), never through ``dnmwatch.sim``: the estimate stage must not depend on
the simulator. Two mappings the caller supplies connect the two worlds: ``vendor_key`` (a clear
handle -> its pseudonym, with the run's key) and ``listing_key`` (a truth listing id -> the id
the market shows; markets with opaque item ids differ).

Figures:

* **feedback recall**: of the truth feedback *visible on a crawl day* (posted before a capture
  time of its market at which its listing was live), the share matched one-to-one by a
  ``feedback`` row (same market, listing, rating and text, posted time inside the row's
  interval give or take :data:`MATCH_SLACK`);
* **duplicates**: ``feedback`` rows matched to no truth feedback, as a share of all rows;
* **revenue per market and month** (month of the feedback's true posting time) against the
  truth price of the transactions behind the visible feedback, excluding placeholder and
  holding-price listings (which the estimate excludes by rule);
* **median EUR per gram** per substance (sales with a mass) against the same transactions;
* **vendor links**: pairwise precision and recall of "same actor" over the accounts seen.
"""

from __future__ import annotations

import statistics
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from dnmwatch.consolidate.feedback import normalise_text
from dnmwatch.store import Store

MATCH_SLACK = timedelta(hours=2)


@dataclass(slots=True)
class Accuracy:
    visible_feedback: int = 0
    matched_feedback: int = 0
    feedback_rows: int = 0
    revenue: list[tuple[str, str, float, float]] = field(default_factory=list)
    """(market, YYYY-MM, estimated EUR, true EUR)."""
    revenue_feedback: dict[tuple[str, str], int] = field(default_factory=dict)
    """Truth feedback behind each (market, YYYY-MM) revenue figure."""
    eur_per_gram: list[tuple[str, float, float, int]] = field(default_factory=list)
    """(substance, estimated median, true median, sales)."""
    link_precision: float = 0.0
    link_recall: float = 0.0
    link_pairs: tuple[int, int, int] = (0, 0, 0)
    """(predicted pairs, true pairs, both)."""

    @property
    def recall(self) -> float:
        return self.matched_feedback / self.visible_feedback if self.visible_feedback else 1.0

    @property
    def duplicates(self) -> float:
        unmatched = self.feedback_rows - self.matched_feedback
        return unmatched / self.feedback_rows if self.feedback_rows else 0.0

    def revenue_errors(self, min_true_eur: float = 0.0) -> list[tuple[str, str, float]]:
        return [(m, mon, est / true - 1.0) for m, mon, est, true in self.revenue
                if true > min_true_eur]

    def report(self) -> str:
        lines = [f"feedback recall {self.recall:.4f} ({self.matched_feedback}/"
                 f"{self.visible_feedback} visible on crawl days)",
                 f"duplicates {self.duplicates:.4f} ({self.feedback_rows} feedback rows)",
                 f"vendor links precision {self.link_precision:.4f} recall "
                 f"{self.link_recall:.4f} (pairs predicted/true/both {self.link_pairs})"]
        for m, mon, est, true in self.revenue:
            lines.append(f"revenue {m} {mon}: est {est:,.0f} true {true:,.0f} "
                         f"({(est / true - 1) * 100 if true else 0:+.2f}%, "
                         f"{self.revenue_feedback.get((m, mon), 0)} feedback)")
        for sub, est, true, n in self.eur_per_gram:
            lines.append(f"EUR/g {sub}: est {est:.2f} true {true:.2f} "
                         f"({(est / true - 1) * 100:+.2f}%, {n} sales)")
        return "\n".join(lines)


def read_truth(folder: Path) -> dict[str, Any]:
    """The truth tables from ``<folder>/<table>.parquet`` (as ``dnmwatch demo`` writes them)."""
    import pyarrow.parquet as pq

    return {p.stem: pq.read_table(p) for p in sorted(Path(folder).glob("*.parquet"))}


def _rows(truth: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    return list(truth[name].to_pylist())


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _live(row: dict[str, Any], day: date) -> bool:
    start, end = row.get("start_day") or row.get("join_day"), row.get("end_day") or \
        row.get("leave_day")
    return (start is None or start <= day) and (end is None or day < end)


def evaluate(store: Store, truth: Mapping[str, Any], *, vendor_key: Callable[[str], str],
             listing_key: Callable[[str, str], str] = lambda market, lid: lid,
             unit_markets: frozenset[str] | None = None) -> Accuracy:
    """Compare a built store with the truth (see the module docstring for each figure).

    ``unit_markets`` limits the EUR-per-gram comparison to some markets (e.g. those whose
    feedback shows the price paid, where the quantity tier bought is known)."""
    acc = Accuracy()
    captures: dict[str, list[datetime]] = defaultdict(list)
    for market, at in store.fetchall("SELECT DISTINCT market, observed_at FROM "
                                     "listing_observations ORDER BY 1, 2"):
        captures[market].append(at)
    listings = {(r["market"], r["listing_id"]): r for r in _rows(truth, "listings")}
    vendors = {(r["market"], r["vendor_handle"]): r for r in _rows(truth, "vendors")}
    tx = {r["tx_id"]: r for r in _rows(truth, "transactions")}
    ours: dict[tuple[str, str], list[list[Any]]] = defaultdict(list)
    for market, lid, rating, text, lo, hi, fid in store.fetchall(
            "SELECT market, listing_id, rating, text, posted_earliest, posted_latest, "
            "feedback_id FROM feedback ORDER BY market, listing_id, posted_earliest"):
        ours[(market, lid)].append([rating, normalise_text(text)[0], lo, hi, fid, False])
        acc.feedback_rows += 1
    visible: list[tuple[dict[str, Any], datetime]] = []
    for f in sorted(_rows(truth, "feedback"), key=lambda r: (r["posted_at"], r["feedback_id"])):
        posted = _naive(f["posted_at"])
        times = captures.get(f["market"], [])
        listing = listings.get((f["market"], f["listing_id"]))
        vendor = vendors.get((f["market"], f["vendor_handle"]))
        i = bisect_right(times, posted)
        if listing is None or not any(
                _live(listing, t.date()) and (vendor is None or _live(vendor, t.date()))
                for t in times[i:]):
            continue
        visible.append((f, posted))
        key = (f["market"], listing_key(f["market"], f["listing_id"]))
        text = normalise_text(f["text"])[0]
        for row in ours.get(key, []):
            if (not row[5] and row[0] == float(f["rating"]) and row[1] == text
                    and row[2] - MATCH_SLACK <= posted <= row[3] + MATCH_SLACK):
                row[5] = True
                acc.matched_feedback += 1
                break
    acc.visible_feedback = len(visible)
    _revenue(store, acc, visible, tx, listings, unit_markets)
    _links(store, truth, acc, vendor_key)
    return acc


def _revenue(store: Store, acc: Accuracy, visible: list[tuple[dict[str, Any], datetime]],
             tx: dict[int, dict[str, Any]], listings: dict[tuple[str, str], dict[str, Any]],
             unit_markets: frozenset[str] | None) -> None:
    true_rev: dict[tuple[str, str], float] = defaultdict(float)
    true_unit: dict[str, list[float]] = defaultdict(list)
    for f, posted in visible:
        t = tx.get(f["tx_id"])
        listing = listings.get((f["market"], f["listing_id"]))
        if t is None or listing is None or listing["kind"] == "placeholder" \
                or listing["holding_price"]:
            continue
        key = (f["market"], f"{posted:%Y-%m}")
        true_rev[key] += float(t["price_eur"])
        acc.revenue_feedback[key] = acc.revenue_feedback.get(key, 0) + 1
        if t["mass_g"] and (unit_markets is None or f["market"] in unit_markets):
            true_unit[t["substance"]].append(float(t["price_eur"]) / float(t["mass_g"]))
    est_rev: dict[tuple[str, str], float] = defaultdict(float)
    for market, month, eur in store.fetchall(
            "SELECT market, strftime(day, '%Y-%m'), sum(price_eur) FROM sales GROUP BY 1, 2"):
        est_rev[(market, month)] = float(eur)
    for key in sorted(set(true_rev) | set(est_rev)):
        acc.revenue.append((key[0], key[1], est_rev.get(key, 0.0), true_rev.get(key, 0.0)))
    est_unit: dict[str, list[float]] = defaultdict(list)
    for market, sub, per in store.fetchall(
            "SELECT market, substance, unit_price_eur FROM sales "
            "WHERE mass_g IS NOT NULL AND unit_price_eur IS NOT NULL"):
        if unit_markets is None or market in unit_markets:
            est_unit[sub].append(float(per))
    for sub in sorted(set(est_unit) & set(true_unit)):
        if len(est_unit[sub]) >= 20:
            acc.eur_per_gram.append((sub, statistics.median(est_unit[sub]),
                                     statistics.median(true_unit[sub]), len(est_unit[sub])))


def _pairs(groups: Mapping[str, list[tuple[str, str]]]) -> set[tuple[tuple[str, str], ...]]:
    out: set[tuple[tuple[str, str], ...]] = set()
    for members in groups.values():
        ms = sorted(members)
        out.update((a, b) for i, a in enumerate(ms) for b in ms[i + 1:])
    return out


def _links(store: Store, truth: Mapping[str, Any], acc: Accuracy,
           vendor_key: Callable[[str], str]) -> None:
    seen = {(m, v): a for m, v, a in store.fetchall(
        "SELECT market, vendor_id, actor_id FROM vendor_links")}
    true_groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r in _rows(truth, "vendors"):
        key = (r["market"], vendor_key(r["vendor_handle"]))
        if key in seen:
            true_groups[r["actor_id"]].append(key)
    our_groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key, actor in seen.items():
        our_groups[actor].append(key)
    predicted, real = _pairs(our_groups), _pairs(true_groups)
    both = len(predicted & real)
    acc.link_pairs = (len(predicted), len(real), both)
    acc.link_precision = both / len(predicted) if predicted else 1.0
    acc.link_recall = both / len(real) if real else 1.0
