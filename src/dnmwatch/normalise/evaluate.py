"""Score the normaliser on a hand-labelled title set (``labels/titles-dev.csv`` format).

The rules are those of ``shared/data/labels/README.md``, so that the same function scores the
development set and the larger set kept aside:

* only rows with ``confident = y``;
* substance and category: exact match;
* mass_g and volume_ml: right when both are empty, or both present and within 3 % of each other;
* count, dose_value and purity_pct: exact (dose_unit must match when dose_value does);
* quantity fields are scored on rows with ``multi = 0`` only.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dnmwatch.normalise.pipeline import Normalised, normalise_title

FIELDS = ("substance", "category", "mass", "count", "dose", "volume", "purity")
TOLERANCE = 0.03


@dataclass(slots=True)
class FieldScore:
    """Right and scored rows of one field, and the ids of the misses (for inspection)."""

    right: int = 0
    total: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.right / self.total if self.total else 1.0


def _num(text: str | None) -> float | None:
    text = (text or "").strip()
    return float(text) if text else None


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= TOLERANCE * max(abs(a), abs(b))


def _exact(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) < 1e-9


def score_row(label: dict[str, str], got: Normalised) -> dict[str, bool]:
    """Which fields of one row are right (quantity fields only when ``multi = 0``)."""
    out = {
        "substance": got.substance == label["substance"],
        "category": got.category == label["category"],
    }
    if (label.get("multi") or "0").strip() == "0":
        dose_ok = _exact(got.dose_value, _num(label.get("dose_value")))
        if dose_ok and got.dose_value is not None:
            dose_ok = (got.dose_unit or "") == (label.get("dose_unit") or "").strip()
        count = float(got.count) if got.count is not None else None
        out |= {
            "mass": _close(got.mass_g, _num(label.get("mass_g"))),
            "count": _exact(count, _num(label.get("count"))),
            "dose": dose_ok,
            "volume": _close(got.volume_ml, _num(label.get("volume_ml"))),
            "purity": _exact(got.purity_pct, _num(label.get("purity_pct"))),
        }
    return out


def evaluate(
    path: Path,
    normalise: Callable[[str, str | None], Normalised] = normalise_title,
) -> dict[str, FieldScore]:
    """Per-field accuracy of ``normalise`` on a labelled CSV file."""
    scores = {name: FieldScore() for name in FIELDS}
    with path.open(newline="", encoding="utf-8") as fh:
        for label in csv.DictReader(fh):
            if (label.get("confident") or "").strip() != "y":
                continue
            got = normalise(label["title"], label.get("market_category") or None)
            for name, ok in score_row(label, got).items():
                score = scores[name]
                score.total += 1
                if ok:
                    score.right += 1
                else:
                    score.misses.append(label.get("id", "?"))
    return scores


def format_scores(scores: dict[str, FieldScore]) -> str:
    """One line per field: ``substance  0.975  (156/160)``."""
    return "\n".join(
        f"{name:<10} {s.accuracy:.3f}  ({s.right}/{s.total})" for name, s in scores.items()
    )
