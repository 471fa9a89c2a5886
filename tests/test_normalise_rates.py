"""Rate files, the gap rule, conversion to EUR and the store's rates table."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from _normalise_shared import normalise_app as _app
from dnmwatch.errors import NormaliseError
from dnmwatch.normalise.prices import parse_price
from dnmwatch.normalise.rates import (
    RateRow,
    RateTable,
    detect_format,
    parse_rate_text,
    to_eur,
)
from dnmwatch.records import Rejection

ECB = (
    "Date,USD,JPY,GBP,CYP,\n"
    "2017-04-21,1.0724,117.0,0.8380,N/A,\n"
    "2017-04-20,1.0745,116.9,0.8390,N/A,\n"
)


def test_ecb_is_inverted_and_gaps_counted() -> None:
    parsed = parse_rate_text(ECB)
    usd = [r for r in parsed.rows if r.currency == "USD"]
    assert usd[0] == RateRow(date(2017, 4, 21), "USD", pytest.approx(1 / 1.0724))  # type: ignore[arg-type]
    assert parsed.counters["no_value"] == 2  # CYP N/A twice
    assert {r.currency for r in parsed.rows} == {"EUR", "USD", "JPY", "GBP"}


def test_formats_are_detected() -> None:
    assert detect_format(ECB) == "ecb"
    assert detect_format("day,currency,rate\n2017-01-01,BTC,900\n") == "generic"
    assert detect_format("Date,Value\n2017-04-21,1234\n") == "bchain"
    assert detect_format("Date,Open,High,Low,Close,Adj Close,Volume\n") == "yahoo"
    assert detect_format('Date,"Close Price"\n"2014-01-01 00:00:00",770\n') == "coindesk"
    assert detect_format("2009-01-03 00:00:00,0.0\n") == "coindesk"
    with pytest.raises(NormaliseError):
        detect_format("what,is,this\n")


def test_usd_crypto_files_go_through_the_ecb_usd_rate() -> None:
    usd = RateTable(parse_rate_text(ECB).rows)
    text = "Date,Value\n2017-04-23,1250.0\n2017-04-21,1230.0\n2017-04-01,1000\n2017-04-22,0.0\n"
    parsed = parse_rate_text(text, "bchain", usd=usd)
    by_day = {r.day: r.eur_per_unit for r in parsed.rows}
    assert by_day[date(2017, 4, 21)] == pytest.approx(1230.0 / 1.0724)
    assert by_day[date(2017, 4, 23)] == pytest.approx(1250.0 / 1.0724)  # Sunday: gap rule
    assert date(2017, 4, 1) not in by_day  # 19 days from any ECB rate: rejected
    assert parsed.counters["no_ecb_usd_rate"] == 1
    assert parsed.counters["no_value"] == 1
    with pytest.raises(NormaliseError):
        parse_rate_text(text, "bchain", usd=None)


def test_yahoo_quote_currency_comes_from_the_file_name() -> None:
    text = "Date,Open,High,Low,Close,Adj Close,Volume\n2017-04-21,1,1,1,1100.5,1100.5,9\n"
    rows = parse_rate_text(text, "auto", name="BTC-EUR.csv").rows
    assert rows == [RateRow(date(2017, 4, 21), "BTC", 1100.5)]


def test_gap_rule() -> None:
    table = RateTable([RateRow(date(2017, 4, 21), "USD", 0.9)])
    assert table.lookup("USD", date(2017, 4, 24)) == 0.9  # 3 days: filled
    gap = table.lookup("USD", date(2017, 4, 25))  # 4 days: rejected
    assert isinstance(gap, Rejection) and gap.reason == "rate_gap"
    missing = table.lookup("XMR", date(2017, 4, 21))
    assert isinstance(missing, Rejection) and missing.reason == "rate_missing"
    assert table.lookup("EUR", date(1990, 1, 1)) == 1.0


def test_page_rate_wins_over_the_table() -> None:
    day = date(2017, 4, 21)
    table = RateTable([RateRow(day, "USD", 0.9), RateRow(day, "BTC", 5000.0)])
    price = parse_price("USD 50.17 (0.0376 BTC)")
    assert price is not None
    assert to_eur(price, day, table) == pytest.approx(50.17 * 0.9)
    btc_only = parse_price("0.01 BTC")
    assert btc_only is not None
    assert to_eur(btc_only, day, table) == pytest.approx(50.0)


def test_rates_import_writes_the_store(tmp_path: Path) -> None:
    from dnmwatch.store import Store

    ecb = tmp_path / "eurofxref-hist.csv"
    ecb.write_text(ECB, encoding="utf-8")
    btc = tmp_path / "BCHAIN-MKPRU.csv"
    btc.write_text("Date,Value\n2017-04-21,1230.0\n", encoding="utf-8")
    data = tmp_path / "data"
    runner = CliRunner()
    for path in (ecb, btc, ecb):  # a second ECB import replaces, never duplicates
        result = runner.invoke(_app(), ["rates", "import", str(path), "--data-dir", str(data)])
        assert result.exit_code == 0, result.output
    with Store.open(data) as store:
        rows = store.connection.execute(
            "SELECT day, currency, eur_per_unit FROM rates ORDER BY day, currency"
        ).fetchall()
    assert len(rows) == 9  # 2 days x (EUR, USD, JPY, GBP) + BTC
    btc_row = next(r for r in rows if r[1] == "BTC")
    assert btc_row[2] == pytest.approx(1230.0 / 1.0724)


def test_rates_import_rejects_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(ECB, encoding="utf-8")
    result = CliRunner().invoke(
        _app(), ["rates", "import", str(path), "--format", "nope", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, NormaliseError)
