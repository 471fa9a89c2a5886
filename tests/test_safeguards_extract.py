"""Safeguards at extraction: one pseudonym implementation whose key is never created on first
use, free text scrubbed before storage, and hostile values neutralised on the way out, including
pages in wrong and mixed encodings taken through extract -> store -> build -> report and
exports (no crash, valid UTF-8 everywhere, every output escaped)."""

from __future__ import annotations

import csv
import hashlib
import hmac
import html
import io
import json
import stat
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from _extract_support import Fetched, crawl, write_warc
from dnmwatch import pseudonym
from dnmwatch.adapters.cli import register as register_parse
from dnmwatch.adapters.registry import load_registry
from dnmwatch.demo import demo_key_file, ensure_demo_key
from dnmwatch.estimate.build import build
from dnmwatch.privacy import keys
from dnmwatch.privacy.audit import AuditLog
from dnmwatch.privacy.export import FORMULA_START, export
from dnmwatch.privacy.scan import scan_store
from dnmwatch.privacy.scrub import scrub, scrub_title
from dnmwatch.report.render import write_report
from dnmwatch.settings import load_settings
from dnmwatch.sim.generate import generate_world
from dnmwatch.sim.model import preset
from dnmwatch.sim.server import SimServer
from dnmwatch.sources.cli import register as register_extract
from dnmwatch.sources.extract import extract, plan
from dnmwatch.sources.worker import MarketRoute
from dnmwatch.store import Store

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
HEADER = ["list", "date", "vendor", "product", "price", "usd", "rate", "cat", "subcat",
          "subsubcat", "feedback", "from", "to"]


def _app() -> typer.Typer:
    app = typer.Typer()
    register_parse(app)
    register_extract(app)
    return app


def test_one_implementation_with_the_ids_of_the_plain_formula() -> None:
    assert pseudonym.Pseudonymizer is keys.Pseudonymizer
    key = bytes(range(32))
    p = pseudonym.Pseudonymizer(key)
    for handle in ("DrugLord", "  druglord ", "XTCPLUG_official69", "a"):
        plain = hmac.new(key, handle.strip().casefold().encode(), hashlib.sha256).hexdigest()
        assert p.vendor_id(handle) == "v_" + plain[:16]
        assert pseudonym.PSEUDONYM.match(p.vendor_id(handle))


def test_parse_and_extract_refuse_without_a_key_and_audit_its_use(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "keys" / "pseudonym.key"
    data = tmp_path / "data"
    monkeypatch.setenv("DNMWATCH_PRIVACY__KEY_FILE", str(key_file))
    page = tmp_path / "p.html"
    page.write_text("<p>hello</p>")
    for args in (["parse", str(page), "--adapter", "sim-cards"],
                 ["extract", str(page), "--adapter", "sim-cards", "--workers", "1"]):
        result = CliRunner().invoke(_app(), [*args, "--data-dir", str(data)])
        assert result.exit_code != 0
        assert "dnmwatch keys init" in str(result.exception)
        assert not key_file.exists()  # never created silently
    keys.KeyStore(key_file, data, AuditLog.for_data_dir(data)).init()
    for args in (["parse", str(page), "--adapter", "sim-cards"],
                 ["extract", str(page), "--adapter", "sim-cards", "--workers", "1"]):
        result = CliRunner().invoke(_app(), [*args, "--data-dir", str(data)])
        assert result.exit_code == 0, result.output
    assert "scrubbed: none" in result.output
    entries = list(AuditLog.for_data_dir(data).entries())
    assert [e["action"] for e in entries] == ["key_init", "key_use", "key_use", "extract"]
    assert [e["details"].get("purpose") for e in entries[1:3]] == ["parse", "extract"]
    assert str(tmp_path) not in json.dumps(entries)  # counts, never paths


def test_title_scrubbing_removes_contacts_and_buyers_but_keeps_quantities() -> None:
    kept = ["MDMA 84% 10g", "2C-B 20mg x 100", "U-47700 Powder 10 grams", "€1.234,50 28g",
            "Amphetamine Sulphate 1000mg x 1 Goes Very Long Way", "5 x 2mg Xanax bars",
            "MDMA only 10g left", "reserved for 5g"]
    for title in kept:
        assert scrub_title(title).text == title
    assert scrub_title("Reservado para m***e").text == "Reservado para [buyer]"
    assert scrub_title("Coke 1g wickr: joe_dealer").counts == {"wickr": 1}
    assert "[address]" in scrub("ship to Hauptstraße 12, 10115 Berlin").text


def _hostile_csv(path: Path) -> list[str]:
    """An Agora-format file whose handles, titles, feedback and categories are hostile."""
    corpus = json.loads((HOSTILE / "values.json").read_text())
    handles = [f"{v}hv{i}" for i, v in
               enumerate([*corpus["script_injection"][:4], *corpus["csv_formula"][:4]])]
    rows = []
    for i, handle in enumerate(handles):
        title = f"MDMA 84% 10g {corpus['script_injection'][i % 10]}"
        feedback = (f" Feedbacks: 5/5 {corpus['contact_details'][i % 6]} 3 days ago "
                    "anon ~5/5, 6~10 deals ")
        rows.append([f"2014-06-01__h{i:03d}.html", "2014-06-01", handle, title, "0.1", "60",
                     "600", corpus["csv_formula"][i % 8], "Ecstasy", "MDMA", feedback,
                     "Germany", "Worldwide"])
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return handles


def test_hostile_values_through_extract_store_and_export(tmp_path: Path) -> None:
    source = tmp_path / "in" / "agora-2014-06-01.csv"
    source.parent.mkdir()
    handles = _hostile_csv(source)
    market = "=HYPERLINK(\"http://evil.example\",\"m\")"
    with Store.open(tmp_path / "data") as store:
        summary = extract(store, plan([source], load_registry(plugins=False)),
                          key=bytes(range(32)), market=market, workers=1)
        assert summary.records["listing"] == len(handles) and not summary.failed
        assert sum(v for k, v in summary.scrubbed.items() if k.startswith("feedback")) >= 6
        assert scan_store(store.connection, handles) == []
        texts = [r[0] for r in store.fetchall("SELECT text FROM feedback_observations")]
        assert texts and not any("protonmail" in t or "bc1q" in t for t in texts)
        titles = [r[0] for r in store.fetchall("SELECT title FROM listing_observations")]
        assert any("<script>" in t for t in titles)  # kept as data, escaped by outputs
        store.upsert("rates", [{"day": date(2014, 5, 1) + timedelta(days=i), "currency": "BTC",
                                "eur_per_unit": 450.0, "source": "test"} for i in range(60)])
        assert build(store).rows["sales"] == len(handles)
        export(store.connection, tmp_path / "csv", fmt="csv",
               audit=AuditLog.for_data_dir(store.data_dir))
    cells = [cell for path in sorted((tmp_path / "csv").glob("*.csv"))
             for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline=""))
             for cell in row]
    assert any(cell == "'" + market for cell in cells), "the hostile market label is exported"
    for cell in cells:
        if cell[:1] in FORMULA_START:
            assert cell[:1] == "-" and _number(cell), cell


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_demo_key_is_outside_the_data_dir_private_and_reused(tmp_path: Path) -> None:
    data = tmp_path / "w" / "data"
    settings = load_settings(None, env={}, overrides={
        "data_dir": str(data), "privacy.key_file": str(demo_key_file(data))})
    first = ensure_demo_key(settings)
    path = settings.privacy.key_file
    assert path == tmp_path / "w" / "keys" / "pseudonym.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0
    assert ensure_demo_key(settings) == first  # a second demo run keeps its pseudonyms
    assert keys.KeyStore.for_settings(settings).load("extract").fingerprint == first
    assert [e["action"] for e in AuditLog.for_data_dir(data).entries()] == ["key_init",
                                                                          "key_use"]


# ----------------------------------------------------------------- wrong and mixed encodings

PAYLOAD = "<script>alert(1)</script>"
HOSTILE_MARKET = f"{PAYLOAD}Märkt"
ENGINE_ADAPTER = {"table": "sim-table", "cards": "sim-cards", "minimal": "sim-minimal"}
ENCODINGS = {
    # market: (how its pages are re-encoded, the Content-Type declared, what a title becomes)
    "silkway": ("latin-1", "text/html; charset=windows-1251", "Qualitдt fьr"),
    "bazaar": ("mixed", "text/html; charset=utf-8", "Qualität f\ufffdr\ufffd"),
    "gidra": ("cp1252", "text/html; charset=bogus", "Qualit\ufffdt f\ufffdr"),
}
"""One declares a charset its bytes are not in (read as declared: mojibake, but text); one
mixes UTF-8, Latin-1 and invalid bytes under a UTF-8 label; one sends Windows-1252 bytes with
an unknown charset in the header and ``<meta charset="utf-8">`` in the page (bad bytes become
U+FFFD). Each market's titles carry non-ASCII text and an escaped script tag (text, not
markup, on the page)."""


def _reencode(page: Fetched, titles: list[str], how: str, declared: str) -> Fetched:
    body = page.body
    suffix = " Qualität ".encode() + (b"f\xfcr\xff" if how == "mixed" else "für".encode())
    suffix += html.escape(" " + PAYLOAD).encode()
    for title in titles:
        for shown in {html.escape(title), html.escape(title, quote=False)}:
            body = body.replace(shown.encode(), shown.encode() + suffix)
    if how != "mixed":  # the whole page in a single-byte encoding
        body = body.decode("utf-8", "replace").encode(how, "replace")
    return Fetched(page.url, page.status, declared, body)


def _crawl_reencoded(tmp_path: Path) -> tuple[list[Path], list[MarketRoute], list[Any]]:
    """Two snapshots of the tiny world (feedback between them makes sales), as WARC files."""
    world = generate_world(preset("tiny", seed=3))
    titles = [str(t) for t in world.table("listings").column("title").to_pylist()]
    registry = load_registry(plugins=False)
    warcs: list[Path] = []
    routes: list[MarketRoute] = []
    with SimServer(world, day=6) as sim:
        for day in (6, 19):
            sim.clock.set_day(day)
            for market, base in sim.urls.items():
                name = ENGINE_ADAPTER[sim.engine(market).name]
                adapter = registry.create(name, pseudonym.Pseudonymizer(bytes(32)),
                                          market=market)
                how, declared, _shown = ENCODINGS[market]
                pages = [_reencode(p, titles, how, declared)
                         for p in crawl(base, adapter, sim.clock.now)]
                if market == "gidra":  # the corpus page: claims UTF-8, holds three encodings
                    pages.append(Fetched(base + "/listing/corpus", 200, "text/html",
                                         (HOSTILE / "pages" / "mixed_encoding.html")
                                         .read_bytes()))
                path = tmp_path / "data" / "warc" / f"{market}-{day}.warc.gz"
                path.parent.mkdir(parents=True, exist_ok=True)
                write_warc(path, pages, sim.clock.now)
                warcs.append(path)
                if day == 6:
                    label = HOSTILE_MARKET if market == "silkway" else market
                    routes.append(MarketRoute(label, name, (base.removeprefix("http://"),)))
    return warcs, routes, world.table("rates").to_pylist()


def _text_values(store: Store) -> list[str]:
    """Every VARCHAR value of every table of the store."""
    columns = store.fetchall(
        "SELECT c.table_name, c.column_name FROM duckdb_columns() c JOIN duckdb_tables() t "
        "USING (schema_name, table_name) WHERE c.data_type = 'VARCHAR' AND NOT t.internal")
    return [value for table, column in columns for (value,) in store.fetchall(
        f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL')]


def test_wrong_and_mixed_encodings_through_extract_store_report_and_export(
        tmp_path: Path) -> None:
    warcs, routes, rates = _crawl_reencoded(tmp_path)
    with Store.open(tmp_path / "data") as store:
        summary = extract(store, plan(warcs, load_registry(plugins=False)),
                          key=bytes(range(32)), routes=routes, workers=1)
        assert not summary.failed and summary.records["listing"] > 0
        for market, (_how, _declared, shown) in ENCODINGS.items():
            label = HOSTILE_MARKET if market == "silkway" else market
            titles = [r[0] for r in store.fetchall(
                "SELECT title FROM listing_observations WHERE market = ?", [label])]
            assert any(shown in t and PAYLOAD in t for t in titles), market  # kept as data
        for value in _text_values(store):
            value.encode("utf-8")  # strict: no lone surrogate from a bad byte
            assert "\x00" not in value
        store.upsert("rates", [{"day": r["day"], "currency": r["currency"],
                                "eur_per_unit": r["eur_per_unit"], "source": "sim"}
                               for r in rates])
        assert build(store).rows["sales"] > 0
        write_report(store, tmp_path / "report.html")
        for fmt in ("csv", "parquet"):
            export(store.connection, tmp_path / fmt, fmt=fmt,
                   audit=AuditLog.for_data_dir(store.data_dir))
    page = (tmp_path / "report.html").read_bytes().decode("utf-8")  # strict
    assert PAYLOAD not in page
    as_json = json.dumps(PAYLOAD).strip('"').replace("<", "\\u003c").replace(">", "\\u003e")
    assert as_json in page  # chart data: inline JSON with < and > escaped
    assert html.escape(HOSTILE_MARKET) in page, "the hostile market label is shown, escaped"
    rest = page.replace(html.escape(PAYLOAD), "").replace(as_json, "")
    assert "alert(1)" not in rest, "the payload appears only in its escaped forms"
    cells = [cell for path in sorted((tmp_path / "csv").glob("*.csv"))
             for row in csv.reader(io.StringIO(path.read_bytes().decode("utf-8"), newline=""))
             for cell in row]
    assert HOSTILE_MARKET in cells  # CSV is data, not markup: only formulas are neutralised
    for cell in cells:
        if cell[:1] in FORMULA_START:
            assert cell[:1] == "-" and _number(cell), cell
