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

``markets`` restricts every figure above to the markets of the truth: a store that also holds
sources beyond them (a shop, a forum, a channel export) would otherwise count their feedback as
duplicates, their sales as revenue and their accounts in the link pairs. Those sources have
their own figures, **source recall** (:class:`SourceRecall`): the share of what a source showed
(the caller derives it from the source's truth) that the store holds, matched by
:func:`listing_day_recall`, :func:`offer_recall` or :func:`review_recall`.
"""

from __future__ import annotations

import statistics
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from dnmwatch.consolidate.feedback import normalise_text
from dnmwatch.privacy.scrub import scrub_title
from dnmwatch.store import Store

MATCH_SLACK = timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class SourceRecall:
    """How much of one source beyond the markets the store holds."""

    source: str
    """The source's market name in the store (``shop-...``, ``forum-...``, ``tg:...``)."""
    what: str
    """What was counted (``listings on crawl days``, ``offers``, ``reviews``)."""
    found: int
    expected: int
    rows: int
    """The store's rows of that kind for the source (more than ``found``: extra rows)."""

    @property
    def recall(self) -> float:
        return self.found / self.expected if self.expected else 1.0


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
    sources: list[SourceRecall] = field(default_factory=list)
    """Recall of each source beyond the markets (filled by the caller, e.g. the demo)."""

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
        for r in self.sources:
            lines.append(f"source {r.source} {r.what}: recall {r.recall:.4f} "
                         f"({r.found}/{r.expected}, {r.rows} rows in the store)")
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
             unit_markets: frozenset[str] | None = None,
             markets: Collection[str] | None = None) -> Accuracy:
    """Compare a built store with the truth (see the module docstring for each figure).

    ``unit_markets`` limits the EUR-per-gram comparison to some markets (e.g. those whose
    feedback shows the price paid, where the quantity tier bought is known); ``markets``
    limits every figure to those markets (default: every market of the store)."""
    acc = Accuracy()
    keep: Callable[[str], bool] = (lambda m: True) if markets is None else \
        frozenset(markets).__contains__
    captures: dict[str, list[datetime]] = defaultdict(list)
    for market, at in store.fetchall("SELECT DISTINCT market, observed_at FROM "
                                     "listing_observations ORDER BY 1, 2"):
        if keep(market):
            captures[market].append(at)
    listings = {(r["market"], r["listing_id"]): r for r in _rows(truth, "listings")}
    vendors = {(r["market"], r["vendor_handle"]): r for r in _rows(truth, "vendors")}
    tx = {r["tx_id"]: r for r in _rows(truth, "transactions")}
    ours: dict[tuple[str, str], list[list[Any]]] = defaultdict(list)
    for market, lid, rating, text, lo, hi, fid in store.fetchall(
            "SELECT market, listing_id, rating, text, posted_earliest, posted_latest, "
            "feedback_id FROM feedback ORDER BY market, listing_id, posted_earliest"):
        if not keep(market):
            continue
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
    _revenue(store, acc, visible, tx, listings, unit_markets, keep)
    _links(store, truth, acc, vendor_key, keep)
    return acc


def _revenue(store: Store, acc: Accuracy, visible: list[tuple[dict[str, Any], datetime]],
             tx: dict[int, dict[str, Any]], listings: dict[tuple[str, str], dict[str, Any]],
             unit_markets: frozenset[str] | None, keep: Callable[[str], bool]) -> None:
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
        if keep(market):
            est_rev[(market, month)] = float(eur)
    for key in sorted(set(true_rev) | set(est_rev)):
        acc.revenue.append((key[0], key[1], est_rev.get(key, 0.0), true_rev.get(key, 0.0)))
    est_unit: dict[str, list[float]] = defaultdict(list)
    for market, sub, per in store.fetchall(
            "SELECT market, substance, unit_price_eur FROM sales "
            "WHERE mass_g IS NOT NULL AND unit_price_eur IS NOT NULL"):
        if keep(market) and (unit_markets is None or market in unit_markets):
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
           vendor_key: Callable[[str], str], keep: Callable[[str], bool]) -> None:
    seen = {(m, v): a for m, v, a in store.fetchall(
        "SELECT market, vendor_id, actor_id FROM vendor_links") if keep(m)}
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


# ------------------------------------------------------------------ sources beyond the markets

OfferKey = tuple[str, str, float, str, datetime]
"""(vendor id, title, price, currency, time shown) of one offer a source showed."""
ReviewKey = tuple[str, float, str]
"""(vendor id, rating, text) of one review a source showed."""


def title_key(title: str | None) -> str:
    """A title as letters and digits, case-folded, scrubbed as extraction scrubs titles:
    decoration, emoji and spacing do not count (a source's extractor strips them, the truth
    keeps them), nor a buyer's nick or a contact detail ("Escrow refund paul59" is stored as
    "Escrow refund [buyer]": the store must not hold it, so the truth's clear title cannot be
    what the store is matched against). Idempotent on stored titles."""
    text = scrub_title(title or "").text
    return " ".join("".join(c if c.isalnum() else " " for c in text.casefold()).split())


def _minute(moment: datetime) -> datetime:
    return _naive(moment).replace(second=0, microsecond=0)


def _offer(vendor: str | None, title: str | None, price: float | None, currency: str | None,
           at: datetime) -> tuple[str, str, float, str, datetime]:
    return (vendor or "", title_key(title), round(price or 0.0, 8), currency or "", _minute(at))


def finished_crawls(store: Store, market: str) -> list[datetime]:
    """Start times of ``market``'s finished crawls, oldest first: what a source showed is what
    was visible then."""
    return [at for (at,) in store.fetchall(
        "SELECT started_at FROM crawls WHERE market = ? AND status = 'finished' ORDER BY 1",
        [market])]


def listing_day_recall(store: Store, market: str, what: str,
                       expected: Iterable[tuple[date, str]]) -> SourceRecall:
    """Of the listings ``(day, listing id)`` a source showed, those observed on that day."""
    want = set(expected)
    got = set(store.fetchall(
        "SELECT DISTINCT CAST(observed_at AS DATE), listing_id FROM listing_observations "
        "WHERE market = ?", [market]))
    return SourceRecall(market, what, len(want & got), len(want), len(got))


def offer_recall(store: Store, market: str, what: str,
                 expected: Iterable[OfferKey]) -> SourceRecall:
    """Of the offers a source showed, those with a listing observation of the same vendor,
    title (:func:`title_key`), price, currency and minute of observation. Offers are sets: a
    source re-read on every crawl observes a post again, which is not a second offer."""
    want = {_offer(*key) for key in expected}
    got = {_offer(*row) for row in store.fetchall(
        "SELECT vendor_id, title, price, currency, observed_at FROM listing_observations "
        "WHERE market = ?", [market])}
    return SourceRecall(market, what, len(want & got), len(want), len(got))


def review_recall(store: Store, market: str, what: str,
                  expected: Iterable[ReviewKey]) -> SourceRecall:
    """Of the reviews a source showed, those matched one-to-one by a built ``feedback`` row of
    the same vendor, rating and text (normalised as the build does)."""
    want = Counter((v, float(r), normalise_text(t)[0]) for v, r, t in expected)
    got = Counter((v or "", float(r or 0.0), normalise_text(t or "")[0])
                  for v, r, t in store.fetchall(
                      "SELECT vendor_id, rating, text FROM feedback WHERE market = ?", [market]))
    found = sum((want & got).values())
    return SourceRecall(market, what, found, sum(want.values()), sum(got.values()))
