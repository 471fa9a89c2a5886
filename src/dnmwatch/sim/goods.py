"""Non-drug goods and placeholder listings: the offers a drug monitor must recognise and drop.

About a third of real offers are not drugs (guides, fake documents, counterfeits, accounts,
paraphernalia), and vendors keep placeholders ("tip jar", "test - do not buy", "custom listing",
"reserved for ...", "(Duplicate) ..."). Their truth is ``substance = category = non_drug`` with
no quantity, even where the title shows numbers ("Digital scale 0.01g", "50 EUR bills x10"),
which is exactly the trap they set for a quantity parser.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dnmwatch.sim.rng import pick


@dataclass(frozen=True, slots=True)
class Good:
    """A rendered non-drug or placeholder offer."""

    title: str
    label: str
    """What the market files it under (top-level category)."""
    price_eur: float
    language: str


_TOPICS = ("Carding", "Bitcoin Tumbling", "Stealth Shipping", "OPSEC", "Growing Cannabis",
           "Cashout", "Refunding", "SIM Swapping", "Dropshipping", "Tor Anonymity", "PayPal",
           "Social Engineering", "Crypto Trading", "Lock Picking", "Extraction")
_ADJ = ("Ultimate", "Complete", "Best", "Updated", "Secret", "Premium", "Pro", "Beginner's",
        "Advanced", "Private")
_DOCS = ("Passport", "Driving Licence", "ID Card", "Utility Bill", "Bank Statement", "SSN Card")
_DOC_PLACES = ("UK", "USA", "German", "Dutch", "French", "EU", "Canadian", "Australian",
               "Spanish", "Italian")
_BRANDS = ("Rolex", "Omega", "Gucci", "Louis Vuitton", "Moncler", "Canada Goose", "Prada",
           "Cartier", "Hermes", "Nike")
_ITEMS = ("Submariner", "Daytona", "belt", "bag", "jacket", "sneakers", "wallet", "watch",
          "sunglasses")
_SERVICES = ("Netflix", "Spotify", "HBO Max", "Disney+", "NordVPN", "Amazon Prime", "Uber Eats",
             "Hulu", "Deezer", "ExpressVPN", "Crunchyroll")
_PERIODS = ("1 year", "lifetime", "12 months", "3 months", "6 months", "LIFETIME WARRANTY")
_GEAR = ("Digital scale 0.01g", "Vacuum seal bags x100", "Grinder 4-part", "Mylar bags x50",
         "Pill press dies", "Rolling papers king size", "Jewellery scale 100g x 0.01g",
         "Empty capsules size 0 x1000", "Reagent test kit (Marquis)", "Zip bags 5x7cm x200")

_GENERATORS: tuple[tuple[str, float, float, float], ...] = (
    # kind, weight, low EUR, high EUR
    ("guide", 3.0, 2.0, 40.0),
    ("document", 1.5, 40.0, 400.0),
    ("counterfeit", 1.5, 60.0, 450.0),
    ("account", 2.0, 3.0, 30.0),
    ("gear", 1.5, 4.0, 60.0),
)
_LABELS = {"guide": "Guides & Tutorials", "document": "Fraud", "counterfeit": "Counterfeits",
           "account": "Digital Goods", "gear": "Paraphernalia"}


def _guide(rng: np.random.Generator) -> str:
    topic, adj = pick(rng, _TOPICS), pick(rng, _ADJ)
    form = int(rng.integers(6))
    return (f"{adj} {topic} Guide {int(rng.integers(2016, 2021))}", f"{topic} e-book",
            f"How to do {topic} - {adj} guide", f"[PDF] {topic} tutorial",
            f"{adj.upper()} {topic.upper()} METHOD", f"{topic} bible ({adj})")[form]


def _document(rng: np.random.Generator) -> str:
    place, doc = pick(rng, _DOC_PLACES), pick(rng, _DOCS)
    form = int(rng.integers(5))
    return (f"{place} {doc} PSD template", f"Fake {doc} {place} - scannable",
            f"{place} {doc} scan high quality", f"Custom {place} {doc} (real look)",
            f"{doc} {place} + selfie")[form]


def _counterfeit(rng: np.random.Generator) -> str:
    brand, item = pick(rng, _BRANDS), pick(rng, _ITEMS)
    form = int(rng.integers(4))
    if form == 3:
        note = pick(rng, ("20", "50", "100"))
        return f"Counterfeit {note} EUR bills x{pick(rng, ('10', '20', '50'))}"
    return (f"{brand} {item} replica AAA", f"{brand} {item} 1:1 copy",
            f"{brand.upper()} {item} - mirror quality")[form]


def _account(rng: np.random.Generator) -> str:
    service, period = pick(rng, _SERVICES), pick(rng, _PERIODS)
    form = int(rng.integers(4))
    return (f"{service} premium account {period}", f"{service} Premium - {period}",
            f"{service.upper()} ACCOUNT {period.upper()}", f"{service} lifetime login")[form]


def non_drug_good(rng: np.random.Generator) -> Good:
    """A random non-drug offer with a plausible EUR price."""
    weights = np.array([g[1] for g in _GENERATORS])
    kind, _, low, high = _GENERATORS[int(rng.choice(len(_GENERATORS), p=weights / weights.sum()))]
    title = {"guide": _guide, "document": _document, "counterfeit": _counterfeit,
             "account": _account}.get(kind, lambda r: pick(r, _GEAR))(rng)
    if rng.random() < 0.2:
        title = pick(rng, ("🔥 ", "*** ", "NEW ", "[INSTANT] ", "✅ ")) + title
    price = float(np.exp(rng.uniform(np.log(low), np.log(high))))
    return Good(title, _LABELS[kind], price, "en")


_RESERVED = {"en": ("reserved for {b}", "Reserved - {b} only", "RESERVED {b}",
                    "Custom Listing for {b}", "Escrow refund {b}"),
             "de": ("Reserviert für {b}", "Nur für {b}"), "nl": ("Gereserveerd voor {b}",),
             "fr": ("Réservé pour {b}",), "es": ("Reservado para {b}",),
             "ru": ("Резерв для {b}",)}
_FIXED = ("custom listing", "Custom Listing", "custom order", "CUSTOM ORDER - PM before buying",
          "tip jar", "Tip Jar 🙏", "TIP JAR - thank you!", "Tips", "test - do not buy",
          "TEST LISTING DO NOT BUY", "test", "Test listing", "Shipping upgrade - Express",
          "Reship fee", "Extra payment", "Do not buy", "DONT BUY - private",
          "Custom listing (pay difference)")
_NICKS = ("jay", "mike", "anna", "xtcfan", "lucky", "bigd", "nina", "tom", "raver", "paul",
          "greenguy", "kim", "dutchie", "max", "sara", "k***n", "b***r", "m***e")


def placeholder(rng: np.random.Generator, duplicate_of: str | None) -> Good:
    """A placeholder listing: cheap (1 EUR-ish) or absurd (9999) price."""
    roll = rng.random()
    lang = "en"
    if duplicate_of is not None and roll < 0.15:
        title = pick(rng, ("(Duplicate) ", "(duplicate) ", "[DUPLICATE] ")) + duplicate_of
    elif roll < 0.45:
        lang = pick(rng, ("en", "en", "en", "de", "nl", "fr", "es", "ru"))
        nick = pick(rng, _NICKS)
        if rng.random() < 0.4:
            nick = nick + str(int(rng.integers(1, 99)))
        title = pick(rng, _RESERVED[lang]).format(b=nick)
    else:
        title = pick(rng, _FIXED)
    price = float(pick(rng, ("1", "1", "0.5", "2", "5", "10", "999", "9999", "99999")))
    return Good(title, "Other", price, lang)
