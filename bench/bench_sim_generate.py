"""Benchmark of the world generator: seconds, transactions and transactions/s per scale.

Usage: ``python bench/bench_sim_generate.py [tiny|small|medium|large ...]`` (default: small
medium large). Also times writing the truth files and reports their total size.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from dnmwatch.sim.generate import generate_world
from dnmwatch.sim.model import SCALES, preset
from dnmwatch.sim.truth import write_truth


def bench(scale: str) -> None:
    if scale not in SCALES:
        raise SystemExit(f"unknown scale {scale!r}; choose from {', '.join(SCALES)}")
    config = preset(scale)  # type: ignore[arg-type]
    t0 = time.perf_counter()
    world = generate_world(config)
    gen = time.perf_counter() - t0
    n_tx = world.table("transactions").num_rows
    with tempfile.TemporaryDirectory() as tmp:
        t1 = time.perf_counter()
        write_truth(world, Path(tmp))
        write = time.perf_counter() - t1
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
    print(f"{scale:7s} generate {gen:7.2f} s  transactions {n_tx:>10,d}  "
          f"{n_tx / gen:>12,.0f} tx/s  listings {world.table('listings').num_rows:>6,d}  "
          f"feedback {world.table('feedback').num_rows:>10,d}  "
          f"truth write {write:6.2f} s  {size / 1e6:8.1f} MB", flush=True)


def main(argv: list[str]) -> None:
    for scale in argv or ["small", "medium", "large"]:
        bench(scale)


if __name__ == "__main__":
    main(sys.argv[1:])
