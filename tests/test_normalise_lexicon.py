"""The lexicon: breadth, languages, matching rules, and coverage of the DEA/DOPE lexicons."""

from __future__ import annotations

import csv
import re

from _normalise_shared import require
from dnmwatch.normalise.lexicon import Lexicon, Term, default_lexicon, fold, parse_lexicon_csv
from dnmwatch.normalise.pipeline import normalise_title
from dnmwatch.normalise.substances import category_hint, taxonomy


def test_lexicon_is_broad_and_uses_the_taxonomy_vocabulary() -> None:
    lex = default_lexicon()
    assert len(lex) >= 2000
    vocab = set(taxonomy())
    assert {t.substance for t in lex.terms if t.substance} <= vocab
    named = {t.substance for t in lex.terms if t.kind in ("name", "slang")}
    assert len(named) >= len(vocab) - 2  # every drug substance has names


def test_languages_and_scripts() -> None:
    cases = {
        "5g Kokain": "cocaine",
        "Gramm Haschisch": "cannabis",
        "wiet 10 gram": "cannabis",
        "cocaïne pure 2g": "cocaine",
        "hachís marroquí": "cannabis",
        "funghi magici": "psilocybin",
        "grzyby halucynogenne": "psilocybin",
        "svamp 10g": "psilocybin",
        "кокаин 1 гр": "cocaine",
        "мефедрон кристаллы 2г": "cathinone",
        "Gras 5g": "cannabis",
        "Zauberpilze": "psilocybin",
        "Xannax 2mg": "alprazolam",
        "Mariujana": "cannabis",
        "Valuim 10mg": "diazepam",
    }
    for title, substance in cases.items():
        assert normalise_title(title).substance == substance, title


def test_longest_match_and_plural() -> None:
    lex = Lexicon(
        [
            Term("ice", "methamphetamine", "crystal", "slang"),
            Term("ice-o-lator", "cannabis", "resin", "name"),
            Term("m30", "oxycodone", "pill", "name"),
        ]
    )
    assert [m.term.text for m in lex.match("Ice-O-Lator hash")] == ["ice-o-lator"]
    assert [m.term.text for m in lex.match("10 blue M30s")] == ["m30"]


def test_rules_nondrug_beats_names_and_category_breaks_ties() -> None:
    assert normalise_title("Secret of Methamphetamine Manufacture eBook").substance == "non_drug"
    assert normalise_title("Critical Psychology", "Information/eBooks").substance == "non_drug"
    assert normalise_title("Critical 5g", "Drugs/Cannabis/Weed").substance == "cannabis"
    assert normalise_title("Rivotril 2mg", "Stimulants").substance == "clonazepam"
    assert normalise_title("Strawberry 100ug x5", "Psychedelics - LSD").substance == "lsd"
    assert category_hint("Cannabis & Hashish/D&C_-_cannabis_-_seeds_-_20170427.csv") == "cannabis"
    assert category_hint(None) is None


def test_unknown_kinds_are_skipped() -> None:
    terms = parse_lexicon_csv("term,substance,form,kind,lang\nfoo,cocaine,,bogus,en\n")
    assert terms == []


def _coverage(names: list[str]) -> float:
    lex = default_lexicon()
    return sum(1 for n in names if lex.match(n)) / len(names)


def test_coverage_of_the_dope_lexicon_canonical_names() -> None:
    """We do not copy DOPE (MIT) or the DEA lists; we measure how many of their canonical
    drugs our own lexicon knows (87 % of DOPE's 63 drug categories when measured)."""
    path = require("data/real/drug-slang-dope/lookup_df.csv")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    categories = sorted({r["category"] for r in rows if r["category"] != "Unknown"})
    assert _coverage(categories) >= 0.85
    synonyms = [r["synonym"] for r in rows]
    assert _coverage(synonyms) >= 0.18  # street slang: thousands of rare names


def test_coverage_of_the_dea_slang_heads() -> None:
    folder = require("data/real/dea-slang-ht-weng")
    heads = []
    for path in sorted(folder.glob("*.csv")):
        first = path.read_text(encoding="utf-8", errors="replace").split(",", 1)[0]
        heads.append(re.sub(r"[^\w\s-]", " ", fold(first)).strip())
    heads = [h for h in heads if h]
    assert heads
    assert _coverage(heads) >= 0.8
