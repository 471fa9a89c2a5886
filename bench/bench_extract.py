"""Extraction throughput and memory on a generated WARC set (issue 4: 2 GB under 300 MB RSS).

The pages of the three simulated markets (one per engine) are fetched once over loopback, then
written again and again (each copy with another capture day) into WARC files of ``--file-mb``
until the set holds ``--size-mb``; the set is extracted into a fresh store with ``--workers``
processes (or, with ``--dask``, on a local Dask cluster of that many worker processes).

The set is built in one child process and extracted in another, so that the peak RSS printed
is that of the extraction alone: ``writer`` is the process that holds DuckDB, ``largest
worker`` the largest of its worker processes (``resource.getrusage``; RSS is per process, and
each must stay under the target). The run fails if any page is a ``parser_error`` or no
listing was extracted: a benchmark of broken parsing measures nothing.

    .venv/bin/python bench/bench_extract.py                  # the 2 GB set of the issue
    .venv/bin/python bench/bench_extract.py --size-mb 100    # a quick run
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _extract_support import KEY, SIM_ADAPTERS, Fetched, crawl, write_records
from dnmwatch.adapters.registry import load_registry
from dnmwatch.pseudonym import Pseudonymizer
from dnmwatch.sim.generate import generate_world
from dnmwatch.sim.model import Scale, preset
from dnmwatch.sim.server import SimServer
from dnmwatch.sources.extract import default_workers, extract, plan
from dnmwatch.sources.worker import MarketRoute
from dnmwatch.store import Store


def fetch_sites(scale: Scale) -> tuple[list[Fetched], dict[str, str], datetime]:
    """Every page of every simulated market (all markets served: a vendor page names the
    vendor's accounts on the other markets), and each market's host."""
    world = generate_world(preset(scale))
    registry = load_registry(plugins=False)
    pages: list[Fetched] = []
    hosts: dict[str, str] = {}
    with SimServer(world, day=min(15, world.config.days - 1)) as sim:
        now = sim.clock.now
        for market, name in SIM_ADAPTERS.items():
            adapter = registry.create(name, Pseudonymizer(KEY), market=market)
            pages += crawl(sim.urls[market], adapter, now)
            hosts[market] = sim.urls[market].split("//", 1)[1]
    return pages, hosts, now


def build_set(folder: Path, size_mb: int, file_mb: int, scale: Scale) -> dict[str, object]:
    """Write the set into ``folder``; return what a report needs (files, pages, hosts)."""
    pages, hosts, now = fetch_sites(scale)
    total, written, n = size_mb * 1_000_000, 0, 0
    while written < total:
        path = folder / f"sim-{n:05d}.warc.gz"
        with path.open("wb") as out:
            while out.tell() < file_mb * 1_000_000 and written + out.tell() < total:
                write_records(out, pages, now + timedelta(days=n))
            written += out.tell()
        n += 1
    statuses: dict[int, int] = {}
    for page in pages:
        statuses[page.status] = statuses.get(page.status, 0) + 1
    return {"files": n, "distinct": len(pages), "hosts": hosts, "statuses": statuses}


def run_extract(folder: Path, data: Path, hosts: dict[str, str], workers: int,
                dask: bool) -> dict[str, object]:
    """Extract ``folder`` into a store at ``data``; the figures as a dict."""
    tasks = plan([folder], load_registry(plugins=False))
    routes = [MarketRoute(m, SIM_ADAPTERS[m], (h,)) for m, h in hosts.items()]
    with Store.open(data) as store:
        if dask:
            from dnmwatch.scale import LocalDask

            with LocalDask(workers) as cluster:
                summary = extract(store, tasks, key=KEY, routes=routes,
                                  runner=cluster.runner())
                kids = cluster.peak_rss_mb()
        else:
            summary = extract(store, tasks, key=KEY, routes=routes, workers=workers)
            kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        rows = dict(store.fetchall(
            "SELECT 'listing', count(*) FROM listing_observations UNION ALL "
            "SELECT 'feedback', count(*) FROM feedback_observations UNION ALL "
            "SELECT 'vendor', count(*) FROM vendor_observations"))
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"pages": summary.pages, "seconds": summary.seconds, "records": summary.records,
            "rejections": summary.rejections, "rows": rows, "failed": summary.failed,
            "writer_mb": me, "worker_mb": kids}


def _child(args: list[str]) -> dict[str, object]:
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True,
                         text=True).stdout
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=2000)
    parser.add_argument("--file-mb", type=int, default=256)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--scale", default="small", choices=["tiny", "small", "medium", "large"])
    parser.add_argument("--dask", action="store_true", help="run on a local Dask cluster")
    parser.add_argument("--keep", type=Path, help="build the set here and keep it")
    parser.add_argument("--build-only", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--extract-only", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only is not None:
        print(json.dumps(build_set(args.build_only, args.size_mb, args.file_mb, args.scale)))
        return
    if args.extract_only is not None:
        folder, data, hosts = args.extract_only
        print(json.dumps(run_extract(Path(folder), Path(data), json.loads(hosts),
                                     args.workers, args.dask)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp:
        folder = args.keep or Path(tmp) / "warc"
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        built = _child(["--build-only", str(folder), "--size-mb", str(args.size_mb),
                        "--file-mb", str(args.file_mb), "--scale", args.scale])
        size = sum(p.stat().st_size for p in folder.iterdir())
        print(f"set: {built['files']} files, {size / 1e6:.0f} MB, {built['distinct']} distinct "
              f"pages, HTTP status {built['statuses']} (built in "
              f"{time.perf_counter() - t0:.0f} s)", flush=True)
        got = _child(["--extract-only", str(folder), str(Path(tmp) / "data"),
                      json.dumps(built["hosts"]), "--workers", str(args.workers)]
                     + (["--dask"] if args.dask else []))
    pages, seconds = int(str(got["pages"])), float(str(got["seconds"]))
    engine = "dask" if args.dask else "processes"
    print(f"workers={args.workers} ({engine}): {pages} pages in {seconds:.1f} s = "
          f"{pages / seconds:.0f} pages/s ({pages / seconds / args.workers:.0f} per worker), "
          f"{size / 1e6 / seconds:.1f} MB/s")
    print(f"records: {got['records']}; rejections: {got['rejections']}")
    print(f"rows: {got['rows']}")
    print(f"peak RSS: writer {float(str(got['writer_mb'])):.0f} MB, largest worker "
          f"{float(str(got['worker_mb'])):.0f} MB")
    rejections = got["rejections"]
    rows = got["rows"]
    assert isinstance(rejections, dict) and isinstance(rows, dict)
    if rejections.get("parser_error") or not rows.get("listing") or got["failed"]:
        sys.exit("FAILED: parser errors, failed tasks or no listings: the figures are void")


if __name__ == "__main__":
    main()
