"""The drug products the simulated vendors sell: names in several languages, forms, quantities.

A :class:`Product` is one kind of offer ("herbal cannabis by the gram", "Xanax bars by the
piece"). The title generator (:mod:`dnmwatch.sim.titles`) picks a product, a quantity, maybe a
dose and a purity, and renders a title that states exactly those values, so that the truth
columns of a listing are what its title says. The vocabulary of ``substance`` and ``category``
is the one of ``taxonomy.csv``.

Masses are in grams. Imperial amounts (1/8 oz, QP, ...) are stored as their exact gram value
(1 oz = 28.349523125 g); the title renderer recognises them and writes them the imperial way.
Truth semantics: mass products have ``mass_g`` (total of one purchase; a multipack "3x1g" is
3 g) and no ``count``; count products have ``count`` (units per purchase), a ``dose`` per unit
only when the title states it, and no ``mass_g``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

OZ = 28.349523125
LB = 453.59237

IMPERIAL: dict[float, tuple[str, ...]] = {
    round(OZ / 8, 6): ("1/8 oz", "1/8oz", "1/8 OZ", "eighth", "an eighth"),
    round(OZ / 4, 6): ("1/4 oz", "1/4oz", "quarter oz", "1/4 OZ"),
    round(OZ / 2, 6): ("1/2 oz", "half oz", "half an ounce", "1/2oz", "half-oz"),
    round(OZ, 6): ("1 oz", "1oz", "1 ounce", "OZ", "one ounce"),
    round(LB / 4, 6): ("QP", "1/4 lb", "quarter pound", "QP (1/4 lb)"),
    round(LB / 2, 6): ("HP", "half pound", "1/2 lb", "HP (half pound)"),
    round(LB, 6): ("1 lb", "1 pound", "1LB", "one pound"),
}
"""Gram value -> ways titles write it (no ambiguity: every form states the same amount)."""

LANGS: tuple[str, ...] = ("en", "de", "nl", "fr", "es", "ru", "it", "pl")

Kind = Literal["mass", "count"]


@dataclass(frozen=True, slots=True)
class Product:
    """One kind of drug offer."""

    substance: str
    category: str
    form: str
    weight: float
    """Relative frequency among the products of the same substance."""
    names: dict[str, tuple[str, ...]]
    """Language -> generic names; missing languages fall back to English."""
    varieties: tuple[str, ...] = ()
    """Strains, pill logos, brands (language-neutral)."""
    kind: Kind = "mass"
    quantities: tuple[float, ...] = (1.0,)
    """Grams (mass) or units (count) of the title quantity."""
    doses: tuple[float, ...] = ()
    dose_unit: str | None = None
    dose_stated: float = 0.0
    """Probability that the title states the dose (count products)."""
    purities: tuple[float, ...] = ()
    purity_stated: float = 0.0

    def name_for(self, lang: str) -> tuple[str, ...]:
        return self.names.get(lang) or self.names["en"]


_SMALL_MASS = (0.5, 1.0, 1.0, 2.0, 3.0, 3.5, 5.0, 7.0, 10.0, 14.0, 20.0, 25.0, 28.0, 50.0, 100.0)
_CANNABIS_MASS = (1.0, 1.0, 2.0, 3.5, 5.0, 5.0, 7.0, 10.0, 10.0, 14.0, 20.0, 25.0, 28.0, 50.0,
                  100.0, 250.0, 500.0, 1000.0, 1000.0, 2000.0, round(OZ / 8, 6), round(OZ / 4, 6),
                  round(OZ / 2, 6), round(OZ, 6), round(LB / 4, 6), round(LB / 2, 6),
                  round(LB, 6))
_POWDER_MASS = (0.5, 1.0, 1.0, 1.0, 2.0, 3.0, 3.5, 5.0, 5.0, 7.0, 10.0, 14.0, 25.0, 28.0, 50.0,
                100.0, 250.0, 500.0, 1000.0, 1000.0, round(OZ / 8, 6), round(OZ / 2, 6),
                round(OZ, 6))
_PILL_COUNTS = (1.0, 5.0, 10.0, 10.0, 20.0, 25.0, 25.0, 50.0, 50.0, 100.0, 100.0, 200.0, 250.0,
                500.0, 1000.0)
_TAB_COUNTS = (10.0, 20.0, 28.0, 30.0, 50.0, 60.0, 100.0, 100.0, 200.0, 250.0, 500.0, 1000.0)
_BLOTTER_COUNTS = (1.0, 5.0, 10.0, 10.0, 20.0, 25.0, 50.0, 100.0, 200.0, 500.0)

_STRAINS = ("Amnesia Haze", "OG Kush", "White Widow", "Gorilla Glue #4", "Girl Scout Cookies",
            "Lemon Haze", "Super Silver Haze", "Northern Lights", "Blue Dream", "Gelato",
            "Wedding Cake", "Purple Haze", "Critical Kush", "Jack Herer", "AK-47", "Skunk",
            "Bubba Kush", "Sour Diesel", "Zkittlez", "Runtz", "Cheese", "Tangie", "Do-Si-Dos",
            "Pineapple Express", "Gushers", "Banana Kush", "Strawberry Haze")
_PILL_LOGOS = ("Tesla", "Philipp Plein", "Blue Punisher", "Red Bull", "Donald Trump", "Superman",
               "Rolex", "Domino", "Heineken", "Pink Panther", "Lego", "Bitcoin", "Rolls Royce",
               "Bugatti", "Hello Kitty", "Tomorrowland", "Netflix", "Skull", "Orange Tesla",
               "Blue Tesla", "Punisher", "Supreme", "Mitsubishi", "Gucci", "Louis Vuitton")
_BLOTTERS = ("Albert Hofmann", "Sandoz", "Shiva", "Alex Grey", "Buddha", "Owsley",
             "Hofmann Bicycle", "Mandala", "Pink Floyd", "Alice in Wonderland", "Ganesha",
             "Tesla Coil", "Bicycle Day", "Felix the Cat")

PRODUCTS: tuple[Product, ...] = (
    Product("cannabis", "cannabis", "herbal", 6.0, {
        "en": ("Weed", "Cannabis", "Bud", "Marijuana", "Buds", "Flowers", "Top Shelf Buds"),
        "de": ("Gras", "Weed", "Cannabis Blüten", "Marihuana", "Blüten"),
        "nl": ("Wiet", "Weed", "Toppen", "Nederwiet"),
        "fr": ("Beuh", "Herbe", "Weed", "Cannabis"),
        "es": ("Marihuana", "Hierba", "Cogollos", "Maria"),
        "ru": ("Шишки", "Бошки", "Марихуана"),
        "it": ("Erba", "Marijuana", "Cime"),
        "pl": ("Marihuana", "Zioło", "Susz", "Topy")},
        _STRAINS, "mass", _CANNABIS_MASS),
    Product("cannabis", "cannabis", "resin", 2.5, {
        "en": ("Hash", "Hashish", "Hash Resin"), "de": ("Haschisch", "Hasch", "Piece"),
        "nl": ("Hasj", "Hash"), "fr": ("Shit", "Résine", "Haschich"),
        "es": ("Hachís", "Chocolate", "Polen"), "ru": ("Гашиш", "Гаш"),
        "it": ("Fumo", "Hashish"), "pl": ("Haszysz", "Hasz")},
        ("Afghan", "Moroccan", "Charas", "Dry Sift", "Lebanese", "Ketama Gold", "Super Pollen",
         "Caramello", "Static", "Frozen"), "mass", _CANNABIS_MASS[:17]),
    Product("cannabis", "cannabis", "concentrate", 0.6, {
        "en": ("Wax", "Shatter", "BHO", "Rosin", "Live Resin"), "de": ("Wax", "Shatter", "BHO"),
        "ru": ("Воск", "Шаттер")}, _STRAINS, "mass", (0.5, 1.0, 1.0, 2.0, 3.5, 5.0, 7.0, 14.0)),
    Product("cocaine", "stimulants", "powder", 6.0, {
        "en": ("Cocaine", "Coke", "Cocaine HCL", "Flake"),
        "de": ("Kokain", "Koks", "Kokain HCL"), "nl": ("Cocaïne", "Coke", "Coca"),
        "fr": ("Cocaïne", "Coke", "CC"), "es": ("Cocaína", "Perico", "Farlopa"),
        "ru": ("Кокаин", "Кокс"), "it": ("Cocaina", "Bamba", "Coca"),
        "pl": ("Kokaina", "Koka")},
        ("Peru", "Colombia", "Bolivia", "Fishscale", "Pure Flake", "Uncut", "Cali", "Mother Rock",
         "Peruvian Flake", "Colombian", "Bolivian", "Escobar"), "mass", _POWDER_MASS,
        purities=(70, 75, 80, 82, 85, 87, 88, 90, 91, 92, 93, 95, 96, 97, 98), purity_stated=0.55),
    Product("cocaine", "stimulants", "crack", 0.8, {
        "en": ("Crack", "Crack Cocaine", "Rocks", "Freebase"), "de": ("Crack", "Steine"),
        "fr": ("Crack", "Caillou"), "es": ("Crack", "Base"), "ru": ("Крэк",)},
        (), "mass", (0.2, 0.5, 1.0, 1.0, 2.0, 3.5, 5.0, 7.0)),
    Product("amphetamine", "stimulants", "powder", 3.0, {
        "en": ("Amphetamine", "Speed", "Amphetamine Sulphate", "Amph"),
        "de": ("Amphetamin", "Speed", "Pep", "Amfe"), "nl": ("Speed", "Amfetamine"),
        "fr": ("Speed", "Amphétamine"), "es": ("Speed", "Anfetamina"),
        "ru": ("Амфетамин", "Фен", "Скорость"), "it": ("Anfetamina", "Speed"),
        "pl": ("Amfetamina", "Feta")},
        ("Pink", "White", "Dutch", "Lab Grade", "Moist"), "mass", _POWDER_MASS,
        purities=(40, 50, 55, 60, 65, 70, 75, 80), purity_stated=0.45),
    Product("amphetamine", "stimulants", "paste", 2.0, {
        "en": ("Speed Paste", "Amphetamine Paste", "Speedpaste"),
        "de": ("Speed Paste", "Amphetamin Paste", "Pep Paste"),
        "nl": ("Speed pasta", "Amfetamine pasta", "Pasta"), "pl": ("Pasta amfetamina",),
        "fr": ("Pâte de speed",), "es": ("Pasta base speed",), "ru": ("Амфетамин паста",)},
        ("Pink", "White", "Dutch", "Yellow"), "mass", _POWDER_MASS,
        purities=(50, 55, 60, 65, 70, 72), purity_stated=0.5),
    Product("methamphetamine", "stimulants", "crystal", 1.0, {
        "en": ("Crystal Meth", "Meth", "Ice", "Tina", "Meth Shards"),
        "de": ("Crystal", "Crystal Meth", "Methamphetamin"), "nl": ("Crystal meth", "Meth"),
        "fr": ("Méthamphétamine", "Crystal"), "es": ("Cristal", "Metanfetamina"),
        "ru": ("Метамфетамин", "Мет", "Лёд"), "pl": ("Metamfetamina", "Kryształ")},
        ("Shards", "Glass", "Blue", "Clear"), "mass", _POWDER_MASS[:16],
        purities=(90, 95, 97, 98, 99), purity_stated=0.4),
    Product("mdma", "stimulants", "pill", 5.0, {
        "en": ("XTC Pills", "Ecstasy Pills", "MDMA Pills", "XTC", "E Pills"),
        "de": ("XTC Pillen", "Ecstasy Tabletten", "Teile", "Pillen"),
        "nl": ("XTC pillen", "Pillen", "XTC"), "fr": ("Ecstasy", "Cachets", "Taz", "XTC"),
        "es": ("Pastillas", "Éxtasis", "Pastis"), "ru": ("Экстази", "Таблетки MDMA"),
        "it": ("Pasticche", "Ecstasy", "Pastiglie"), "pl": ("Tabletki ecstasy", "Piguły XTC")},
        _PILL_LOGOS, "count", _PILL_COUNTS,
        doses=(120, 150, 160, 180, 200, 220, 240, 250, 270, 280, 300), dose_unit="mg",
        dose_stated=0.75),
    Product("lsd", "psychedelics", "blotter", 2.0, {
        "en": ("LSD", "LSD Blotters", "Acid Tabs", "LSD Tabs", "Acid"),
        "de": ("LSD Pappen", "LSD Trips", "Acid", "Pappen"), "nl": ("LSD", "Acid", "Trips"),
        "fr": ("Buvards LSD", "Carton LSD", "Acide"), "es": ("Ácidos", "Tripis", "LSD"),
        "ru": ("Марки LSD", "ЛСД марки", "Марки"), "it": ("Cartoni LSD", "Francobolli"),
        "pl": ("Kwas", "Papierki LSD")},
        _BLOTTERS, "count", _BLOTTER_COUNTS,
        doses=(100, 110, 120, 150, 160, 200, 220, 250, 300), dose_unit="ug", dose_stated=0.85),
    Product("psilocybin", "psychedelics", "mushroom", 2.0, {
        "en": ("Magic Mushrooms", "Shrooms", "Psilocybe Cubensis", "Dried Mushrooms"),
        "de": ("Magic Mushrooms", "Zauberpilze", "Pilze", "Psilos"),
        "nl": ("Paddo's", "Paddos", "Paddestoelen"), "fr": ("Champignons magiques", "Champis"),
        "es": ("Setas mágicas", "Hongos", "Setas"), "ru": ("Грибы", "Псилоцибы"),
        "it": ("Funghetti", "Funghi magici"), "pl": ("Grzybki", "Grzyby halucynogenne")},
        ("Golden Teacher", "B+", "Mexicana", "Penis Envy", "Ecuador", "Albino A+", "Thai",
         "Amazonian", "Cambodian"), "mass",
        (1.0, 2.0, 3.5, 5.0, 7.0, 10.0, 14.0, 28.0, 50.0, 100.0, round(OZ / 8, 6), round(OZ, 6))),
    Product("heroin", "opioids", "powder", 1.5, {
        "en": ("Heroin", "Brown", "Afghan Heroin", "H", "Dope"),
        "de": ("Heroin", "H", "Braunes"), "nl": ("Heroïne", "Bruin"),
        "fr": ("Héroïne", "Brune"), "es": ("Heroína", "Caballo"), "ru": ("Героин", "Гера"),
        "it": ("Eroina", "Ero"), "pl": ("Heroina", "Brown sugar")},
        ("Afghan", "Turkish", "Brown", "White", "Dutch"), "mass", _SMALL_MASS,
        purities=(30, 40, 45, 50, 60, 65, 70, 80), purity_stated=0.4),
    Product("ketamine", "dissociatives", "crystal", 2.0, {
        "en": ("Ketamine", "Ketamine Needles", "Ketamine Shards", "Special K", "Ket"),
        "de": ("Ketamin", "Keta", "Ketamin Kristalle"), "nl": ("Ketamine", "Keta"),
        "fr": ("Kétamine", "Ké"), "es": ("Ketamina", "Keta"), "ru": ("Кетамин",),
        "it": ("Ketamina", "Keta"), "pl": ("Ketamina",)},
        ("Needles", "Shards", "Crystal", "Rocks", "S-Isomer"), "mass",
        (0.5, 1.0, 1.0, 2.0, 3.0, 5.0, 5.0, 10.0, 20.0, 25.0, 50.0, 100.0, 250.0, 500.0)),
    Product("ketamine", "dissociatives", "powder", 1.0, {
        "en": ("Ketamine Powder", "K Powder"), "de": ("Ketamin Pulver",),
        "fr": ("Kétamine poudre",), "es": ("Ketamina polvo",), "ru": ("Кетамин порошок",)},
        (), "mass", (0.5, 1.0, 2.0, 5.0, 10.0, 25.0)),
    Product("cathinone", "nps", "crystal", 1.5, {
        "en": ("3-MMC", "4-MMC", "Mephedrone", "Meow Meow", "3-CMC", "Alpha-PVP"),
        "de": ("3-MMC", "Mephedron", "3-CMC"), "nl": ("3-MMC", "Miauw", "3-CMC"),
        "fr": ("3-MMC", "Méphédrone"), "es": ("Mefedrona", "3-MMC"),
        "ru": ("Мефедрон", "Меф", "Альфа-PVP"), "pl": ("Mefedron", "Kryształ 3-CMC")},
        ("Crystal", "Shards", "Big Rocks"), "mass", (1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0)),
    Product("alprazolam", "benzodiazepines", "tablet", 3.0, {
        "en": ("Xanax", "Xanax Bars", "Alprazolam", "Xanax Pfizer", "Greenstone Xanax"),
        "de": ("Xanax", "Alprazolam Tabletten"), "fr": ("Xanax", "Alprazolam"),
        "es": ("Xanax", "Alprazolam"), "ru": ("Алпразолам", "Ксанакс"),
        "pl": ("Xanax", "Alprazolam")}, (), "count", _TAB_COUNTS,
        doses=(0.25, 0.5, 1.0, 2.0, 2.0), dose_unit="mg", dose_stated=0.8),
    Product("diazepam", "benzodiazepines", "tablet", 2.0, {
        "en": ("Valium", "Diazepam", "Valium Roche", "Diazepam Teva"),
        "de": ("Valium", "Diazepam Tabletten"), "fr": ("Valium", "Diazépam"),
        "es": ("Valium", "Diazepam"), "ru": ("Диазепам", "Реланиум"), "pl": ("Relanium",)},
        (), "count", _TAB_COUNTS, doses=(2.0, 5.0, 10.0, 10.0), dose_unit="mg", dose_stated=0.8),
    Product("oxycodone", "opioids", "tablet", 1.5, {
        "en": ("Oxycontin", "Oxycodone", "Oxy", "Roxicodone", "OxyContin OP"),
        "de": ("Oxycodon", "Oxygesic"), "fr": ("Oxycodone",), "es": ("Oxicodona",),
        "ru": ("Оксикодон",), "pl": ("Oksykodon",)},
        (), "count", (5.0, 10.0, 10.0, 20.0, 28.0, 30.0, 50.0, 100.0, 200.0),
        doses=(10.0, 20.0, 30.0, 40.0, 80.0), dose_unit="mg", dose_stated=0.85),
    Product("tramadol", "opioids", "tablet", 1.2, {
        "en": ("Tramadol", "Tramadol HCL", "Ultram", "Tramal"), "de": ("Tramadol", "Tramal"),
        "fr": ("Tramadol",), "es": ("Tramadol",), "ru": ("Трамадол",), "pl": ("Tramal",)},
        (), "count", _TAB_COUNTS, doses=(50.0, 100.0, 200.0, 225.0), dose_unit="mg",
        dose_stated=0.85),
    Product("2c", "psychedelics", "pill", 0.8, {
        "en": ("2C-B", "2CB", "Nexus", "2C-B Pills"), "de": ("2C-B", "2CB Pillen"),
        "nl": ("2C-B", "2CB pillen"), "es": ("2C-B", "Tusibi"), "ru": ("2C-B",)},
        ("Bees", "Pink", "Cat", "Alien"), "count", (5.0, 10.0, 20.0, 25.0, 50.0, 100.0),
        doses=(10.0, 15.0, 20.0, 25.0), dose_unit="mg", dose_stated=0.8),
    Product("anabolic_steroid", "steroids_pied", "tablet", 1.2, {
        "en": ("Dianabol", "Anavar", "Winstrol", "Oxandrolone", "Methandienone", "Turinabol"),
        "de": ("Dianabol", "Anavar", "Oxandrolon"), "ru": ("Метан", "Оксандролон"),
        "pl": ("Metanabol", "Anavar")}, (), "count", (50.0, 100.0, 100.0, 200.0, 500.0),
        doses=(5.0, 10.0, 10.0, 20.0, 25.0, 50.0), dose_unit="mg", dose_stated=0.9),
)

SUBSTANCE_WEIGHTS: dict[str, float] = {
    "cannabis": 30.0, "cocaine": 16.0, "mdma": 12.0, "amphetamine": 9.0, "ketamine": 5.0,
    "lsd": 5.0, "alprazolam": 5.0, "diazepam": 3.0, "heroin": 3.0, "oxycodone": 3.0,
    "methamphetamine": 3.0, "psilocybin": 3.0, "cathinone": 3.0, "anabolic_steroid": 3.0,
    "tramadol": 2.0, "2c": 2.0,
}
"""How often vendors carry each substance (cannabis most, then cocaine, MDMA, speed, ...)."""


def products_of(substance: str) -> tuple[Product, ...]:
    """The products of one substance."""
    return tuple(p for p in PRODUCTS if p.substance == substance)


def sellable_substances(banded: set[str]) -> dict[str, float]:
    """The substance weights restricted to substances that have products and a price band."""
    have = {p.substance for p in PRODUCTS}
    return {s: w for s, w in SUBSTANCE_WEIGHTS.items() if s in have and s in banded}
