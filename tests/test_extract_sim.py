"""End to end, crawl-free: simulator pages fetched over loopback, written to WARC files with
warcio's writer, extracted into a real DuckDB store; the store must hold exactly what the
adapters give when run on the same pages, with provenance back to the WARC record."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator  # type: ignore[import-untyped]

from _extract_support import KEY, SIM_ADAPTERS, Fetched, crawl, write_warc
from dnmwatch.adapters.registry import load_registry
from dnmwatch.privacy.audit import AuditLog
from dnmwatch.privacy.keys import KeyStore
from dnmwatch.pseudonym import PSEUDONYM, Pseudonymizer
from dnmwatch.records import Page, Rejection
from dnmwatch.sim.generate import generate_world
from dnmwatch.sim.model import preset
from dnmwatch.sim.server import SimServer
from dnmwatch.sources.cli import register
from dnmwatch.sources.extract import extract, plan
from dnmwatch.sources.worker import MarketRoute
from dnmwatch.store import Store


class Site:
    def __init__(self, market: str, base: str, now: datetime, pages: list[Fetched]) -> None:
        self.market, self.base, self.now, self.pages = market, base, now, pages

    @property
    def host(self) -> str:
        return self.base.split("//", 1)[1]


@pytest.fixture(scope="module")
def sites() -> Iterator[dict[str, Site]]:
    world = generate_world(preset("tiny"))
    registry = load_registry(plugins=False)
    with SimServer(world, day=15) as sim:
        now = sim.clock.now
        out = {}
        for market, name in SIM_ADAPTERS.items():
            adapter = registry.create(name, Pseudonymizer(KEY), market=market)
            out[market] = Site(market, sim.urls[market], now, crawl(sim.urls[market], adapter,
                                                                    now))
    yield out


def expected(site: Site) -> Counter[str]:
    """What the adapter yields on the fetched pages, by kind and rejection reason."""
    adapter = load_registry(plugins=False).create(SIM_ADAPTERS[site.market], Pseudonymizer(KEY),
                                                  market=site.market)
    out: Counter[str] = Counter()
    for f in site.pages:
        page = Page(url=f.url, captured_at=site.now, body=f.body, status=f.status)
        for rec in adapter.parse(page):
            out[f"rejection:{rec.reason}" if isinstance(rec, Rejection) else rec.kind] += 1
    return out


def routes(sites: dict[str, Site]) -> list[MarketRoute]:
    return [MarketRoute(m, SIM_ADAPTERS[m], (s.host,)) for m, s in sites.items()]


def counts(store: Store) -> Counter[str]:
    out: Counter[str] = Counter()
    for table, kind in (("listing_observations", "listing"), ("vendor_observations", "vendor"),
                        ("feedback_observations", "feedback")):
        out[kind] = store.fetchall(f"SELECT count(*) FROM {table}")[0][0]
    for reason, n in store.fetchall("SELECT reason, count(*) FROM rejections GROUP BY 1"):
        out[f"rejection:{reason}"] = n
    return out


@pytest.fixture(scope="module")
def warcs(sites: dict[str, Site], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("warcs")
    out = {}
    for market, site in sites.items():
        out[market] = folder / f"{market}-00000.warc.gz"
        write_warc(out[market], site.pages, site.now,
                   info={"dnmwatch-market": market, "dnmwatch-crawl-id": f"{market}-crawl-1"})
    return out


def test_store_holds_what_the_adapters_yield(sites: dict[str, Site], warcs: dict[str, Path],
                                             tmp_path: Path) -> None:
    tasks = plan(list(warcs.values()), load_registry(plugins=False))
    with Store.open(tmp_path / "data") as store:
        summary = extract(store, tasks, key=KEY, routes=routes(sites), workers=1)
        got = counts(store)
        want: Counter[str] = Counter()
        for site in sites.values():
            want.update(expected(site))
        assert {k: v for k, v in got.items() if v} == dict(want)
        assert summary.pages == sum(len(s.pages) for s in sites.values())
        assert want["listing"] > 50 and want["feedback"] > 100 and want["vendor"] > 5
        pages = store.fetchall("SELECT market, crawl_id, adapter, count(*) FROM pages "
                               "GROUP BY ALL ORDER BY 1")
        assert pages == sorted((m, f"{m}-crawl-1", SIM_ADAPTERS[m], len(s.pages))
                               for m, s in sites.items())
        ids = [r[0] for r in store.fetchall("SELECT vendor_id FROM listing_observations")]
        assert ids and all(PSEUDONYM.match(v) for v in ids)
        markets = store.fetchall("SELECT market, adapter FROM markets ORDER BY 1")
        assert markets == sorted(SIM_ADAPTERS.items())


def test_provenance_points_at_the_warc_record(sites: dict[str, Site], warcs: dict[str, Path],
                                              tmp_path: Path) -> None:
    path = warcs["silkway"]
    with Store.open(tmp_path / "data") as store:
        extract(store, plan([path], load_registry(plugins=False)), key=KEY,
                routes=routes(sites))
        rows = store.fetchall("SELECT p.url, l.source, l.source_offset, l.observed_at "
                              "FROM listing_observations l JOIN pages p USING (source, "
                              "source_offset) LIMIT 20")
    assert rows
    data = path.read_bytes()
    for url, source, offset, observed in rows:
        assert source == str(path.resolve())
        record = next(iter(ArchiveIterator(io.BytesIO(data[offset:]))))
        assert record.rec_headers.get_header("WARC-Target-URI") == url
        assert observed == sites["silkway"].now.replace(tzinfo=None, microsecond=0)


def test_reextracting_replaces_and_workers_agree(sites: dict[str, Site], warcs: dict[str, Path],
                                                 tmp_path: Path) -> None:
    registry = load_registry(plugins=False)
    tasks = plan(list(warcs.values()), registry)
    query = ("SELECT market, listing_id, title, vendor_id, price, currency, source, "
             "source_offset FROM listing_observations ORDER BY ALL")
    with Store.open(tmp_path / "one") as store:
        extract(store, tasks, key=KEY, routes=routes(sites), workers=1)
        first = store.fetchall(query)
        extract(store, tasks, key=KEY, routes=routes(sites), workers=1)
        assert store.fetchall(query) == first, "a re-run must replace, not add"
    with Store.open(tmp_path / "two") as store:
        summary = extract(store, tasks, key=KEY, routes=routes(sites), workers=2)
        assert not summary.failed
        assert store.fetchall(query) == first


def test_adapter_chosen_by_option_or_unknown_host(sites: dict[str, Site], tmp_path: Path) -> None:
    site = sites["gidra"]
    path = tmp_path / "plain.warc"
    write_warc(path, site.pages[:30], site.now, gzip=False)
    tasks = plan([path], load_registry(plugins=False))
    with Store.open(tmp_path / "a") as store:
        summary = extract(store, tasks, key=KEY)
        assert summary.rejections == {"no_adapter": 30}
        assert store.fetchall("SELECT DISTINCT page_type FROM pages") == [("unknown",)]
    with Store.open(tmp_path / "b") as store:
        summary = extract(store, tasks, key=KEY, adapter="sim-minimal", market="gidra")
        assert "no_adapter" not in summary.rejections
        assert summary.records.get("listing", 0) > 0
        assert store.fetchall("SELECT DISTINCT market FROM pages") == [("gidra",)]


def test_damaged_files_are_counted_and_the_rest_is_kept(sites: dict[str, Site],
                                                        tmp_path: Path) -> None:
    site = sites["silkway"]
    folder = tmp_path / "warcs"
    folder.mkdir()
    good = folder / "a-good.warc.gz"
    offsets = write_warc(good, site.pages[:20], site.now)
    data = good.read_bytes()
    (folder / "b-truncated.warc.gz").write_bytes(data[:offsets[15] + 200])
    broken = bytearray(data)
    broken[offsets[5] + 20:offsets[5] + 60] = b"\x00" * 40
    (folder / "c-broken.warc.gz").write_bytes(bytes(broken))
    (folder / "d-empty.warc.gz").write_bytes(b"")
    (folder / "e-garbage.warc").write_bytes(b"not a warc file at all\n" * 10)
    (folder / "z-open.warc.gz.open").write_bytes(data)
    tasks = plan([folder], load_registry(plugins=False))
    assert [Path(t.path).name for t in tasks] == ["a-good.warc.gz", "b-truncated.warc.gz",
                                                  "c-broken.warc.gz", "d-empty.warc.gz",
                                                  "e-garbage.warc"]
    with Store.open(tmp_path / "data") as store:
        summary = extract(store, tasks, key=KEY, adapter="sim-table", market="silkway")
        per_file = dict(store.fetchall("SELECT source, count(*) FROM pages GROUP BY 1"))
        problems = store.fetchall("SELECT source, reason, source_offset FROM rejections "
                                  "WHERE reason IN ('broken_record', 'truncated_record') "
                                  "ORDER BY 1")
    assert not summary.failed
    assert per_file[str(good)] == 20
    assert per_file[str(folder / "b-truncated.warc.gz")] == 15
    assert per_file[str(folder / "c-broken.warc.gz")] == 19
    assert (str(folder / "b-truncated.warc.gz"), "truncated_record", offsets[15]) in problems
    assert (str(folder / "c-broken.warc.gz"), "broken_record", offsets[5]) in problems
    assert any(src.endswith("e-garbage.warc") for src, _r, _o in problems)
    assert summary.counters["warc:resynced"] >= 1


def test_cli_extract_prints_a_summary(sites: dict[str, Site], warcs: dict[str, Path],
                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DNMWATCH_PRIVACY__KEY_FILE", str(tmp_path / "secret" / "key"))
    KeyStore(tmp_path / "secret" / "key", tmp_path / "data",
             AuditLog.for_data_dir(tmp_path / "data")).init()
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    result = CliRunner().invoke(app, ["extract", str(warcs["bazaar"]), "--adapter",
                                      "sim-cards", "--market", "bazaar", "--workers", "1",
                                      "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    summary = next(line for line in lines if line.startswith("extracted 1 file(s)"))
    assert f"{len(sites['bazaar'].pages)} pages" in summary
    records = next(line for line in lines if line.startswith("records:"))
    assert "listing" in records and "feedback" in records
    with Store.open(tmp_path / "data", read_only=True) as store:
        n = store.fetchall("SELECT count(*) FROM listing_observations")[0][0]
    assert f"listing {n}" in records
