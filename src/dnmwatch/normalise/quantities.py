"""Quantities in listing titles: mass, count, dose per unit, volume, purity.

Regular expressions do the extraction (quantulum3 mis-reads "5 Gramm", "10 gr" and "0,5g", see
FIELD-NOTES); the unit factors below do the conversion. All patterns are compiled once, at
import (compiling is not I/O). The input is a *folded* title (see :func:`lexicon.fold`).

Semantics (ARCHITECTURE.md): ``mass_g`` is the total mass of one purchase; ``count`` the number
of discrete units; ``dose_value``/``dose_unit`` the strength of one unit (``mg``, ``ug``,
``mg/ml``, ``iu``); ``volume_ml`` the total liquid volume; ``purity_pct`` the stated purity. A
range ("89-91%", "180-200mg") gives its lower bound. Rules are listed in ``docs/normalise.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dnmwatch.normalise.lexicon import token_spans
from dnmwatch.normalise.mass_words import word_masses

OUNCE_G = 28.349523125
POUND_G = 453.59237

MASS_UNITS: dict[str, float] = {
    **dict.fromkeys(
        [
            "g",
            "gs",
            "gr",
            "grs",
            "gm",
            "gms",
            "grm",
            "gram",
            "grams",
            "gramm",
            "gramme",
            "grammes",
            "gramos",
            "grammi",
            "gramo",
            "grammo",
            "gramy",
            "gramow",
            "gramov",
            "gr.",
            "гр",
            "г",
            "грамм",
            "грамма",
            "граммов",
        ],
        1.0,
    ),
    **dict.fromkeys(
        [
            "kg",
            "kgs",
            "kilo",
            "kilos",
            "kilogram",
            "kilograms",
            "kilogramm",
            "kilogramos",
            "кг",
            "кило",
        ],
        1000.0,
    ),
    **dict.fromkeys(["mg", "mgs", "milligram", "milligrams", "milligramm", "мг"], 0.001),
    **dict.fromkeys(
        ["oz", "ozs", "ounce", "ounces", "onza", "onzas", "oncia", "uncja", "унция", "унции"],
        OUNCE_G,
    ),
    **dict.fromkeys(
        ["lb", "lbs", "pound", "pounds", "pfund", "livre", "libra", "libras", "фунт"], POUND_G
    ),
}
MICRO_UNITS = frozenset(
    [
        "ug",
        "mcg",
        "mcgs",
        "мкг",
        "microgram",
        "micrograms",
        "microgramm",
        "mikrogramm",
        "microgrammes",
    ]
)
VOLUME_UNITS: dict[str, float] = {
    **dict.fromkeys(
        ["ml", "mls", "milliliter", "millilitre", "milliliters", "millilitres", "мл"], 1.0
    ),
    **dict.fromkeys(["cl"], 10.0),
    **dict.fromkeys(
        ["l", "ltr", "liter", "litre", "liters", "litres", "литр", "литра", "литров"], 1000.0
    ),
}
IU_UNITS = frozenset(["iu", "ui", "ie"])
COUNT_WORDS = (
    "pills? tabs? tablets? tabl caps? capsules? blotters? hits? strips? vials? amps? ampoules? "
    "ampules? carts? cartridges? seeds? units? pcs pieces? stk stuck stucks? stuks? sztuk\\w* szt "
    "шт штук\\w* таблет\\w* bars cps tb pz pezzi piezas unidades trips "
    "doses? squares dots microdots gel\\s?tabs tabletten pillen tabletki tabletter comprimes "
    "pastillas pastiglie compresse softgels? gelcaps? lozenges? patches films? gummies "
    "bottles? kapseln kapslar капсул\\w* пилюл\\w* blots? stamps? paper\\s?tabs"
)

_NUM = r"(?:\d+(?:[.,]\d+)*|[.,]\d+)"
_UNIT_ALT = "|".join(
    sorted(
        (re.escape(u) for u in (*MASS_UNITS, *MICRO_UNITS, *VOLUME_UNITS, *IU_UNITS)),
        key=len,
        reverse=True,
    )
)
_END = r"(?![^\W\d_])"
_AMOUNT_RE = re.compile(
    rf"(?<![\w.,/])(?:(?P<n>\d+)\s*[x*]\s*)?(?P<a>{_NUM})(?:\s*(?:-|–|to|~)\s*(?P<b>{_NUM}))?"
    rf"\s*(?P<u>{_UNIT_ALT}){_END}(?P<per>\s*/\s*(?:1\s*)?(?P<den>ml|мл|tab|tablet|pill|cap|"
    rf"capsule|unit|blotter|dose|piece|hit){_END})?"
)
_FRACTION_RE = re.compile(
    r"(?<![\w.,/])(?P<p>\d+)\s*/\s*(?P<q>\d+)(?:th)?\s*(?:(?:of\s+)?(?:an?\s+)?"
    r"(?P<u>kilos?|kg|oz|ounces?|lbs?|pounds?|g|grams?)" + _END + ")?"
)
_COUNT_WORD_RE = re.compile(
    rf"(?<![\w.,/])(?P<c>\d+)\s*-?\s*(?:x\s*)?(?:{COUNT_WORDS.replace(' ', '|')}){_END}"
)
_X_BEFORE_RE = re.compile(r"(?<![\w.,/])(?P<c>\d+)(?:\s*x(?![^\W\d_])|x(?=[^\W\d_]))")
_X_AFTER_RE = re.compile(
    rf"(?<![^\W\d_])x\s*(?P<c>\d+)(?![\d.,]*\s*(?:{_UNIT_ALT}|%){_END})(?![\d.,]*[^\W\d_])"
)
_UNIT_SIGNS = (_COUNT_WORD_RE, _X_BEFORE_RE, _X_AFTER_RE)
_PAREN_RE = re.compile(r"[(\[]\s*(?P<c>\d+)\s*[)\]]")
_LEADING_RE = re.compile(r"^\W*(?P<c>\d+)\s+(?=[^\W\d_])")
_NOT_COUNT = (
    r"(?:hours?|hrs?|h|days?|dagen|tage|jours|dias|giorni|dni|dagar|weeks?|months?|years?|yrs?|"
    r"min|mins|minutes?|usd|eur|euros?|dollars?|bucks|btc|percent|off|for|of|per|stars?|"
    r"reviews?|sales|orders|feedbacks?|vendors?|customers?|day|year|seller|top)"
)
_YEAR = r"(?:19[89]\d|20[0-3]\d)(?!\d)"
_YEAR_RE = re.compile(_YEAR)
"""A year ("2016 Liberty Cap", "2017 Xanax") is not a count unless a unit word follows it
directly or, for a unit-sold product, after a few words ("1980 Xanax bars")."""
_GAP_COUNT_RE = re.compile(
    rf"(?<![\w.,/#$])(?P<c>\d+)\s+(?!{_NOT_COUNT}{_END})(?:[^\W\d_]+[\s-]+){{1,3}}"
    rf"(?:{COUNT_WORDS.replace(' ', '|')}){_END}"
)
_LEAD_COUNT_RE = re.compile(
    rf"(?<![\w.,/#$])(?!{_YEAR})(?P<c>\d+)\s+(?!{_NOT_COUNT}{_END})(?=[^\W\d_])"
)
_DIGIT_RE = re.compile(r"\d")
_WORD_BEFORE_RE = re.compile(r"[^\W\d_]\s+$")
_PURITY_RE = re.compile(rf"(?<![\d.,])(?P<a>{_NUM})(?:\s*%?\s*(?:-|–|to|~)\s*(?P<b>{_NUM}))?\s*%")
_PURITY_NOT_AFTER = frozenset(
    [
        "escrow",
        "off",
        "discount",
        "finalize",
        "finalise",
        "arrival",
        "reship",
        "reships",
        "refund",
        "feedback",
        "positive",
        "bonus",
        "extra",
        "cashback",
        "deposit",
        "guarantee",
        "guaranteed",
        "satisfaction",
        "success",
        "delivery",
        "stealth",
        "indica",
        "sativa",
        "hybrid",
        "of",
        "pills",
        "tabs",
        "cbd",
        "back",
        "return",
        "rate",
        "upfront",
        "cheaper",
        "less",
        "stronger",
        "profit",
        "legal",
    ]
)
_PURITY_NOT_BEFORE = re.compile(r"(?:extra|save|off|up\s+to|discount|bonus|only|get|plus|fe)\W*$")
_SLASH_DOSE_RE = re.compile(r"(?<![\w.,/])(?P<a>\d+(?:\.\d+)?)\s*/\s*(?P<b>\d{3,4})(?!\d)")
_BARE_AFTER_RE = re.compile(
    rf"\s*-?\s*(?P<a>\d+(?:[.,]\d+)?)(?![\d.,]*\s*(?:{_UNIT_ALT}|%|x)"
    rf"{_END})(?![\d.,]*[^\W\d_])"
)
_M30_RE = re.compile(r"\bm\s?-?30s?\b")
_VIAL_RE = re.compile(r"(?<!\d\s)\b(?:vial|bottle|bar|cart|cartridge|pen|ampoule)\b")


@dataclass(slots=True)
class Quantity:
    """Quantities found in one title; ``None`` where the title does not state the value."""

    mass_g: float | None = None
    count: int | None = None
    dose_value: float | None = None
    dose_unit: str | None = None
    volume_ml: float | None = None
    purity_pct: float | None = None


def parse_number(text: str) -> float | None:
    """A number with a decimal comma or point, or thousands separators; ``None`` if ambiguous.

    "0,5" -> 0.5, "1.234,50" -> 1234.5, "1,000" -> 1000, "1,2,3" -> None (a list, not a number).
    """
    if "," in text and "." in text:
        dec = "," if text.rfind(",") > text.rfind(".") else "."
        thou = "." if dec == "," else ","
        head, _, tail = text.rpartition(dec)
        if head.count(dec):
            return None
        text = head.replace(thou, "") + "." + tail
    elif text.count(",") == 1:
        head, tail = text.split(",")
        thousands = len(tail) == 3 and head not in ("", "0")
        text = head + tail if thousands else head + "." + tail
    elif text.count(",") > 1:
        parts = text.split(",")
        if not all(len(p) == 3 for p in parts[1:]):
            return None
        text = "".join(parts)
    elif text.count(".") > 1:
        parts = text.split(".")
        if not all(len(p) == 3 for p in parts[1:]):
            return None
        text = "".join(parts)
    try:
        return float(text)
    except ValueError:
        return None


def _round(x: float) -> float:
    return round(x, 6)


def parse_quantity(
    folded: str,
    *,
    unit_sold: bool = False,
    dose_form: bool = False,
    anchors: tuple[int, ...] = (),
    cannabis: bool = False,
    name_start: int | None = None,
    tokens: list[tuple[str, int, int]] | None = None,
) -> Quantity:
    """Extract quantities from a folded title.

    ``unit_sold`` says the product is sold by the unit (pills, blotters): then a bare ``mg`` is a
    dose, otherwise a mass. ``dose_form`` (edible, liquid) also makes ``mg`` a dose. ``anchors``
    are the ends of substance names: "Tramadol 50" after one is a dose in mg when no other dose
    is stated. ``cannabis`` enables the trade word "HP" (half pound). ``name_start`` is where
    the substance is first named: the title's first number, when bare and before it, is a count
    of a unit-sold product ("SALE 25 Louis Vuitton Ecstasy 220 mg"). ``tokens`` are the
    title's token spans when the caller has them already (``lexicon.token_spans``).
    """
    q = Quantity()
    if not unit_sold and any(rx.search(folded) for rx in _UNIT_SIGNS):
        unit_sold = True  # "100x ... 180mg mdma": a stated count makes mg a dose
    metric: list[float] = []
    imperial: list[float] = []
    mg_amounts: list[tuple[float, int]] = []
    count_hits: list[tuple[int, int]] = []
    taken: list[tuple[int, int]] = []
    for m in _AMOUNT_RE.finditer(folded):
        a = parse_number(m["a"])
        if a is None:
            continue
        unit, n = m["u"], m["n"]
        taken.append(m.span())
        if unit in VOLUME_UNITS:
            if q.volume_ml is None:
                q.volume_ml = _round(a * VOLUME_UNITS[unit] * (int(n) if n else 1))
            continue
        if unit in MICRO_UNITS or unit in IU_UNITS:
            if q.dose_value is None:
                q.dose_value, q.dose_unit = a, ("ug" if unit in MICRO_UNITS else "iu")
            if n:
                count_hits.append((m.start(), int(n)))
            continue
        factor = MASS_UNITS[unit]
        is_mg = factor == 0.001
        if is_mg and m["per"]:
            if q.dose_value is None:
                q.dose_value = a
                q.dose_unit = "mg/ml" if m["den"] in ("ml", "мл") else "mg"
            continue
        if is_mg and (unit_sold or dose_form or folded.startswith(("thc", "cbd"), m.end() + 1)):
            if q.dose_value is None:
                q.dose_value, q.dose_unit = a, "mg"
            if n:
                count_hits.append((m.start(), int(n)))
            continue
        grams = a * factor * (int(n) if n else 1)
        if is_mg:
            mg_amounts.append((grams, m.start()))
        (imperial if factor in (OUNCE_G, POUND_G) else metric).append(grams)
    for m in _FRACTION_RE.finditer(folded):
        p, qq = int(m["p"]), int(m["q"])
        if qq == 0 or p >= qq:
            continue
        unit = (m["u"] or "").rstrip("s")
        base = {
            "kilo": 1000.0,
            "kg": 1000.0,
            "g": 1.0,
            "gram": 1.0,
            "lb": POUND_G,
            "pound": POUND_G,
        }.get(unit, OUNCE_G if unit or qq == 8 else 0.0)
        if base:
            (metric if base in (1.0, 1000.0) else imperial).append(base * p / qq)
            taken.append(m.span())
    bare = not (unit_sold or dose_form)
    words = word_masses(
        folded,
        tokens if tokens is not None else token_spans(folded),
        taken,
        cannabis=cannabis,
        bare=bare,
    )
    imperial.extend(g for _, g in words)
    _counts(folded, q, count_hits, taken, unit_sold, name_start)
    if metric:
        q.mass_g = _round(metric[0])
    elif imperial:
        q.mass_g = _round(imperial[0])
    if q.dose_value is None:
        _implicit_dose(folded, q, anchors, unit_sold)
    if q.dose_value is not None and q.dose_unit == "mg" and q.volume_ml and q.count is None:
        q.dose_unit = "mg/ml"  # "EQ 300mg x 10ml": strength of an injectable per ml
    if q.count is None and (unit_sold or dose_form) and _VIAL_RE.search(folded):
        q.count = 1  # "10ml vial", "chocolate bar": one unit when no number is stated
    q.purity_pct = parse_purity(folded)
    return q


def _counts(
    folded: str,
    q: Quantity,
    hits: list[tuple[int, int]],
    taken: list[tuple[int, int]],
    unit_sold: bool,
    name_start: int | None = None,
) -> None:
    """Count of units, in this order (a later rule only when the earlier found nothing):

    1. a number with a unit word or an ``x``: "10 pills", "20stuks", "100x", "x100";
    2. a number, up to three words, a unit word: "5 Punisher Ecstasy Pills";
    3. for unit-sold products: "(25)", then the title's first number when it is bare and comes
       before the substance's name ("[NEW] 50 Alprazolam", "500 Oxandrolone 10 mg").
    """
    for rx in (_COUNT_WORD_RE, _X_BEFORE_RE, _X_AFTER_RE):
        for m in rx.finditer(folded):
            if not _inside(m.start("c"), taken):
                hits.append((m.start(), int(m["c"])))
    if not hits:
        gap = next(
            (
                m
                for m in _GAP_COUNT_RE.finditer(folded)
                if not _inside(m.start(), taken) and (unit_sold or not _YEAR_RE.match(m["c"]))
            ),
            None,
        )
        lead = _lead_count(folded, name_start, taken) if unit_sold else None
        if gap and lead and lead.start() < gap.start():
            gap = None  # "25 Route 66 XTC pills": the number opening the title is the count
        found = gap or (_PAREN_RE.search(folded) if unit_sold else None) or lead
        if found and not _inside(found.start("c"), taken):
            hits.append((found.start(), int(found["c"])))
    if hits:
        value = min(hits)[1]
        if 0 < value <= 1_000_000:
            q.count = value


def _inside(pos: int, taken: list[tuple[int, int]]) -> bool:
    return any(s <= pos < e for s, e in taken)


def _lead_count(
    folded: str, name_start: int | None, taken: list[tuple[int, int]]
) -> re.Match[str] | None:
    """The title's first number when bare ("50 Alprazolam"), and before the substance name.

    A "2" or "4" between two words is the word "to"/"for" ("US 2 US", "custom 4 Bob").
    """
    if name_start is None:
        return _LEADING_RE.search(folded)
    for digit in _DIGIT_RE.finditer(folded, 0, name_start):
        m = _LEAD_COUNT_RE.match(folded, digit.start())
        if m is None or _inside(m.start(), taken):
            return None
        if not (m["c"] in ("2", "4") and _WORD_BEFORE_RE.search(folded, 0, m.start())):
            return m
    return None


def _implicit_dose(folded: str, q: Quantity, anchors: tuple[int, ...], unit_sold: bool) -> None:
    """Doses stated without a unit: "Norco 10/325", "Oxycodone M30", "Tramadol 50"."""
    if not unit_sold:
        return
    m = _SLASH_DOSE_RE.search(folded)
    if m:
        q.dose_value, q.dose_unit = float(m["a"]), "mg"
        return
    if _M30_RE.search(folded):
        q.dose_value, q.dose_unit = 30.0, "mg"
        return
    for end in anchors:
        m = _BARE_AFTER_RE.match(folded, end)
        if m:
            value = parse_number(m["a"])
            if value is not None and 0 < value <= 2000 and value != q.count:
                q.dose_value, q.dose_unit = value, "mg"
                return


def parse_purity(folded: str) -> float | None:
    """The first stated purity percentage, skipping escrow/discount/genetics percentages."""
    for m in _PURITY_RE.finditer(folded):
        purity = parse_number(m["a"])
        if purity is None or not 0 < purity <= 100:
            continue
        after = re.match(r"\s*\+?\s*([^\W\d_]+)", folded[m.end() :])
        if after and after.group(1) in _PURITY_NOT_AFTER:
            continue
        if _PURITY_NOT_BEFORE.search(folded, max(0, m.start() - 12), m.start()):
            continue
        return purity
    return None
