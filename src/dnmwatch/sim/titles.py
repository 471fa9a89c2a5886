"""Rendering listing titles that look like real ones and state exactly the truth.

Real titles are messy: emoji and capitals, "PROMO" and "FE", several languages, quantities as
"3,5g", "1/8 oz", "QP", "100x Xanax 2mg", "10 x 150ug blotters", multipacks ("3x1g"),
purities, brand and strain names, misspellings. The renderer composes a title from slots
(name, variety, quantity, dose, purity, decorations) in one of several orders, so that a few
hundred listings already show a few hundred distinct title shapes.

Every number a title shows that a parser could read as quantity, dose or purity *is* the truth;
decorations carry no digits. Strain and product names may carry digits ("Gorilla Glue #4",
"AK-47", "3-MMC", "2C-B") because real ones do, and parsers must cope.
"""

from __future__ import annotations

import numpy as np

from dnmwatch.sim.catalog import IMPERIAL, Product
from dnmwatch.sim.rng import pick

_GRAM_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("g", "g", "g", " g", "gr", " gram", " grams", "G", " G"),
    "de": ("g", "g", " g", " Gramm", "gr", " gr"), "nl": ("g", " gram", "gr", " g"),
    "fr": ("g", " g", "gr", " grammes"), "es": ("g", " gr", " gramos", "gr"),
    "ru": (" г", "г", " гр", " грамм", "g"), "it": ("g", " gr", " grammi"),
    "pl": ("g", " g", " gram", "gr"),
}
_KG_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("kg", " kg", "KG", " kilo", " KILO"), "de": ("kg", " kg", " Kilo"),
    "ru": (" кг", "кг", "kg"), "es": ("kg", " kilo"), "fr": ("kg", " kilo"),
}
_COUNT_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "pill": {"en": ("pills", "pcs", "pieces", "tabs"), "de": ("Pillen", "Stück", "Stk", "Teile"),
             "nl": ("pillen", "stuks"), "fr": ("pilules", "cachets", "pcs"),
             "es": ("pastillas", "unidades", "uds"), "ru": ("шт", "таблеток", "штук"),
             "it": ("pasticche", "pz"), "pl": ("szt", "tabletek", "sztuk")},
    "tablet": {"en": ("tablets", "tabs", "pills", "pcs"), "de": ("Tabletten", "Stück", "Tabs"),
               "nl": ("tabletten", "stuks"), "fr": ("comprimés", "cps"),
               "es": ("pastillas", "comprimidos"), "ru": ("таблеток", "шт"),
               "it": ("compresse", "cpr"), "pl": ("tabletek", "szt")},
    "blotter": {"en": ("blotters", "tabs", "hits"), "de": ("Pappen", "Trips", "Stück"),
                "nl": ("trips", "blotters"), "fr": ("buvards", "cartons"),
                "es": ("secantes", "tripis"), "ru": ("марок", "шт"),
                "it": ("cartoni", "francobolli"), "pl": ("papierków", "szt")},
}
_PURITY: dict[str, tuple[str, ...]] = {
    "en": ("{p}%", "{p}% pure", "{p}% purity", "({p}%)", "{p}% PURE"),
    "de": ("{p}% Reinheit", "{p}%", "Reinheit {p}%"), "nl": ("{p}% zuiver", "{p}%"),
    "fr": ("pure à {p}%", "{p}%", "{p}% pureté"), "es": ("{p}% pureza", "{p}%"),
    "ru": ("{p}%", "чистота {p}%"), "it": ("{p}% purezza", "{p}%"),
    "pl": ("{p}% czystości", "{p}%"),
}
_PREFIX: tuple[str, ...] = (
    "", "", "", "", "", "🔥", "🔥🔥", "💎", "🍀", "***", "!!", "[ESCROW]", "PROMO", "NEW", "⭐",
    "★", "✅", "[FE]", "**", ">>", "♛", "💊", "❄️", "🌿", "SALE", "HOT", "[NEW]", "~~", "🚀",
)
_EXTRAS: tuple[str, ...] = (
    "TOP QUALITY", "FREE SHIPPING", "FE", "!!", "🔥", "***", "[ESCROW]", "BEST PRICE", "Stealth",
    "Tracked", "Next Day", "PROMO", "Lab Tested", "Reagent Tested", "UK-UK", "EU-EU", "USA-USA",
    "High Grade", "Premium", "A+++", "Top Shelf", "Best on market", "Wholesale", "Sample",
    "💎💎", "🔥🔥🔥", "✈️ WW", "discreet", "NDD", "Express", "Vacuum sealed", "No FE", "Bulk",
)
_LOCAL_EXTRAS: dict[str, tuple[str, ...]] = {
    "de": ("Versand aus DE", "Top Ware", "Express Versand", "Beste Qualität", "Sofortversand"),
    "nl": ("Gratis verzending", "Top kwaliteit", "Snelle levering", "Verzending uit NL"),
    "fr": ("Livraison gratuite", "Qualité top", "Envoi rapide", "Meilleur prix"),
    "es": ("Envío gratis", "Calidad top", "Envío rápido", "Mejor precio"),
    "ru": ("Высшее качество", "Доставка", "Лучшая цена", "Опт"),
    "it": ("Spedizione gratuita", "Qualità top", "Spedizione veloce"),
    "pl": ("Darmowa wysyłka", "Najlepsza jakość", "Szybka wysyłka"),
}
_SEPS: tuple[str, ...] = (" ", " ", " - ", " | ", " // ", " :: ", " ~ ", ", ")
_MASS_ORDERS: tuple[str, ...] = (
    "{N} {V} {Q} {P}", "{Q} {N} {V} {P}", "{V} {N} - {Q} - {P}", "{N} {Q} {V} {P}",
    "{Q} {V} {N} | {P}", "{N} ({V}) {Q} {P}", "{N} {V} {P} {Q}", "{Q} - {N} {V} {P}",
    "{V} {N} {Q} {P}", "{N} {V} [{Q}] {P}",
)
_COUNT_ORDERS: tuple[str, ...] = (
    "{n}x {N} {V} {D}", "{n} x {N} {V} {D}", "{N} {V} {D} x{n}", "{N} {V} {D} x {n}",
    "{V} {N} {D} - {n} {W}", "{n} {W} {N} {V} {D}", "{N} {D} {V} ({n} {W})",
    "{n} {V} {N} {D}", "{N} {V} {D} {n}{W}", "{V} {D} {N} x{n}", "{n}X {V} {N} {D}",
    "{N} {D} - {V} - {n} {W}",
)
_COMMA_LANGS = frozenset({"de", "nl", "fr", "es", "ru", "it", "pl"})


def fmt_num(x: float, comma: bool) -> str:
    """A number as vendors write it: no trailing zeros, maybe a decimal comma."""
    text = f"{x:g}"
    return text.replace(".", ",") if comma else text


def _comma(rng: np.random.Generator, lang: str) -> bool:
    return bool(rng.random() < (0.75 if lang in _COMMA_LANGS else 0.06))


def fmt_mass(rng: np.random.Generator, grams: float, lang: str) -> str:
    """One way of writing ``grams``; imperial amounts stay imperial, 1000 g may be "1kg"."""
    key = round(grams, 6)
    if key in IMPERIAL:
        return pick(rng, IMPERIAL[key])
    comma = _comma(rng, lang)
    if grams >= 1000 and grams % 1000 == 0 and rng.random() < 0.8:
        return fmt_num(grams / 1000, comma) + pick(rng, _KG_WORDS.get(lang, _KG_WORDS["en"]))
    if grams < 1 and rng.random() < 0.35:
        return f"{round(grams * 1000):d}mg"
    if grams >= 2 and rng.random() < 0.12:
        for k in (2, 3, 4, 5, 10):
            part = grams / k
            if part in (0.5, 1.0, 2.0, 3.5, 5.0, 10.0) and part * k == grams:
                sep = pick(rng, ("x", " x ", "X", "x "))
                return f"{k}{sep}{fmt_num(part, comma)}g"
    return fmt_num(grams, comma) + pick(rng, _GRAM_WORDS.get(lang, _GRAM_WORDS["en"]))


def fmt_dose(rng: np.random.Generator, value: float, unit: str, lang: str) -> str:
    """A dose per unit: "2mg", "0,5 mg", "150µg", "200mcg"."""
    num = fmt_num(value, _comma(rng, lang) and value != int(value))
    if unit == "ug":
        return num + pick(rng, ("ug", "µg", "mcg", " ug", "μg", "UG", " mcg"))
    return num + pick(rng, ("mg", "mg", " mg", "MG", "mg"))


def misspell(rng: np.random.Generator, word: str) -> str:
    """A vendor's typo: a letter doubled, dropped or two letters swapped."""
    letters = [i for i, c in enumerate(word) if c.isalpha()]
    if len(letters) < 5:
        return word
    i = letters[int(rng.integers(1, len(letters) - 1))]
    op = int(rng.integers(3))
    if op == 0:
        return word[:i] + word[i] + word[i:]
    if op == 1:
        return word[:i] + word[i + 1:]
    if word[i + 1:i + 2].isalpha():
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + word[i] + word[i:]


def _tidy(text: str) -> str:
    """Collapse the holes left by empty slots ("A  - ", "()", "| " at the end)."""
    for empty in ("()", "[]", "( )", "[ ]"):
        text = text.replace(empty, "")
    parts = text.split()
    while parts and parts[-1] in ("-", "|", "//", "::", "~", ","):
        parts.pop()
    while parts and parts[0] in ("-", "|", "//", "::", "~", ","):
        parts.pop(0)
    out: list[str] = []
    for p in parts:
        if out and p in ("-", "|") and out[-1] in ("-", "|"):
            continue
        out.append(p)
    return " ".join(out)


def decorate(rng: np.random.Generator, core: str, lang: str) -> str:
    """Add emoji, capitals, PROMO/FE/[ESCROW] and local selling points around a core title."""
    prefix = pick(rng, _PREFIX)
    extras: list[str] = []
    for _ in range(int(rng.choice(4, p=[0.35, 0.4, 0.2, 0.05]))):
        pool = _LOCAL_EXTRAS.get(lang, ()) if rng.random() < 0.35 else ()
        extra = pick(rng, pool or _EXTRAS)
        if extra not in extras and extra != prefix:
            extras.append(extra)
    sep = pick(rng, _SEPS)
    title = core
    if extras:
        title = title + sep + sep.strip().join(f" {e} " for e in extras).strip()
    if prefix:
        title = prefix + " " + title
        if rng.random() < 0.3 and prefix not in ("[ESCROW]", "[FE]", "[NEW]"):
            title = title + " " + prefix
    if rng.random() < 0.1 and "µ" not in title and "μ" not in title:
        title = title.upper()
    return " ".join(title.split())


def drug_title(rng: np.random.Generator, product: Product, lang: str, quantity: float,
               dose: float | None, purity: float | None) -> str:
    """A title for ``product`` stating exactly ``quantity``, ``dose`` and ``purity``."""
    name = pick(rng, product.name_for(lang))
    if rng.random() < 0.06:
        name = misspell(rng, name)
    elif rng.random() < 0.12:
        name = name.upper()
    variety = pick(rng, product.varieties) if product.varieties and rng.random() < 0.6 else ""
    purity_text = ""
    if purity is not None:
        purity_text = pick(rng, _PURITY.get(lang, _PURITY["en"])).format(p=f"{purity:g}")
    if product.kind == "mass":
        order = pick(rng, _MASS_ORDERS)
        core = order.format(N=name, V=variety, Q=fmt_mass(rng, quantity, lang), P=purity_text)
    else:
        words = _COUNT_WORDS.get(product.form, _COUNT_WORDS["pill"])
        word = pick(rng, words.get(lang, words["en"]))
        order = pick(rng, _COUNT_ORDERS)
        if "{W}" in order and rng.random() < 0.3:
            word = " " + word
        dose_text = fmt_dose(rng, dose, product.dose_unit or "mg", lang) if dose else ""
        core = order.format(n=f"{int(quantity)}", N=name, V=variety, D=dose_text, W=word)
        if purity_text:
            core = f"{core} {purity_text}"
    return decorate(rng, _tidy(core), lang)
