"""Causes of the demo's misses on seeds 2 and 3, each pinned on a small synthetic case.

* seed 2, heroin EUR/g +49.8%: "Dope 28 g" filed under the market category "Opioids" was read
  as cannabis (German slang), so 943 of its sales left heroin's median;
* seed 3, forum offers recall 234/238: the truth's "Escrow refund paul59" was compared with
  the stored, scrubbed "Escrow refund [buyer]".
"""

from __future__ import annotations

import pytest

from dnmwatch.estimate.accuracy import title_key
from dnmwatch.normalise.pipeline import normalise_title
from dnmwatch.normalise.substances import class_hint

DOPE = "🔥🔥 Dope 28 g // Reagent Tested"


@pytest.mark.parametrize("category", ["Opioids", "Drugs > Opioids > Other", "heroin"])
def test_ambiguous_slang_follows_the_drug_class_of_the_market_category(category: str) -> None:
    norm = normalise_title(DOPE, category)
    assert (norm.substance, norm.form, norm.mass_g) == ("heroin", "powder", 28.0)


@pytest.mark.parametrize("category", [None, "Cannabis", "Weed"])
def test_ambiguous_slang_without_a_drug_class_keeps_its_first_reading(
        category: str | None) -> None:
    assert normalise_title(DOPE, category).substance == "cannabis"


def test_class_hint_reads_plural_and_nested_categories() -> None:
    assert class_hint("Drugs > Opioids > Other") == "opioids"
    assert class_hint("Benzos") == "benzodiazepines"
    assert class_hint("Cannabis") is None
    assert class_hint(None) is None
    # a drug class never overrides a specific name in the title
    assert normalise_title("Xanax 2mg bars x10", "Opioids").substance == "alprazolam"


def test_offer_titles_compare_after_the_title_scrub() -> None:
    assert title_key("Escrow refund paul59") == title_key("Escrow refund [buyer]")
    assert title_key("Escrow refund [buyer]") == "escrow refund buyer"
    assert title_key("🌿 Buds 5 g ~ [ESCROW]") == "buds 5 g escrow"
