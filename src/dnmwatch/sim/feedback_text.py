"""Buyer feedback: short texts in several languages, ratings, delays, masked buyer names.

Texts are drawn from pools built once per world (phrase x ending), so a million feedback rows
cost one ``take`` rather than a million string operations. Buyer names are generated, then
masked the way markets show them ("a***e"): first and last letter, three stars.
"""

from __future__ import annotations

import numpy as np

LANG_WEIGHTS: dict[str, float] = {"en": 0.62, "de": 0.1, "nl": 0.05, "fr": 0.05, "es": 0.05,
                                  "ru": 0.05, "it": 0.04, "pl": 0.04}
RATING_P = np.array([0.03, 0.02, 0.04, 0.09, 0.82])
"""Probability of ratings 1..5: mostly 5, as on every market."""

_PHRASES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    # language: (positive, neutral, negative)
    "en": (("Fast shipping, good stealth", "Great product, will order again", "A+++ vendor",
            "Top quality, fast delivery", "Arrived in 2 days, thanks", "Perfect as always",
            "Stealth on point", "Best on the market", "Good weight, good quality",
            "Legit vendor, recommended", "10/10 would buy again", "Super smooth transaction",
            "Quality is insane", "All good", "Thanks!", "ok", "Great comms, quick delivery",
            "Exactly as described"),
           ("Took a while but arrived", "ok product, slow shipping", "Average quality",
            "Decent, a bit underweight", "Fine I guess", "Not bad, not great"),
           ("Never arrived", "Scam, avoid", "Underweight and bad quality",
            "No response from vendor", "Package lost, no reship", "Terrible stealth")),
    "de": (("Top Ware, gerne wieder", "Schneller Versand, super Stealth", "Alles bestens, danke",
            "Sehr gute Qualität", "Wie immer top", "Klasse Vendor, sehr zu empfehlen",
            "Lieferung in 2 Tagen, top", "Alles angekommen, danke"),
           ("Ware ok, Versand langsam", "Geht so", "Qualität mittelmäßig"),
           ("Nie angekommen", "Schlechte Qualität, zu wenig", "Finger weg")),
    "nl": (("Snelle levering", "Top spul, dank je", "Alles netjes ontvangen", "Goede kwaliteit",
            "Aanrader!", "Prima vendor"),
           ("Duurde lang maar is binnen", "Redelijk"),
           ("Nooit ontvangen", "Slechte kwaliteit")),
    "fr": (("Très bon produit", "Livraison rapide, merci", "Parfait comme d'habitude",
            "Top qualité", "Vendeur sérieux", "Rien à dire, parfait"),
           ("Correct, livraison lente", "Moyen"),
           ("Jamais reçu", "Arnaque", "Qualité médiocre")),
    "es": (("Todo perfecto", "Envío rápido, gracias", "Muy buena calidad",
            "Vendedor de confianza", "Repetiré seguro"),
           ("Tardó pero llegó", "Normal"),
           ("Nunca llegó", "Estafa", "Mala calidad")),
    "ru": (("Всё пришло, спасибо", "Отличное качество", "Быстрая доставка",
            "Всё супер, рекомендую", "Клад на месте, всё ровно"),
           ("Нормально, но долго", "Средне"),
           ("Не пришло", "Кидалово", "Плохое качество")),
    "it": (("Tutto perfetto", "Spedizione veloce, grazie", "Ottima qualità"),
           ("Nella media",), ("Mai arrivato", "Truffa")),
    "pl": (("Wszystko ok, polecam", "Szybka wysyłka", "Towar super"),
           ("Średnio",), ("Nie doszło", "Oszust")),
}
_POS_ENDINGS = ("", "", "", " 🔥", " thanks!", " 5/5", " - will be back", " :)", " 👍", "!!",
                " <3", ".")
_OTHER_ENDINGS = ("", ".", "!!", " :(", " ...")
_SYLLABLES = ("an", "to", "mi", "ke", "ra", "lo", "be", "du", "si", "ka", "no", "vi", "el",
              "jo", "ma", "ri", "ze", "pu", "ta", "go", "xe", "ny", "qu", "wo", "fi", "ha")


def text_pools() -> tuple[list[str], dict[tuple[str, int], tuple[int, int]]]:
    """All feedback texts, and (language, polarity) -> (offset, size) in that list.

    Polarity is 0 for ratings 4-5, 1 for 3, 2 for 1-2.
    """
    texts: list[str] = []
    index: dict[tuple[str, int], tuple[int, int]] = {}
    for lang, groups in _PHRASES.items():
        for polarity, phrases in enumerate(groups):
            endings = _POS_ENDINGS if polarity == 0 else _OTHER_ENDINGS
            start = len(texts)
            texts.extend(p + e for p in phrases for e in endings)
            index[(lang, polarity)] = (start, len(texts) - start)
    return texts, index


def masked_buyers(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` generated buyer names, masked as markets show them: "a***e"."""
    out: list[str] = []
    for _ in range(n):
        k = int(rng.integers(2, 5))
        name = "".join(_SYLLABLES[int(i)] for i in rng.integers(0, len(_SYLLABLES), size=k))
        if rng.random() < 0.3:
            name += str(int(rng.integers(0, 100)))
        out.append(f"{name[0]}***{name[-1]}")
    return out
