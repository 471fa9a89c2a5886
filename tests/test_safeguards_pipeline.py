"""The safeguards on real pipeline output (issue 8): one crawl of the tiny simulated world
through a SOCKS proxy, extraction with a key made by ``keys init``, a build and both exports.

* buyers are never stored: the simulator's masked buyer names, which the WARC pages do show
  (checked, so the scan is not vacuous), appear in no table and no exported file;
* vendor handles are never stored in clear (profile URLs included);
* the researcher's machine leaves no trace: no loopback ``host:port``, user name, host name or
  session cookie in WARC headers, warcinfo, the audit log or any table of the store (the
  ``source`` columns hold paths relative to the data directory, never absolute ones; the
  pytest folder, ``/tmp/pytest-of-<user>/``, makes an absolute path carry the user name);
* every crawl (its start and its end), the extraction, the key use and the exports are in an
  intact audit log.
"""

from __future__ import annotations

import getpass
import socket
from pathlib import Path

import pytest

from _safeguards_run import Run, onion, run_pipeline
from dnmwatch.collect.warc_read import iter_records
from dnmwatch.privacy.audit import AuditLog
from dnmwatch.privacy.scan import scan_files, scan_store
from dnmwatch.store import Store


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run_pipeline(tmp_path_factory.mktemp("safeguards"))


def _buyers(run: Run) -> list[str]:
    return sorted(set(run.world.table("feedback").column("buyer_masked").to_pylist()))


def _handles(run: Run) -> list[str]:
    return sorted(set(run.world.table("vendors").column("vendor_handle").to_pylist()))


def _warcs(run: Run) -> list[Path]:
    return sorted((run.settings.data_dir / "warc").rglob("*.warc.gz"))


def test_the_run_crawled_extracted_and_exported(run: Run) -> None:
    assert run.results and all(r.status == "finished" for r in run.results)
    assert run.summary.records["listing"] > 0 and run.summary.records["feedback"] > 0
    assert not run.summary.failed
    assert all((run.exports[f] / "datapackage.json").is_file() for f in ("csv", "parquet"))


def test_buyer_names_are_on_the_pages_but_in_no_table_or_export(run: Run) -> None:
    buyers = _buyers(run)
    bodies = "\n".join(r.block.decode("utf-8", "replace") for p in _warcs(run)
                       for r in iter_records(p) if r.type == "response").casefold()
    shown = [b for b in buyers if b.casefold() in bodies]
    assert len(shown) >= 20, "the pages must show buyers, else the scan proves nothing"
    with Store.open(run.settings.data_dir, read_only=True) as store:
        assert scan_store(store.connection, buyers, min_length=4) == []
    for folder in run.exports.values():
        assert scan_files(folder, buyers, min_length=4) == []


def test_vendor_handles_are_never_stored_in_clear(run: Run) -> None:
    handles = _handles(run)
    with Store.open(run.settings.data_dir, read_only=True) as store:
        assert scan_store(store.connection, handles) == []
        ids = {r[0] for r in store.fetchall(
            "SELECT DISTINCT vendor_id FROM listing_observations WHERE vendor_id IS NOT NULL")}
        profiles = store.fetchall("SELECT count(*) FROM pages WHERE page_type = 'vendor' "
                                  "AND url LIKE '%[vendor profile]'")[0][0]
    assert ids and all(i.startswith("v_") and len(i) == 18 for i in ids)
    assert profiles == run.summary.scrubbed["pages.url:vendor_profile"] > 0
    for folder in run.exports.values():
        assert scan_files(folder, handles) == []


def test_reserved_for_buyer_titles_are_scrubbed_and_counted(run: Run) -> None:
    titles = run.world.table("listings").column("title").to_pylist()
    reserved = [t for t in titles if any(b.casefold() in t.casefold() for b in _buyers(run))]
    with Store.open(run.settings.data_dir, read_only=True) as store:
        counted = store.fetchall("SELECT count(*) FROM rejections WHERE stage = 'scrub' "
                                 "AND reason = 'buyer' AND detail = 'listing.title'")[0][0]
        placeholders = store.fetchall("SELECT count(*) FROM listing_observations "
                                      "WHERE title LIKE '%[buyer]%'")[0][0]
    assert reserved, "the tiny world has 'reserved for <buyer>' listings"
    assert counted == run.summary.scrubbed["listing.title:buyer"] == placeholders > 0


def _researcher_needles(run: Run) -> list[str]:
    needles = [*run.loopback, *sorted(run.sessions)]
    for name in (getpass.getuser(), socket.gethostname()):
        if len(name) >= 3:
            needles.append(name)
    return needles


def _warc_metadata(run: Run) -> str:
    """Every WARC header, the warcinfo blocks and the HTTP headers of requests/responses."""
    parts: list[str] = []
    for path in _warcs(run):
        for record in iter_records(path):
            parts += [f"{k}: {v}" for k, v in record.headers.items()]
            if record.type == "warcinfo":
                parts.append(record.block.decode("utf-8", "replace"))
            elif record.type in ("request", "response"):
                parts.append(record.block.split(b"\r\n\r\n", 1)[0].decode("latin-1"))
    return "\n".join(parts)


def test_no_researcher_identity_in_warc_audit_or_any_table(run: Run) -> None:
    needles = _researcher_needles(run)
    assert run.sessions, "the simulated markets issue session cookies"
    metadata = _warc_metadata(run)
    assert "Cookie" in metadata  # the headers are there, their values redacted
    audit = (run.settings.data_dir / "audit.jsonl").read_text(encoding="utf-8")
    for where, text in (("warc", metadata), ("audit", audit)):
        leaked = [i for i, n in enumerate(needles) if n.casefold() in text.casefold()]
        assert not leaked, f"{where} carries researcher needle(s) #{leaked}"
    data_dir = str(run.settings.data_dir.resolve())
    with Store.open(run.settings.data_dir, read_only=True) as store:
        tables = {r[0] for r in store.fetchall("SELECT table_name FROM duckdb_tables() "
                                               "WHERE NOT internal")}
        hits = scan_store(store.connection, [*needles, data_dir], min_length=3)
        leaks = [h for h in hits if h.where.split(".")[0] in tables]  # not DuckDB's own views
        assert not leaks, leaks
        sources = {table: [r[0] for r in store.fetchall(
            f"SELECT DISTINCT source FROM {table}")]
            for table in ("pages", "rejections", "listing_observations",
                          "vendor_observations", "feedback_observations")}
    assert all(sources.values()), "every table with a source column has rows"
    assert all(s.startswith("warc/") and s.endswith(".warc.gz")
               for values in sources.values() for s in values), sources
    assert all(onion(r.market) in metadata for r in run.results)


def test_proxy_saw_only_market_names_never_addresses(run: Run) -> None:
    assert run.socks_requests
    assert all(r.address_type == "domain" and r.host.endswith(".onion") and r.accepted
               for r in run.socks_requests)


def test_audit_log_records_the_whole_run_and_verifies(run: Run) -> None:
    log = AuditLog.for_data_dir(run.settings.data_dir)
    assert log.verify().ok
    entries = list(log.entries())
    actions = [e["action"] for e in entries]
    assert actions[0] == "key_init"
    crawls = [e["details"] for e in entries if e["action"] == "crawl"]
    starts = [c for c in crawls if c["event"] == "start"]
    finishes = [c for c in crawls if c["event"] == "finish"]
    assert len(starts) + len(finishes) == len(crawls)
    assert {(c["crawl_id"], c["status"]) for c in finishes} == {
        (r.crawl_id, r.status) for r in run.results}
    assert all(set(c) >= {"market", "pages_ok"} for c in finishes)
    assert sorted((c["crawl_id"], c["market"]) for c in starts) == sorted(
        (r.crawl_id, r.market) for r in run.results)
    order = [(c["event"], c["crawl_id"]) for c in crawls]
    assert all(order.index(("start", r.crawl_id)) < order.index(("finish", r.crawl_id))
               for r in run.results)
    uses = [e["details"]["purpose"] for e in entries if e["action"] == "key_use"]
    assert "extract" in uses
    extract = next(e["details"] for e in entries if e["action"] == "extract")
    assert extract["records"] == run.summary.records
    assert extract["scrubbed"]["listing.title:buyer"] > 0
    assert actions.count("export") == 2


def test_crawl_threads_resolve_nothing_and_connect_only_to_the_proxy(run: Run) -> None:
    """The egress test of ``test_collect_fetch`` watches the main thread; the demo crawls on
    worker threads, so here every thread is watched. Only the proxy's own thread may connect
    elsewhere (to the simulated markets, as Tor would)."""
    proxy = ("127.0.0.1", int(run.loopback[-1].rsplit(":", 1)[1]))
    crawling = [(t, a) for t, a in run.connects if not t.startswith("dnmwatch-socks")]
    assert crawling and all(address == proxy for _t, address in crawling), crawling
    assert not [h for _t, h in run.lookups if h.endswith(".onion")]
    assert not [h for _t, h in run.lookups if h not in ("127.0.0.1", "localhost")]
