"""Shared pieces of the normalise tests: where the evaluation data lives (skipped when absent)
and the ``normalise`` commands mounted on a bare root app."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import typer

from dnmwatch.normalise.cli import register


def shared_dir() -> Path:
    env = os.environ.get("DNMWATCH_SHARED_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared"


def require(rel: str) -> Path:
    path = shared_dir() / rel
    if not path.exists():
        pytest.skip(f"shared evaluation data absent: {path} (see shared/data/real/SOURCES.md)")
    return path


def normalise_app() -> typer.Typer:
    """A root app with only the ``normalise`` commands registered (the CLI runner's target)."""
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test root."""

    register(app)
    return app
