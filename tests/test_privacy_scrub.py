"""Scrubbing free text: each kind of contact detail is replaced and counted; drug titles,
doses and prices are left alone; scrubbing is idempotent and stays fast on hostile input."""

from __future__ import annotations

import importlib.util
import json
import string
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dnmwatch.privacy.scrub import KINDS, scrub, scrub_optional

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
B32 = "abcdefghijklmnopqrstuvwxyz234567"
ONION_V3 = ("x7" + B32 * 2)[:56]

EXAMPLES = [
    ("mail me: joe.bloggs+dnm@gmail.com thanks", "email"),
    ("joe [at] protonmail [dot] com", "email"),
    ("call +44 7700 900123 now", "phone"),
    ("ring 0049 30 1234567", "phone"),
    ("tel: 0176 12345678", "phone"),
    ("my number is 555-123-4567", "phone"),
    ("whatsapp 06 12 34 56 78", "phone"),
    ("wickr: pharmaboss", "wickr"),
    ("add me on Wickr Me ID - shadow_rx", "wickr"),
    ("tg @drugking99", "telegram"),
    ("see t.me/drugking for updates", "telegram"),
    ("telegram: fastshipper", "telegram"),
    ("ping @fastshipper_eu", "telegram"),
    ("signal: bob.42", "signal"),
    ("https://signal.me/#eu/abcdef", "signal"),
    ("Session 05" + "1f" * 32, "session"),
    ("session id: abc123", "session"),
    ("jid bob@jabber.ccc.de", "xmpp"),
    ("ping bob@exploit.im", "xmpp"),
    ("xmpp:bob@example.org", "xmpp"),
    ("jabber - joe@myserver.net", "xmpp"),
    ("PO Box 1234", "address"),
    ("221B Baker Street, London", "address"),
    ("NW1 6XE", "address"),
    ("send to Hauptstraße 12", "address"),
    ("Berliner Straße 5a", "address"),
    ("10115 Berlin", "address"),
    ("Kalverstraat 92", "address"),
    ("1012 LM Amsterdam", "address"),
    ("12 rue de la Paix", "address"),
    ("Calle Mayor 5", "address"),
    ("New York, NY 10001", "address"),
    ("Reserved for jay12, do not buy", "buyer"),
    ("Custom Listing for b***r", "buyer"),
    ("Reserviert für anna", "buyer"),
    (f"new link {ONION_V3}.onion/market", "onion"),
    (f"http://{ONION_V3}.onion", "onion"),
    ("go to www.example.com/shop", "url"),
    ("https://evil.example/x?y=1", "url"),
    ("mirror at dnmshop.to", "url"),
    ("pay 1BoatSLRHtKNngkdXEeobR76b53LETtpyT please", "btc"),
    ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "btc"),
    ("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "btc"),
    (
        "4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge",
        "xmr",
    ),
    ("eth 0x52908400098527886E0F7030069857D2E4169EE7", "eth"),
]

TITLES = [
    "2C-B 20mg",
    "MDMA 84%",
    "MDMA Crystal 84% - 1g",
    "100x Xanax 2mg bars",
    "10000 Xanax 2mg",
    "1000 MG pills",
    "25000 Pills",
    "LSD 250ug x 10 blotters",
    "Cocaine 90% 3.5g",
    "Ketamine 1kg",
    "Speed 1.5kg (60% purity)",
    "3-MMC 100g",
    "4-FA 50g",
    "Roxy 30mg M30 pills",
    "Oxycodone 80mg x 28",
    "Heroin #4 0.5g",
    "Weed Amnesia Haze 28g",
    "1P-LSD 150µg",
    "THC vape 1ml 90%",
    "Price: €1.234,50",
    "USD 50.17 (0.0376 BTC)",
    "1 234,50 руб",
    "£25.00 / 3.5g",
    "sold 1234 times since 2021-05-01",
    "arrived 05.01.2026 thanks",
    "top vendor 10/10 would buy again",
    "stealth 5/5, arrived in 3 days",
    "Ships from NL to EU, 14-21 days",
    "Order #123456789 shipped",
    "5000 ug LSD",
    "MDMA 84% 250g / 500g / 1000g",
    "Testosterone Enanthate 250mg/ml 10ml",
    "Diazepam 10mg 100 pcs",
    "Tramadol 200mg x 30",
    "Methylone 2 x 100g",
]


@pytest.mark.parametrize(("text", "kind"), EXAMPLES)
def test_each_kind_is_replaced_and_counted(text: str, kind: str) -> None:
    result = scrub(text)
    assert result.counts.get(kind, 0) >= 1, (text, result)
    assert f"[{kind}]" in result.text


def test_the_secret_part_is_gone() -> None:
    text = (
        "Contact dealer.joe@protonmail.com, wickr: joe_dealer, +31 6 12345678, "
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
    )
    result = scrub(text)
    for secret in ("dealer.joe", "joe_dealer", "12345678", "bc1qar0"):
        assert secret not in result.text
    assert result.counts == {"email": 1, "wickr": 1, "phone": 1, "btc": 1}
    assert result.total == 4
    assert result.text.startswith("Contact [email], wickr: [wickr]")


@pytest.mark.parametrize("title", TITLES)
def test_no_false_positive_on_drug_titles_and_prices(title: str) -> None:
    result = scrub(title)
    assert result.counts == {} and result.text == title


def test_kinds_are_the_documented_ones() -> None:
    found = set()
    for text, _ in EXAMPLES:
        found |= set(scrub(text).counts)
    assert found == set(KINDS)


def test_hostile_contact_values_are_all_scrubbed() -> None:
    values = json.loads((HOSTILE / "values.json").read_text())
    for text in values["contact_details"]:
        assert scrub(text).total >= 1, text


def test_none_and_empty() -> None:
    assert scrub_optional(None).text == "" and scrub_optional(None).total == 0
    assert scrub("").text == ""


def test_long_hostile_tokens_stay_linear() -> None:
    spec = importlib.util.spec_from_file_location("make_hostile", HOSTILE / "make_hostile.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for text in (
        module.long_token(100_000),
        "www." * 25_000,
        "a." * 50_000,
        "1" * 100_000,
        "@" + "a" * 100_000,
        "0x" + "f" * 100_000,
        ("+1 " * 35_000),
    ):
        start = time.perf_counter()
        scrub(text)
        assert time.perf_counter() - start < 5.0, text[:20]


_word = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=8)
_filler = st.lists(
    st.sampled_from(
        ["great", "stealth", "fast", "2C-B", "20mg", "84%", "€45", "1g", "thanks", "A+"]
    ),
    max_size=6,
).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(
    user=_word,
    domain=_word,
    tld=st.sampled_from(["com", "org", "de", "nl", "io"]),
    pre=_filler,
    post=_filler,
)
def test_property_emails_in_any_context_are_removed(
    user: str, domain: str, tld: str, pre: str, post: str
) -> None:
    address = f"{user}.x@{domain}.{tld}"
    result = scrub(f"{pre} {address} {post}")
    assert address not in result.text
    assert result.counts.get("email", 0) + result.counts.get("xmpp", 0) == 1


@settings(max_examples=150, deadline=None)
@given(
    cc=st.integers(1, 99),
    groups=st.lists(st.integers(100, 9999), min_size=2, max_size=4),
    pre=_filler,
)
def test_property_international_phone_numbers_are_removed(
    cc: int, groups: list[int], pre: str
) -> None:
    digits = str(cc) + "".join(str(g) for g in groups)
    if not 8 <= len(digits) <= 15:
        return
    number = f"+{cc} " + " ".join(str(g) for g in groups)
    result = scrub(f"{pre} call {number} today")
    assert number not in result.text and result.counts.get("phone") == 1


@settings(max_examples=200, deadline=None)
@given(
    substance=st.sampled_from(["MDMA", "2C-B", "LSD", "Cocaine", "Ketamine", "Xanax", "Speed"]),
    amount=st.integers(1, 5000),
    unit=st.sampled_from(["mg", "g", "ug", "kg", "ml", "%", " pills", "x"]),
    price=st.floats(1, 99999, allow_nan=False).map(lambda p: f"{p:.2f}"),
    currency=st.sampled_from(["EUR", "USD", "€", "$", "BTC", "XMR"]),
)
def test_property_titles_with_amounts_and_prices_are_untouched(
    substance: str, amount: int, unit: str, price: str, currency: str
) -> None:
    title = f"{substance} {amount}{unit} - {price} {currency}"
    assert scrub(title).text == title


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_property_scrubbing_is_idempotent(text: str) -> None:
    once = scrub(text)
    twice = scrub(once.text)
    assert twice.text == once.text and twice.total == 0
