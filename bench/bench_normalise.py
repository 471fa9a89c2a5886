"""Titles per second per core: the normaliser against a naive per-title pipeline.

The naive baseline does what a first script does: for each title it re-compiles its regular
expressions and scans the lexicon entry by entry (``term in title``). Both run in one process,
one after the other, on the same titles: real ones when ``../shared`` is present (titles-dev +
Agora + AlphaBay titles, read in place, never copied), otherwise a synthetic list.

    .venv/bin/python bench/bench_normalise.py [--limit N]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import time
from pathlib import Path

from dnmwatch.normalise.lexicon import default_lexicon, fold
from dnmwatch.normalise.pipeline import normalise_title


def _shared() -> Path:
    env = os.environ.get("DNMWATCH_SHARED_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared"


def real_titles(limit: int) -> list[str]:
    shared = _shared()
    titles: list[str] = []
    sources = [
        (shared / "data/labels/titles-dev.csv", "title"),
        *(
            (p, "product")
            for p in sorted(shared.glob("data/real/agora-2014-mozzarella/product/*.csv"))
        ),
        *(
            (p, "listing_title")
            for p in sorted(shared.glob("data/real/alphabay-2017-denton/*.csv"))
        ),
    ]
    for path, column in sources:
        if not path.exists():
            continue
        with path.open(newline="", encoding="utf-8", errors="replace") as fh:
            titles.extend(row.get(column) or "" for row in csv.DictReader(fh))
        if len(titles) >= limit:
            break
    return [t for t in titles if t][:limit]


def synthetic_titles(n: int) -> list[str]:
    rng = random.Random(5)
    names = ["Cocaine", "MDMA Crystal", "Xanax", "LSD", "Amnesia Haze", "Ketamine", "Speed Paste"]
    shapes = ["{q}g {n} {p}% pure", "{c}x {n} {d}mg", "{n} {d}ug blotters x{c}", "{n} {q} Gramm"]
    return [
        rng.choice(shapes).format(
            n=rng.choice(names),
            q=rng.choice([0.5, 1, 3.5, 7, 28]),
            c=rng.choice([5, 10, 100]),
            d=rng.choice([1, 2, 100]),
            p=rng.choice([80, 90]),
        )
        for _ in range(n)
    ]


_NAIVE_PATTERNS = [
    r"(\d+(?:[.,]\d+)?)\s*(g|gr|gram|grams|kg|oz|lb|mg)\b",
    r"(\d+)\s*x\b|\bx\s*(\d+)|(\d+)\s*(pills|tabs|blotters|caps)",
    r"(\d+(?:[.,]\d+)?)\s*(mg|ug|mcg|µg)",
    r"(\d+(?:[.,]\d+)?)\s*ml\b",
    r"(\d+(?:[.,]\d+)?)\s*%",
]


def naive_normalise(title: str, terms: list[tuple[str, str | None]]) -> tuple[str, list[str]]:
    """The baseline: compile per title, scan every lexicon entry with ``in``."""
    low = title.lower()
    substance = ""
    for term, sub in terms:
        if sub and term in low:
            substance = sub
            break
    found = []
    for pattern in _NAIVE_PATTERNS:
        compiled = re.compile(pattern, re.IGNORECASE)  # the cost a naive script pays
        m = compiled.search(title)
        found.append(m.group(0) if m else "")
    return substance, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=60_000)
    args = parser.parse_args()
    titles = real_titles(args.limit)
    source = "real titles"
    if len(titles) < 1000:
        titles, source = synthetic_titles(args.limit), "synthetic titles"
    lex = default_lexicon()
    normalise_title("warm-up 1g cocaine")
    # CPU time of this process (one core), so other work on the machine does not skew the
    # figure; the baseline below is measured the same way in the same run.
    start = time.process_time()
    for t in titles:
        normalise_title(t, lexicon=lex)
    fast = len(titles) / (time.process_time() - start)

    terms = [(fold(t.text), t.substance) for t in lex.terms]
    sample = titles[: max(1000, len(titles) // 20)]
    re.purge()
    start = time.process_time()
    for t in sample:
        naive_normalise(t, terms)
        re.purge()  # defeat re's cache: every title compiles again
    naive = len(sample) / (time.process_time() - start)
    print(f"input: {len(titles):,} {source} (naive on {len(sample):,})")
    print(f"dnmwatch normalise_title : {fast:12,.0f} titles/s/core")
    print(f"naive per-title pipeline : {naive:12,.0f} titles/s/core")
    print(f"ratio                    : {fast / naive:12,.1f}x")


if __name__ == "__main__":
    main()
