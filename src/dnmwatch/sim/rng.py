"""Named, seeded random streams.

Each part of the generator draws from its own stream derived from ``(seed, name)``, so that
changing how many numbers one part draws (say, a new title decoration) does not shift every
other part of the world. Names are hashed with CRC-32, not Python's ``hash`` (which is salted per
process and would break byte-identical output).
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, name: str) -> np.random.Generator:
    """A generator for the part ``name`` of the world of ``seed``."""
    return np.random.default_rng(np.random.SeedSequence([seed & 0xFFFFFFFF, seed >> 32,
                                                         zlib.crc32(name.encode())]))


def pick(rng: np.random.Generator, items: tuple[str, ...] | list[str]) -> str:
    """One item, uniformly."""
    return items[int(rng.integers(len(items)))]


def pick_weighted(rng: np.random.Generator, weights: dict[str, float]) -> str:
    """One key of ``weights`` with probability proportional to its value (insertion order)."""
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]
