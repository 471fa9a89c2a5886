"""Causes of the demo's misses on seeds 2 and 3, each pinned on a small synthetic case.

* seed 2, heroin EUR/g +49.8%: "Dope 28 g" filed under the market category "Opioids" was read
  as cannabis (German slang), so 943 of its sales left heroin's median;
* seed 2, gidra October revenue -3.5% (2593 feedback): noon-to-noon feedback intervals were
  split 50/50 between their two days while about 70% of postings fall after noon UTC;
* seed 3, forum offers recall 234/238: the truth's "Escrow refund paul59" was compared with
  the stored, scrubbed "Escrow refund [buyer]".
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from dnmwatch.estimate.accuracy import title_key
from dnmwatch.estimate.sales import (
    HOUR_PROFILE_MIN,
    Undated,
    assign_days,
    day_shares,
    hour_profile,
)
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


def _evening(n: int) -> list[datetime]:
    """``n`` posting times, 3 in 4 of them after noon."""
    day = datetime(2020, 3, 1)
    return [day + timedelta(hours=(13 + i % 11) if i % 4 else (i % 12), minutes=7)
            for i in range(n)]


def test_hour_profile_needs_enough_hour_precise_feedback() -> None:
    assert hour_profile(_evening(HOUR_PROFILE_MIN - 1)) is None
    profile = hour_profile(_evening(HOUR_PROFILE_MIN))
    assert profile is not None and len(profile) == 25
    assert profile[0] == 0.0 and profile[24] == 1.0
    assert 0.2 < profile[12] < 0.3  # a quarter of the postings before noon (smoothed)


def test_day_shares_follow_the_posting_hour_profile() -> None:
    profile = hour_profile(_evening(2000))
    assert profile is not None
    noon = datetime(2020, 3, 31, 12)
    shares = day_shares(noon, noon + timedelta(days=1), profile)
    assert abs(sum(shares.values()) - 1.0) < 1e-12
    assert 0.7 < shares[date(2020, 3, 31)] < 0.8
    # whole days weigh the same whatever the profile; no profile: proportional to time
    shares = day_shares(datetime(2020, 3, 31), datetime(2020, 4, 2), profile)
    assert abs(shares[date(2020, 3, 31)] - 0.5) < 1e-12
    assert day_shares(noon, noon + timedelta(days=1)) == {date(2020, 3, 31): 0.5,
                                                          date(2020, 4, 1): 0.5}


def test_assign_days_puts_a_boundary_interval_mostly_on_its_evening() -> None:
    """Eight equal sales in the 31 March noon - 1 April noon interval of an evening-posting
    market: six go to March (its expected 75%), not four."""
    profile = hour_profile(_evening(2000))
    noon = datetime(2020, 3, 31, 12)
    sales = [Undated("m", f"k{i}", noon, noon + timedelta(days=1), 100.0, profile)
             for i in range(8)]
    days = assign_days(sales)
    assert days.count(date(2020, 3, 31)) == 6
    uniform = assign_days([Undated("m", f"k{i}", noon, noon + timedelta(days=1), 100.0)
                           for i in range(8)])
    assert uniform.count(date(2020, 3, 31)) == 4
