"""Feedback de-duplication across overlapping snapshots.

A feedback stays on a market for months, so weekly crawls see it again and again; counted
naively, every sale would count once per crawl. Sightings are grouped into *clusters*, one per
real feedback, with these rules (docs/estimation.md repeats them):

1. **Scope**: only sightings of the same market and listing (or, without a listing id, of the
   same vendor) can be the same feedback. Masked buyer names are never stored, so never used.
2. **Snapshots are processed in time order**; one snapshot (a ``crawl_id``, else one capture
   time) shows each feedback at most once, so two sightings of one snapshot are never merged
   (*one-to-one rule*). This is what keeps apart two buyers who wrote the same "All good" with
   the same rating in the same week.
3. A sighting may join a cluster when **the rating is equal**, **the text is compatible** and
   **the date intervals meet** (within :data:`DATE_TOLERANCE`). Text is compared after
   normalisation (Unicode NFKC, case-folded, white space collapsed, trailing ellipsis removed):
   *exact* equality scores 2; a *truncated* text (the shorter one is a prefix of the longer and
   ends in an ellipsis or is at least :data:`FUZZY_MIN_CHARS` long) or an *edited* text
   (``difflib`` ratio >= :data:`EDIT_RATIO`, both at least :data:`FUZZY_MIN_CHARS` long) scores 1.
4. Within a snapshot, sightings are taken **oldest first**; each takes the compatible cluster
   with the best text score, then the oldest date; if none is free, it starts a new cluster.
5. A cluster's date is the **intersection** of its sightings' intervals (if a sighting does not
   overlap, within tolerance, the cluster keeps the narrower of the two); its text is the
   longest variant seen; its price the first price shown, its option bought (``item``) the
   first one shown.

The feedback id is a hash of the cluster's first sighting (market, scope, snapshot, source,
position, text), so it does not change when later crawls add sightings.

6. **Colliding ids.** Two clusters can start from sightings that agree on everything the id
   hashes: a snapshot that shows the same feedback row twice, or the same row stored twice with
   different capture times (a copied file, a re-imported dump). They stay two feedback (rule 2)
   and the later one, in the deterministic order, gets ``~1`` (``~2``...) after its id,
   counted as ``feedback:id_collisions``; before this rule the build failed on the duplicate
   key.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dnmwatch.consolidate.dates import Interval, parse_posted
from dnmwatch.records import Counters

DATE_TOLERANCE = timedelta(hours=2)
"""Slack allowed between two sightings' intervals (markets round relative dates differently)."""
FUZZY_MIN_CHARS = 40
EDIT_RATIO = 0.9
_ELLIPSIS = re.compile(r"(?:\.\.\.|…)\s*$")


def normalise_text(text: str | None) -> tuple[str, bool]:
    """The comparable form of a feedback text, and whether it was visibly truncated."""
    folded = " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())
    truncated = _ELLIPSIS.search(folded) is not None
    return (_ELLIPSIS.sub("", folded).rstrip(), truncated)


def text_score(a: str, a_cut: bool, b: str, b_cut: bool) -> int:
    """2 for the same text, 1 for a truncated or lightly edited one, 0 otherwise."""
    if a == b:
        return 2
    short, long_, cut = (a, b, a_cut) if len(a) <= len(b) else (b, a, b_cut)
    if long_.startswith(short) and short and (cut or len(short) >= FUZZY_MIN_CHARS):
        return 1
    if min(len(a), len(b)) >= FUZZY_MIN_CHARS and \
            difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= EDIT_RATIO:
        return 1
    return 0


@dataclass(slots=True)
class Sighting:
    market: str
    listing_id: str | None
    vendor_id: str | None
    snapshot: str
    observed_at: datetime
    rating: float | None
    text: str
    norm: str
    truncated: bool
    posted_shown: str
    price: float | None
    currency: str | None
    source: str
    position: int
    interval: Interval
    item: str | None = None
    offset: int = 0
    """Where the page sits in its source (WARC byte offset): one file holds many pages, and the
    same position on two of them must not give two feedback the same id."""


@dataclass(slots=True)
class Cluster:
    """One real feedback and what its sightings say about it."""

    first: Sighting
    interval: Interval
    text: str
    norm: str
    truncated: bool
    posted_shown: str
    vendor_id: str | None
    price: float | None
    currency: str | None
    sightings: int
    first_seen: datetime
    last_seen: datetime
    seq: int
    """Creation order within its scope (the deterministic tie-breaker)."""
    item: str | None = None
    """The option bought, as first shown (``None`` where the market does not show it)."""
    collision: int = 0
    """How many earlier clusters of the market had the same first-sighting key (rule 6)."""

    @classmethod
    def start(cls, s: Sighting, seq: int) -> Cluster:
        return cls(s, s.interval, s.text, s.norm, s.truncated, s.posted_shown, s.vendor_id,
                   s.price, s.currency, 1, s.observed_at, s.observed_at, seq, s.item)

    def add(self, s: Sighting) -> None:
        self.sightings += 1
        self.first_seen = min(self.first_seen, s.observed_at)
        self.last_seen = max(self.last_seen, s.observed_at)
        both = self.interval.intersect(s.interval)
        if both is not None:
            self.interval = both
        elif s.interval.width < self.interval.width:
            self.interval = s.interval
        if s.interval.width <= self.interval.width:
            self.posted_shown = s.posted_shown
        if len(s.norm) > len(self.norm) or (self.truncated and not s.truncated):
            self.text, self.norm, self.truncated = s.text, s.norm, s.truncated
        self.vendor_id = self.vendor_id or s.vendor_id
        if self.price is None and s.price is not None:
            self.price, self.currency = s.price, s.currency
        self.item = self.item or s.item

    @property
    def feedback_id(self) -> str:
        key = "\x1f".join(str(part) for part in self.identity)
        digest = "f_" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:20]
        return digest if not self.collision else f"{digest}~{self.collision}"

    @property
    def identity(self) -> tuple[str, str, str, str, str, int, int, str]:
        """What :attr:`feedback_id` hashes (rule 6 compares it, not the digest)."""
        f = self.first
        return (f.market, f.listing_id or "", f.vendor_id or "", f.snapshot, f.source,
                f.offset, f.position, f.norm)

    def row(self) -> dict[str, Any]:
        f = self.first
        return {
            "market": f.market, "feedback_id": self.feedback_id, "listing_id": f.listing_id,
            "vendor_id": self.vendor_id, "posted_at": self.interval.midpoint,
            "posted_shown": self.posted_shown, "rating": f.rating, "price": self.price,
            "currency": self.currency, "text": self.text, "first_seen": self.first_seen,
            "last_seen": self.last_seen, "posted_earliest": self.interval.earliest,
            "posted_latest": self.interval.latest, "sightings": self.sightings,
            "item": self.item,
        }


FEEDBACK_OBS_SQL = """
SELECT market, listing_id, vendor_id,
       coalesce(crawl_id, strftime(observed_at, '%Y-%m-%dT%H:%M:%S')), observed_at,
       rating, text, posted_shown, price, currency, source,
       coalesce(position, source_offset, 0), item, coalesce(source_offset, 0)
FROM feedback_observations {where}
ORDER BY market, listing_id, vendor_id, observed_at, source, 14, 12
"""


def load_sightings(conn: Any, counters: Counters, rejected: list[dict[str, Any]],
                   market: str | None = None) -> dict[tuple[str, str], list[Sighting]]:
    """Sightings grouped by scope (market, listing or vendor); unreadable dates are rejected.
    ``market`` restricts them to one market (what an incremental build rebuilds)."""
    where, params = ("", []) if market is None else ("WHERE market = ?", [market])
    groups: dict[tuple[str, str], list[Sighting]] = defaultdict(list)
    for (market, lid, vid, snap, at, rating, text, shown, price, cur, source,
         pos, item, offset) in conn.execute(FEEDBACK_OBS_SQL.format(where=where),
                                              params).fetchall():
        counters.inc("feedback:sightings")
        interval = parse_posted(shown, at)
        if interval is None:
            counters.inc("feedback:rejected:date_unparsed")
            rejected.append({"stage": "consolidate", "reason": "date_unparsed",
                             "detail": (shown or "")[:80], "market": market, "source": source,
                             "source_offset": None, "recorded_at": at})
            continue
        scope = f"l:{lid}" if lid else (f"v:{vid}" if vid else "")
        if not scope:
            counters.inc("feedback:rejected:no_listing_or_vendor")
            rejected.append({"stage": "consolidate", "reason": "no_listing_or_vendor",
                             "detail": "", "market": market, "source": source,
                             "source_offset": None, "recorded_at": at})
            continue
        norm, cut = normalise_text(text)
        groups[(market, scope)].append(Sighting(
            market, lid, vid, str(snap), at, rating, text or "", norm, cut, shown, price, cur,
            source, int(pos), interval, item or None, int(offset)))
    return groups


def _order_key(s: Sighting) -> tuple[datetime, datetime, str, int]:
    # Oldest first; pages list newest first, so a higher position on one page is older.
    return (s.interval.latest, s.interval.earliest, s.source, -s.position)


def _best(pool: list[Cluster], s: Sighting, used: set[int],
          tolerance: timedelta) -> Cluster | None:
    """The free cluster of ``pool`` that ``s`` fits best: text score, then the oldest date."""
    best: Cluster | None = None
    best_key: tuple[int, datetime, int] | None = None
    for c in pool:
        if c.seq in used or c.interval.gap(s.interval) > tolerance:
            continue
        score = text_score(c.norm, c.truncated, s.norm, s.truncated)
        if score == 0:
            continue
        key = (-score, c.interval.earliest, c.seq)
        if best_key is None or key < best_key:
            best, best_key = c, key
    return best


def cluster_scope(sightings: list[Sighting],
                  tolerance: timedelta = DATE_TOLERANCE) -> list[Cluster]:
    """The clusters (real feedback) of one scope's sightings, in order of creation."""
    by_snapshot: dict[str, list[Sighting]] = defaultdict(list)
    for s in sightings:
        by_snapshot[s.snapshot].append(s)
    snapshots = sorted(by_snapshot.values(), key=lambda ss: (min(s.observed_at for s in ss),
                                                             ss[0].snapshot))
    clusters: list[Cluster] = []
    exact: dict[tuple[float | None, str], list[Cluster]] = defaultdict(list)
    for snap in snapshots:
        used: set[int] = set()
        for s in sorted(snap, key=_order_key):
            best = _best(exact.get((s.rating, s.norm), []), s, used, tolerance)
            if best is None:
                best = _best([c for c in clusters if c.first.rating == s.rating], s, used,
                             tolerance)
            if best is None:
                best = Cluster.start(s, len(clusters))
                clusters.append(best)
                exact[(s.rating, s.norm)].append(best)
            else:
                old_norm = best.norm
                best.add(s)
                if best.norm != old_norm:
                    exact[(s.rating, best.norm)].append(best)
            used.add(best.seq)
    return clusters


def deduplicate(groups: dict[tuple[str, str], list[Sighting]], counters: Counters,
                tolerance: timedelta = DATE_TOLERANCE) -> list[Cluster]:
    """Every scope's clusters, in a deterministic order (market, scope, creation)."""
    out: list[Cluster] = []
    seen: dict[tuple[str, str, str, str, str, int, int, str], int] = {}
    for key in sorted(groups):
        found = cluster_scope(groups[key], tolerance)
        counters.inc("feedback:unique", len(found))
        for cluster in found:
            ident = cluster.identity
            cluster.collision = seen.get(ident, 0)
            seen[ident] = cluster.collision + 1
            if cluster.collision:
                counters.inc("feedback:id_collisions")
        out.extend(found)
    counters.inc("feedback:merged_sightings",
                 counters["feedback:sightings"] - counters["feedback:rejected:date_unparsed"]
                 - counters["feedback:rejected:no_listing_or_vendor"] - counters["feedback:unique"])
    return out
