"""One test per price format the sources show."""

from __future__ import annotations

import pytest

from dnmwatch.normalise.prices import Money, parse_price


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("USD 50.17 (0.0376 BTC)", 50.17, "USD"),  # AlphaBay
        ("Buy price\nUSD 50.17\n\n(0.0376 BTC)", 50.17, "USD"),  # AlphaBay, raw cell
        ("€1.234,50", 1234.5, "EUR"),
        ("1.234,50 €", 1234.5, "EUR"),
        ("12,50 EUR", 12.5, "EUR"),
        ("$1,234.56", 1234.56, "USD"),
        ("0.0123 BTC", 0.0123, "BTC"),
        ("฿0.5", 0.5, "BTC"),
        ("0,005 ฿", 0.005, "BTC"),  # comma decimal, not thousands
        ("XMR 1.25", 1.25, "XMR"),
        ("1 234,50 руб", 1234.5, "RUB"),
        ("2500 ₽", 2500.0, "RUB"),
        ("50 долларов", 50.0, "USD"),
        ("300 евро", 300.0, "EUR"),
        ("150 ք", 150.0, "AMD"),  # Matanga
        ("120 грн", 120.0, "UAH"),
        ("0.5 Br", 0.5, "BYN"),
        ("AU $ 120.00", 120.0, "AUD"),  # Cypher/WHM scrapes (AUD)
        ("£40", 40.0, "GBP"),
        ("1'234.50 CHF", 1234.5, "CHF"),
    ],
)
def test_price_formats(text: str, amount: float, currency: str) -> None:
    parsed = parse_price(text)
    assert parsed is not None, text
    assert parsed.price == Money(pytest.approx(amount), currency), text  # type: ignore[arg-type]


def test_implied_rate_from_a_page() -> None:
    parsed = parse_price("USD 50.17 (0.0376 BTC)")
    assert parsed is not None
    assert parsed.implied_rates()[("BTC", "USD")] == pytest.approx(50.17 / 0.0376)


def test_bare_number_needs_a_default_currency() -> None:
    assert parse_price("0.0266") is None
    parsed = parse_price("0.0266", default_currency="BTC")  # Agora: prices are in BTC
    assert parsed is not None and parsed.price == Money(0.0266, "BTC")
    assert parse_price("no price here") is None
