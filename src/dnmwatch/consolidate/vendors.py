"""Vendor linking across markets: which accounts belong to one actor.

Evidence, strongest first (docs/estimation.md):

1. **PGP key** (method ``pgp``, score 1.0): accounts that ever showed the same fingerprint are
   one actor. Vendors keep their key when they move (it is how buyers recognise them).
2. **Same handle** (method ``handle``, score 0.9): vendor ids are keyed pseudonyms of the
   *normalised* handle (case-folded, trimmed), so the same id on two markets means the same
   handle. A *slightly changed* handle ("DrGreen" -> "DrGreen2") gives an unrelated pseudonym:
   similarity of handles can only be computed where the clear handle exists, at extraction
   time, which dnmwatch deliberately does not keep.
3. **Weak signal** (method ``weak``, score in [0, 1]): for accounts still alone on their market,
   a score over what *is* kept: the markets each profile claims to also sell on (0.4 if both
   claim each other's market, 0.2 one way), the same ship-from country (0.2), overlap of the
   substances sold (0.3 x the weighted Jaccard index) and time (0.1 when one account appears
   no earlier than 30 days before the other's market was last seen). A pair is linked when its
   score reaches :data:`WEAK_THRESHOLD` and each is the other's best candidate.

Accounts are joined transitively (union-find). The actor id is ``a_`` + a hash of the
component's smallest ``(market, vendor_id)``; a lone account is its own actor (method
``single``).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from dnmwatch.consolidate.listings import VendorFacts

Key = tuple[str, str]
WEAK_THRESHOLD = 0.75
_METHOD_SCORE = {"pgp": 1.0, "handle": 0.9}


class _UnionFind:
    def __init__(self, items: Iterable[Key]) -> None:
        self.parent: dict[Key, Key] = {k: k for k in items}

    def find(self, k: Key) -> Key:
        root = k
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[k] != root:
            self.parent[k], k = root, self.parent[k]
        return root

    def union(self, a: Key, b: Key) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            lo, hi = sorted((ra, rb))
            self.parent[hi] = lo


def _jaccard(a: dict[str, int], b: dict[str, int]) -> float:
    keys = set(a) | set(b)
    if not keys:
        return 0.0
    inter = sum(min(a.get(k, 0), b.get(k, 0)) for k in keys)
    union = sum(max(a.get(k, 0), b.get(k, 0)) for k in keys)
    return inter / union if union else 0.0


def weak_score(a: VendorFacts, b: VendorFacts, market_last_seen: dict[str, datetime]) -> float:
    """The weak-signal score of two accounts on different markets (rule 3 above)."""
    a_claims_b = b.market.casefold() in a.claims
    b_claims_a = a.market.casefold() in b.claims
    score = 0.4 if (a_claims_b and b_claims_a) else 0.2 if (a_claims_b or b_claims_a) else 0.0
    if a.origin is not None and a.origin == b.origin and a.origin != "XX":
        score += 0.2
    score += 0.3 * _jaccard(a.substances, b.substances)
    window = timedelta(days=30)
    if (b.first_seen >= market_last_seen.get(a.market, a.last_seen) - window
            or a.first_seen >= market_last_seen.get(b.market, b.last_seen) - window):
        score += 0.1
    return round(score, 6)


def link_vendors(facts: dict[Key, VendorFacts]) -> list[dict[str, Any]]:
    """``vendor_links`` rows: one per account, with its actor id, method and score."""
    keys = sorted(facts)
    uf = _UnionFind(keys)
    method: dict[Key, tuple[str, float]] = {}
    by_fpr: dict[str, list[Key]] = defaultdict(list)
    by_vid: dict[str, list[Key]] = defaultdict(list)
    for k in keys:
        for fpr in facts[k].fingerprints:
            by_fpr[fpr].append(k)
        by_vid[k[1]].append(k)
    for name, groups in (("pgp", by_fpr), ("handle", by_vid)):
        for members in groups.values():
            if len({m[0] for m in members}) < 2 and name == "handle":
                continue
            if len(members) < 2:
                continue
            for m in members:
                uf.union(members[0], m)
                method.setdefault(m, (name, _METHOD_SCORE[name]))
    _weak_links(facts, keys, uf, method)
    components: dict[Key, list[Key]] = defaultdict(list)
    for k in keys:
        components[uf.find(k)].append(k)
    rows: list[dict[str, Any]] = []
    for root, members in sorted(components.items()):
        actor = "a_" + hashlib.sha256("\x1f".join(root).encode()).hexdigest()[:16]
        for m in members:
            how, score = method.get(m, ("single", 1.0)) if len(members) > 1 else ("single", 1.0)
            rows.append({"market": m[0], "vendor_id": m[1], "actor_id": actor,
                         "method": how, "score": score})
    return rows


def _weak_links(facts: dict[Key, VendorFacts], keys: list[Key], uf: _UnionFind,
                method: dict[Key, tuple[str, float]]) -> None:
    """Link lone accounts by mutual best weak score at or above the threshold."""
    market_last: dict[str, datetime] = {}
    for f in facts.values():
        market_last[f.market] = max(market_last.get(f.market, f.last_seen), f.last_seen)
    size: dict[Key, int] = defaultdict(int)
    for k in keys:
        size[uf.find(k)] += 1
    lone = [k for k in keys if size[uf.find(k)] == 1]
    best: dict[Key, tuple[float, Key]] = {}
    for i, a in enumerate(lone):
        for b in lone[i + 1:]:
            if a[0] == b[0]:
                continue
            score = weak_score(facts[a], facts[b], market_last)
            if score < WEAK_THRESHOLD:
                continue
            for x, y in ((a, b), (b, a)):
                # Partners come in increasing key order: on a tie, the smaller key stays.
                if x not in best or score > best[x][0]:
                    best[x] = (score, y)
    for a, (score, b) in sorted(best.items()):
        if a < b and best.get(b, (0.0, a))[1] == a:
            uf.union(a, b)
            method[a] = method[b] = ("weak", score)

