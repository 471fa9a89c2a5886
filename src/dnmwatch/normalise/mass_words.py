"""Masses stated in words: "one pound", "half-oz", "media onza", "пол кило", a bare "OZ".

Why a module of its own: digits-and-unit amounts ("3.5g") are one regular expression in
``quantities``; masses written with number words need a table of number words in the languages
of the lexicon, and trade words ("eighth", "zip", "QP") need their own rules (a bare "QP" or
"OZ" in a title is one quarter pound or one ounce). Keeping them here keeps ``quantities``
small. The input is a *folded* title (lower case, accents stripped: "två" -> "tva",
"pół" -> "pol"); every match must not overlap an amount already read from digits.
"""

from __future__ import annotations

import re

OUNCE_G = 28.349523125
POUND_G = 453.59237

NUMBER_WORDS: dict[str, float] = {
    # en, nl, de, fr, es, it, pl, sv, ru: one, two, three; halves and quarters
    **dict.fromkeys(["a", "an", "one", "een", "ein", "eine", "einen", "un", "une", "uno"], 1.0),
    **dict.fromkeys(["una", "jeden", "jedna", "ett", "один", "одна", "одну"], 1.0),
    **dict.fromkeys(["two", "twee", "zwei", "deux", "dos", "due", "dwa", "dwie", "tva"], 2.0),
    **dict.fromkeys(["два", "две"], 2.0),
    **dict.fromkeys(["three", "drie", "drei", "trois", "tres", "tre", "trzy", "три"], 3.0),
    **dict.fromkeys(["four", "vier", "quatre", "cuatro", "quattro", "cztery", "fyra"], 4.0),
    **dict.fromkeys(["five", "vijf", "funf", "cinq", "cinco", "cinque", "piec", "fem"], 5.0),
    **dict.fromkeys(["half", "halve", "halbe", "halbes", "halben", "demi", "demie"], 0.5),
    **dict.fromkeys(["medio", "media", "mezzo", "mezza", "pol", "halv", "halva"], 0.5),
    **dict.fromkeys(["пол", "половина"], 0.5),
    **dict.fromkeys(["quarter", "viertel", "kwart", "quart", "cuarto", "quarto"], 0.25),
    **dict.fromkeys(["cwierc", "kvarts", "четверть"], 0.25),
}
UNIT_WORDS: dict[str, float] = {
    **dict.fromkeys(["g", "gram", "grams", "gramm", "gramme", "gramo", "gramos"], 1.0),
    **dict.fromkeys(["grammo", "grammi", "grama", "gramy", "грамм", "грамма"], 1.0),
    **dict.fromkeys(["kilo", "kilos", "kg", "kilogram", "kilogramm", "кило", "кг"], 1000.0),
    **dict.fromkeys(["oz", "ounce", "ounces", "onza", "onzas", "oncia", "once"], OUNCE_G),
    **dict.fromkeys(["uncja", "uncji", "унция", "унции", "унцию"], OUNCE_G),
    **dict.fromkeys(["lb", "lbs", "pound", "pounds", "pfund", "livre", "libra", "libras"], POUND_G),
    **dict.fromkeys(["фунт", "фунта"], POUND_G),
}
TRADE_WORDS: dict[str, float] = {
    "eighth": OUNCE_G / 8,
    "eighths": OUNCE_G / 8,
    "zip": OUNCE_G,
    "zips": OUNCE_G,
    "qp": POUND_G / 4,
    "hp": POUND_G / 2,
    "oz": OUNCE_G,
    "ounce": OUNCE_G,
    "lb": POUND_G,
    "полкило": 500.0,
}
_CANNABIS_ONLY = frozenset({"hp"})
""""HP" is half a pound only in the cannabis trade (elsewhere a brand or horsepower)."""


def _alt(words: dict[str, float]) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


_UNIT_OR_TRADE = frozenset({*UNIT_WORDS, *TRADE_WORDS})
_NUMBER_BEFORE_RE = re.compile(
    rf"(?<![^\W\d_])(?P<n>{_alt(NUMBER_WORDS)})[\s-]+(?:of\s+)?(?:an?\s+|de\s+|di\s+)?$"
)
_NOT_MASS_BEFORE_RE = re.compile(r"(?:/|\bper|\bpro|\bpar|\bpor|\bза|\bfl\.?)\s*$")


def word_masses(
    folded: str,
    tokens: list[tuple[str, int, int]],
    taken: list[tuple[int, int]],
    *,
    cannabis: bool = False,
    bare: bool = True,
) -> list[tuple[int, float]]:
    """Masses in words as ``(position, grams)``, skipping spans in ``taken``.

    "one pound" = 453.6 g, "half-oz" = 14.2 g, "media onza", "пол кило" = 500 g; a bare trade
    word counts once ("OZ" = 1 oz, "QP" = 113.4 g) when ``bare`` (products sold by mass only:
    on pills and vials "OZ" is Australia, as in "UGL OZ"); a unit word right after ``/``,
    "per" or "fl" is a price basis or a volume ("$250/oz", "per ounce", "8 fl oz"), not a
    mass. The spans found are appended to ``taken``.

    ``tokens`` are the title's word tokens with their spans (``lexicon.token_spans``), already
    computed for the lexicon: a set look-up per token finds unit and trade words, and only then
    is the text before a unit word checked for a number word (a regular expression scanning
    for number words everywhere would cost more than the rest of this function).
    """
    out: list[tuple[int, float]] = []
    for word, start, end in tokens:
        if word not in _UNIT_OR_TRADE or _overlaps((start, end), taken):
            continue
        unit = UNIT_WORDS.get(word)
        number = _NUMBER_BEFORE_RE.search(folded, max(0, start - 24), start) if unit else None
        if number is not None and unit is not None:
            if not _overlaps((number.start(), start), taken):
                out.append((number.start(), NUMBER_WORDS[number["n"]] * unit))
                taken.append((number.start(), end))
            continue
        grams = TRADE_WORDS.get(word)
        if grams is None or not bare or (word in _CANNABIS_ONLY and not cannabis):
            continue
        if _NOT_MASS_BEFORE_RE.search(folded, max(0, start - 6), start):
            continue
        out.append((start, grams))
        taken.append((start, end))
    return out


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    start, end = span
    return any(s < end and start < e for s, e in taken)
