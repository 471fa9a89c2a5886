"""Extraction throughput and memory on a generated WARC set (issue 4: 2 GB under 300 MB RSS).

Pages of the ``small`` simulated world are fetched once over loopback, then written again and
again (with distinct URLs' capture times) into WARC files of ``--file-mb`` until the set holds
``--size-mb``; the set is extracted into a fresh store with ``--workers`` processes. Printed:
pages/s, MB/s, records, and peak RSS of the writer process and of the largest worker
(``resource.getrusage``; RSS is per process, so each must stay under the target).

    .venv/bin/python bench/bench_extract.py                  # the 2 GB set of the issue
    .venv/bin/python bench/bench_extract.py --size-mb 100    # a quick run
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _extract_support import KEY, SIM_ADAPTERS, crawl, write_records
from dnmwatch.adapters.registry import load_registry
from dnmwatch.pseudonym import Pseudonymizer
from dnmwatch.sim.generate import generate_world
from dnmwatch.sim.model import preset
from dnmwatch.sim.server import SimServer
from dnmwatch.sources.extract import default_workers, extract, plan
from dnmwatch.sources.worker import MarketRoute
from dnmwatch.store import Store


def build_set(folder: Path, size_mb: int, file_mb: int, scale: str) -> tuple[int, int, str]:
    world = generate_world(preset(scale))
    market = "silkway"
    with SimServer(world, day=min(15, world.config.days - 1), markets=[market]) as sim:
        now = sim.clock.now
        adapter = load_registry(plugins=False).create(SIM_ADAPTERS[market], Pseudonymizer(KEY),
                                                      market=market)
        pages = crawl(sim.urls[market], adapter, now)
        host = sim.urls[market].split("//", 1)[1]
    total, written, n = size_mb * 1_000_000, 0, 0
    while written < total:
        path = folder / f"{market}-{n:05d}.warc.gz"
        with path.open("wb") as out:
            while out.tell() < file_mb * 1_000_000 and written + out.tell() < total:
                write_records(out, pages, now - timedelta(days=n),
                              info={"dnmwatch-market": market} if out.tell() == 0 else None)
            written += out.tell()
        n += 1
    return n, len(pages), host


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=2000)
    parser.add_argument("--file-mb", type=int, default=256)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--scale", default="small")
    parser.add_argument("--build-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only is not None:
        files, distinct, host = build_set(args.build_only, args.size_mb, args.file_mb,
                                          args.scale)
        print(files, distinct, host)
        return
    with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp:
        folder = Path(tmp) / "warc"
        folder.mkdir()
        t0 = time.perf_counter()
        # Built in another process, so that the simulated world does not count in the RSS.
        out = subprocess.run([sys.executable, __file__, "--build-only", str(folder),
                              "--size-mb", str(args.size_mb), "--file-mb", str(args.file_mb),
                              "--scale", args.scale], check=True, capture_output=True,
                             text=True).stdout.split()
        files, distinct, host = int(out[-3]), int(out[-2]), out[-1]
        size = sum(p.stat().st_size for p in folder.iterdir())
        print(f"set: {files} files, {size / 1e6:.0f} MB, {distinct} distinct pages "
              f"(built in {time.perf_counter() - t0:.0f} s)")
        tasks = plan([folder], load_registry(plugins=False))
        routes = [MarketRoute("silkway", SIM_ADAPTERS["silkway"], (host,))]
        with Store.open(Path(tmp) / "data") as store:
            summary = extract(store, tasks, key=KEY, routes=routes, workers=args.workers)
        me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        # (children include the set builder; run with --workers 1 to see the writer alone)
    print(f"workers={args.workers}: {summary.pages} pages in {summary.seconds:.1f} s = "
          f"{summary.pages_per_s:.0f} pages/s ({summary.pages_per_s / args.workers:.0f} per "
          f"worker), {size / 1e6 / summary.seconds:.1f} MB/s")
    print(f"records: {summary.records}; rejections: {summary.rejections}")
    print(f"peak RSS: writer {me:.0f} MB, largest worker {kids:.0f} MB")


if __name__ == "__main__":
    main()
