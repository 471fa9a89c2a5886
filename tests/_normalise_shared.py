"""Where the shared evaluation data lives for the normalise tests (skipped when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def shared_dir() -> Path:
    env = os.environ.get("DNMWATCH_SHARED_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared"


def require(rel: str) -> Path:
    path = shared_dir() / rel
    if not path.exists():
        pytest.skip(f"shared evaluation data absent: {path} (see shared/data/real/SOURCES.md)")
    return path
