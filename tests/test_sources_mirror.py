"""HTML mirror folders: URLs and capture times from the layout, and extraction of a small
mirror of simulator pages (saved as files, as an archived market dump would be)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from dnmwatch.adapters.registry import load_registry
from dnmwatch.pseudonym import Pseudonymizer
from dnmwatch.records import Counters, Page, Rejection
from dnmwatch.sim.generate import generate_world
from dnmwatch.sim.model import preset
from dnmwatch.sim.server import SimServer
from dnmwatch.sources.extract import extract, plan
from dnmwatch.sources.mirror import MirrorSource, date_from_path, list_mirror, url_for
from dnmwatch.store import Store

KEY = bytes(range(32))


def test_dates_and_urls_from_paths(tmp_path: Path) -> None:
    assert date_from_path("agora/2014-01-01/p/x") == datetime(2014, 1, 1, tzinfo=UTC)
    assert date_from_path("dump_20170422/a/2014_02_03.html") == datetime(2014, 2, 3, tzinfo=UTC)
    assert date_from_path("p/2014-13-45/x") is None
    root = tmp_path / "m"
    assert url_for(root, root / "abc.onion" / "listing" / "42", None) == \
        "http://abc.onion/listing/42"
    assert url_for(root, root / "127.0.0.1:8001" / "item", None) == "http://127.0.0.1:8001/item"
    assert url_for(root, root / "p" / "x.html", "http://h.onion/") == "http://h.onion/p/x.html"
    assert url_for(root, root / "x.html", None).startswith("file://")
    assert url_for(root, root / "2014-01-01" / "p" / "x", "http://h.onion") == "http://h.onion/p/x"


def test_mirror_skips_assets_and_counts_problems(tmp_path: Path) -> None:
    root = tmp_path / "dump" / "2019-09-16"
    (root / "img").mkdir(parents=True)
    (root / "index.html").write_text("<html></html>")
    (root / "listing").write_text("<html></html>")
    (root / "img" / "logo.png").write_bytes(b"\x89PNG")
    (root / "big.html").write_bytes(b"x" * 2000)
    counters = Counters()
    files = list_mirror(root, counters)
    assert [f.name for f in files] == ["big.html", "index.html", "listing"]
    assert counters["mirror:skipped_not_page"] == 1
    items = list(MirrorSource(root, files, max_body_bytes=1000, counters=counters).pages())
    assert isinstance(items[0], Rejection) and items[0].reason == "too_large"
    pages = [i for i in items if isinstance(i, Page)]
    assert [p.captured_at for p in pages] == [datetime(2019, 9, 16, tzinfo=UTC)] * 2


def test_extract_a_mirror_of_simulator_pages(tmp_path: Path) -> None:
    world = generate_world(preset("tiny"))
    root = tmp_path / "silkway" / "2019-09-16"
    with SimServer(world, day=15) as sim:
        view = sim.view("silkway")
        engine = sim.engine("silkway")
        listings = [x for x in view.market.listings.values() if x.live(view.day)][:12]
        vendors = {engine.vendor_url(view, x.vendor) for x in listings}
        for path in [engine.listing_url(view, x) for x in listings] + sorted(vendors):
            html = engine.dispatch(path.split("?")[0], {}, view).html
            target = root / path.split("?")[0].lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(html, encoding="utf-8")
    adapter = load_registry(plugins=False).create("sim-table", Pseudonymizer(KEY))
    want = sum(1 for f in sorted((root / "listing").iterdir())
               for r in adapter.parse(Page(f"http://silkway.onion/listing/{f.name}",
                                           datetime.now(UTC), f.read_bytes()))
               if r.kind == "listing")
    tasks = plan([tmp_path / "silkway"], load_registry(plugins=False), chunk=10)
    n_files = 12 + len(vendors)
    assert len(tasks) == -(-n_files // 10) and {t.kind for t in tasks} == {"mirror"}
    with Store.open(tmp_path / "data") as store:
        summary = extract(store, tasks, key=KEY, adapter="sim-table", market="silkway",
                          base_url="http://silkway.onion")
        rows = store.fetchall("SELECT DISTINCT observed_at FROM listing_observations")
        n = store.fetchall("SELECT count(*) FROM listing_observations")[0][0]
        sources = store.fetchall("SELECT count(DISTINCT source) FROM pages")[0][0]
    assert want == 12 and n == 12
    assert summary.records["vendor"] == len(vendors)
    assert summary.pages == n_files and sources == n_files
    assert rows == [(datetime(2019, 9, 16),)]
