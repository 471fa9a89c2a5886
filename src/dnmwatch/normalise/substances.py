"""Substance, category and form of a listing title.

Rules (in this order; documented in ``docs/normalise.md``):

1. A ``nondrug`` term (guide, account, dumps, passport, knife...) makes the listing
   ``non_drug`` whatever drug it names: "Secret of Methamphetamine Manufacture eBook" is a book.
2. Otherwise the earliest ``name`` term gives the substance. When several different substances
   are named, the market category breaks the tie if it names one of them.
3. Otherwise ``slang`` terms (weak: "ice", "snow", "critical", "bars"): the market category wins
   when it names a substance (including ``non_drug``); else, when it names only a drug class
   ("Opioids", "Benzos"), the earliest slang term of a substance of that class ("Dope" is
   heroin under Opioids, cannabis under Cannabis); else the earliest slang term.
4. Otherwise a ``goods`` term (bags, scales, papers, tools, brands of goods, placeholders such
   as "custom listing" or "reserved for") makes it ``non_drug``, unless the market category
   names a drug and the title states a unit form ("Gucci pills 240mg" under Ecstasy).
5. Otherwise the market category, then nothing (an empty substance, counted as unrecognised).

The market's category is used only in steps 2, 3 and 5: it is often wrong (tramadol under
"Benzos"), so it never overrides a specific name in the title.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

from dnmwatch.normalise.lexicon import Match, category_terms, fold, tokenize

UNIT_FORMS = frozenset({"pill", "capsule", "blotter", "patch", "seed"})
_BLOTTER_SUBSTANCES = frozenset({"lsd", "nbome", "lysergamide_nps"})


@dataclass(frozen=True, slots=True)
class TaxonomyEntry:
    """One row of the packaged taxonomy: category, how it is sold, its usual form."""

    substance: str
    category: str
    sold_by: str
    default_form: str


@cache
def taxonomy() -> dict[str, TaxonomyEntry]:
    """The substance vocabulary (a copy of ``design/taxonomy.csv`` plus sale unit and form)."""
    text = (
        resources.files("dnmwatch.normalise")
        .joinpath("data")
        .joinpath("taxonomy.csv")
        .read_text("utf-8")
    )
    out: dict[str, TaxonomyEntry] = {}
    for row in csv.DictReader(io.StringIO(text)):
        out[row["substance"]] = TaxonomyEntry(
            row["substance"], row["category"], row["sold_by"], row["default_form"]
        )
    return out


def category_hint(market_category: str | None) -> str | None:
    """The substance a market category names, using its most specific (right-most) word."""
    if not market_category:
        return None
    table = category_terms()
    hint: str | None = None
    for token in tokenize(fold(market_category)):
        sub = table.get(token)
        if sub is not None:
            hint = sub
    return hint


_CLASS_WORDS = {"opioid": "opioids", "opiate": "opioids", "benzo": "benzodiazepines",
                "benzodiazepine": "benzodiazepines", "stimulant": "stimulants",
                "psychedelic": "psychedelics", "dissociative": "dissociatives",
                "depressant": "depressants", "steroid": "steroids_pied"}
"""Market-category words naming a drug class (singular; a plural "s" is dropped) -> the
taxonomy category."""


def class_hint(market_category: str | None) -> str | None:
    """The taxonomy category (drug class) a market category names, right-most word first:
    "Drugs > Opioids" -> ``opioids``. Weaker than :func:`category_hint`: it only chooses
    between the readings of an ambiguous slang word."""
    if not market_category:
        return None
    hint: str | None = None
    for token in tokenize(fold(market_category)):
        found = _CLASS_WORDS.get(token) or _CLASS_WORDS.get(token[:-1] if token.endswith("s")
                                                            else token)
        if found is not None:
            hint = found
    return hint


@dataclass(frozen=True, slots=True)
class SubstanceResult:
    """What the text says about the product, before quantities."""

    substance: str
    category: str
    form: str
    unit_sold: bool
    """True when the product is sold in discrete units (pills, blotters, vials)."""
    anchors: tuple[int, ...] = ()
    """Character ends of the substance terms: a bare number after one may be a dose."""
    name_start: int | None = None
    """Where the first term naming the substance starts: a bare number before it may be a
    count ("[NEW] 50 Alprazolam")."""


def _pick_named(names: list[Match], hint: str | None) -> Match:
    subs = {m.term.substance for m in names}
    if len(subs) > 1 and hint in subs:
        return next(m for m in names if m.term.substance == hint)
    return names[0]


def _pick_slang(slang: list[Match], matches: list[Match], drug_class: str | None = None
                ) -> Match:
    """The earliest slang term of a substance of ``drug_class`` (the market category's drug
    class) when there is one, else the earliest slang term, but not one that is also a form
    word when slang names several substances: in "Crystal Molly" the word "crystal" (slang for
    meth, but also a form) is the weaker evidence."""
    if drug_class is not None:
        table = taxonomy()
        for m in slang:
            entry = table.get(m.term.substance or "")
            if entry is not None and entry.category == drug_class:
                return m
    if len({m.term.substance for m in slang}) > 1:
        form_at = {m.token_index for m in matches if m.term.kind == "form"}
        for m in slang:
            if m.token_index not in form_at:
                return m
    return slang[0]


def classify(matches: list[Match], market_category: str | None = None) -> SubstanceResult:
    """Apply the rules of this module to the terms found in one title."""
    hint = category_hint(market_category)
    names = [m for m in matches if m.term.kind == "name" and m.term.substance]
    slang = [m for m in matches if m.term.kind == "slang" and m.term.substance]
    chosen: Match | None = None
    substance = ""
    if any(m.term.kind == "nondrug" for m in matches):
        substance = "non_drug"
    elif names:
        chosen = _pick_named(names, hint)
    elif slang:
        if hint is not None:
            substance = hint
            chosen = next((m for m in slang if m.term.substance == hint), None)
        else:
            chosen = _pick_slang(slang, matches, class_hint(market_category))
    elif any(m.term.kind == "goods" for m in matches):
        # A weak non-drug word (a brand, "custom", "reserved") loses only to a market category
        # naming a drug when the title also states a unit form ("Gucci pills" under Ecstasy;
        # "Dab Tools" under Cannabis stays paraphernalia).
        drug_hint = hint is not None and hint != "non_drug"
        has_form = any(m.term.kind == "form" and m.term.form in UNIT_FORMS for m in matches)
        substance = hint if drug_hint and has_form and hint is not None else "non_drug"
    elif hint is not None:
        substance = hint
    if chosen is not None:
        substance = chosen.term.substance or ""
    entry = taxonomy().get(substance)
    if entry is None:
        return SubstanceResult("", "", _explicit_form(matches) or "", False)
    same_terms = [m for m in (*names, *slang) if m.term.substance == substance]
    anchors = tuple(m.end for m in same_terms)
    name_start = min((m.start for m in same_terms), default=None)
    form = _explicit_form(matches)
    if form is None:
        form = _term_form(chosen, [m for m in (*names, *slang) if m.term.substance == substance])
    if form is None:
        form = entry.default_form
    if substance in _BLOTTER_SUBSTANCES and form in ("pill", "capsule", "liquid", ""):
        form = "blotter" if form != "liquid" else form
    if substance == "non_drug":
        form = ""
    unit_sold = form in UNIT_FORMS or (entry.sold_by == "unit" and form not in _MASS_FORMS)
    return SubstanceResult(substance, entry.category, form, unit_sold, anchors, name_start)


_MASS_FORMS = frozenset({"powder", "crystal", "herbal", "resin", "concentrate", "paste"})
_FORM_PRIORITY = ("crack", "pill", "capsule", "blotter", "seed", "patch", "edible", "liquid")


def _term_form(chosen: Match | None, same: list[Match]) -> str | None:
    """The form implied by the names of the substance; a unit form wins ("10 XTC ... MDMA")."""
    for m in same:
        if m.term.form in UNIT_FORMS:
            return m.term.form
    return chosen.term.form if chosen is not None else None


def _explicit_form(matches: list[Match]) -> str | None:
    """The form stated by form words; unit forms beat mass forms ("MDMA pills" -> pill)."""
    forms = [m.term.form for m in matches if m.term.kind == "form" and m.term.form]
    if not forms:
        return None
    for preferred in _FORM_PRIORITY:
        if preferred in forms:
            return preferred
    return forms[0]
