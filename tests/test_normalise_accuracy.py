"""Accuracy floors on the hand-labelled titles (labels/README.md scoring rules)."""

from __future__ import annotations

import csv

import pytest

from _normalise_shared import require
from dnmwatch.normalise.evaluate import FIELDS, evaluate, format_scores, score_row
from dnmwatch.normalise.pipeline import Normalised, normalise_title

FLOOR = 0.95


def test_every_field_meets_the_floor_on_titles_dev() -> None:
    scores = evaluate(require("data/labels/titles-dev.csv"))
    report = format_scores(scores)
    assert set(scores) == set(FIELDS)
    for name, score in scores.items():
        assert score.total >= 150, report
        assert score.accuracy >= FLOOR, f"{name} below {FLOOR}:\n{report}\nmisses {score.misses}"


def test_scorer_applies_the_readme_rules() -> None:
    label = {
        "substance": "cocaine",
        "category": "stimulants",
        "multi": "0",
        "mass_g": "28",
        "count": "",
        "dose_value": "",
        "dose_unit": "",
        "volume_ml": "",
        "purity_pct": "",
    }
    close = Normalised("cocaine", "stimulants", "powder", 28.3495, None, None, None, None, None)
    far = Normalised("cocaine", "stimulants", "powder", 30.0, None, None, None, None, None)
    assert score_row(label, close)["mass"] is True  # within 3 %
    assert score_row(label, far)["mass"] is False
    multi = dict(label, multi="1")
    assert set(score_row(multi, far)) == {"substance", "category"}
    dosed = dict(label, mass_g="", dose_value="10", dose_unit="mg")
    wrong_unit = Normalised("cocaine", "stimulants", "", None, None, 10.0, "ug", None, None)
    assert score_row(dosed, wrong_unit)["dose"] is False


@pytest.mark.realdata
def test_dream_purity_and_mass_agree_with_the_datasets_own_columns() -> None:
    """Dream's scraper extracted grams and purity itself; where it is not visibly wrong
    (it reads "0,5" as 5), we agree with it on nearly every row."""
    path = require("data/real/dream-cocaine-2017/dream_market_cocaine_listings.csv")
    agree = total = 0
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            title = row["product_title"]
            if "," in title or not row["grams"]:
                continue
            got = normalise_title(title, "Drugs/Cocaine")
            total += 1
            grams = float(row["grams"])
            agree += got.mass_g is not None and abs(got.mass_g - grams) <= 0.03 * grams
    assert total > 1000
    assert agree / total >= 0.97
