"""End to end on a simulated ecosystem (issue 10): crawl on loopback, extract, build, report.

Each stage runs in its own child process so that its peak RSS is its own (``ru_maxrss`` only
grows); extraction runs twice on copies of the crawled store, with 1 worker (in the writer's
process) and with ``--workers`` worker processes on a local Dask cluster, for the scaling
efficiency ``(pages/s with N) / (N x pages/s with 1)``. Then the incremental build: the
observations of the last ``--holdback`` share of the WARC files are extracted after a first
build, and the second build is timed against the full one.

    .venv/bin/python bench/bench_pipeline.py --scale large --every 28  # the recorded run (47 min)
    .venv/bin/python bench/bench_pipeline.py --scale tiny --every 14 # a quick check

Figures are printed as a table and as JSON (``--json FILE``) for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

STAGES = ("crawl", "extract", "build", "incremental", "report")


def _rss() -> dict[str, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    return {"rss_mb": me.ru_maxrss / 1024, "cpu_s": me.ru_utime + me.ru_stime,
            "children_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def stage_crawl(work: Path, scale: str, every: int) -> dict[str, Any]:
    from dnmwatch.demo import crawl_schedule, demo_settings, ensure_demo_key, weekly_days
    from dnmwatch.sim.generate import generate_world
    from dnmwatch.sim.model import preset
    from dnmwatch.sim.server import SimServer

    world = generate_world(preset(scale))  # type: ignore[arg-type]
    t0 = time.perf_counter()
    with SimServer(world) as server:
        settings = demo_settings(server, work / "data")
        ensure_demo_key(settings)
        days = weekly_days(world, every)
        results = crawl_schedule(world, server, settings, days)
        hosts = {name: (m.adapter, list(m.hosts)) for name, m in settings.markets.items()}
    seconds = time.perf_counter() - t0
    pages = sum(r.pages_ok for r in results)
    warc = sum(p.stat().st_size for p in (work / "data" / "warc").rglob("*.warc.gz"))
    (work / "hosts.json").write_text(json.dumps(hosts))
    return {"seconds": seconds, "pages": pages, "crawls": len(results), "days": len(days),
            "warc_mb": warc / 1e6, **_rss()}


def _routes(work: Path) -> list[Any]:
    from dnmwatch.sources.worker import MarketRoute

    hosts = json.loads((work / "hosts.json").read_text())
    return [MarketRoute(m, a, tuple(h)) for m, (a, h) in hosts.items()]


def _key(work: Path) -> Any:
    from dnmwatch.demo import demo_key_file
    from dnmwatch.privacy.keys import Pseudonymizer, read_key

    return Pseudonymizer(read_key(demo_key_file(work / "data")))


def _tasks(data: Path, holdback: float) -> tuple[list[Any], list[Any]]:
    """All extraction tasks, split into (first, held back): the held-back share is the
    latest WARC files (by modification time, i.e. the last crawls)."""
    from dnmwatch.adapters.registry import load_registry
    from dnmwatch.sources.extract import plan

    tasks = plan([data / "warc"], load_registry())
    tasks.sort(key=lambda t: Path(t.path).stat().st_mtime)
    n = round(len(tasks) * holdback)
    return (tasks[:len(tasks) - n], tasks[len(tasks) - n:]) if n else (tasks, [])


def stage_extract(work: Path, data: Path, workers: int, holdback: float) -> dict[str, Any]:
    from dnmwatch.sources.extract import extract
    from dnmwatch.store import Store

    first, _later = _tasks(data, holdback)
    with Store.open(data) as store:
        if workers > 1:
            from dnmwatch.scale import LocalDask

            with LocalDask(workers) as cluster:
                t0 = time.perf_counter()
                summary = extract(store, first, key=_key(work), routes=_routes(work),
                                  runner=cluster.runner())
                seconds = time.perf_counter() - t0
                worker_mb = cluster.peak_rss_mb()
        else:
            t0 = time.perf_counter()
            summary = extract(store, first, key=_key(work), routes=_routes(work), workers=1)
            seconds = time.perf_counter() - t0
            worker_mb = 0.0
        rows = sum(summary.rows.values())
        store.execute("CHECKPOINT")
    return {"store_mb": sum(p.stat().st_size for p in data.glob("*.duckdb*")) / 1e6,
            "warc_mb": sum(t.size for t in first) / 1e6, "seconds": seconds,
            "pages": summary.pages, "rows": rows, "tasks": len(first),
            "failed": len(summary.failed), "worker_rss_mb": worker_mb,
            "parser_errors": summary.rejections.get("parser_error", 0), **_rss()}


def _load_rates(data: Path, scale: str) -> None:
    from dnmwatch.demo_pipeline import load_sim_rates
    from dnmwatch.sim.generate import generate_world
    from dnmwatch.sim.model import preset
    from dnmwatch.store import Store

    with Store.open(data) as store:
        load_sim_rates(store, generate_world(preset(scale)))  # type: ignore[arg-type]


def stage_build(data: Path) -> dict[str, Any]:
    from dnmwatch.estimate.build import build
    from dnmwatch.store import Store

    with Store.open(data) as store:
        obs = store.fetchall("SELECT count(*) FROM listing_observations")[0][0] + \
            store.fetchall("SELECT count(*) FROM feedback_observations")[0][0]
        t0 = time.perf_counter()
        result = build(store)
        seconds = time.perf_counter() - t0
    return {"seconds": seconds, "skipped": result.skipped, "input_rows": obs,
            "rows": sum(result.rows.values()), **_rss()}


def stage_incremental(work: Path, data: Path, holdback: float) -> dict[str, Any]:
    """Extract the held-back files into a built store, then build again (timed)."""
    from dnmwatch.estimate.build import build
    from dnmwatch.sources.extract import extract
    from dnmwatch.store import Store

    _first, later = _tasks(data, holdback)
    with Store.open(data) as store:
        before = store.fetchall("SELECT count(*) FROM listing_observations")[0][0]
        extract(store, later, key=_key(work), routes=_routes(work), workers=1)
        added = store.fetchall("SELECT count(*) FROM listing_observations")[0][0] - before
        t0 = time.perf_counter()
        result = build(store)
        seconds = time.perf_counter() - t0
        again = time.perf_counter()
        unchanged = build(store)
        noop = time.perf_counter() - again
    return {"seconds": seconds, "added_listing_obs": added, "before_listing_obs": before,
            "share": added / before if before else 0.0, "skipped": result.skipped,
            "noop_seconds": noop, "noop_skipped": unchanged.skipped, **_rss()}


def stage_report(work: Path, data: Path) -> dict[str, Any]:
    from dnmwatch.report.render import write_report
    from dnmwatch.store import Store

    with Store.open(data) as store:
        t0 = time.perf_counter()
        content = write_report(store, work / "report.html")
        seconds = time.perf_counter() - t0
    return {"seconds": seconds, "charts": len(content.charts),
            "bytes": (work / "report.html").stat().st_size, **_rss()}


def _child(*args: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--stage", *args], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        sys.exit(f"stage {args[0]} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def run_stage(argv: list[str]) -> None:
    name, work, *rest = argv
    w = Path(work)
    if name == "crawl":
        out = stage_crawl(w, rest[0], int(rest[1]))
    elif name == "extract":
        out = stage_extract(w, Path(rest[0]), int(rest[1]), float(rest[2]))
    elif name == "rates":
        _load_rates(Path(rest[0]), rest[1])
        out = {}
    elif name == "build":
        out = stage_build(Path(rest[0]))
    elif name == "incremental":
        out = stage_incremental(w, Path(rest[0]), float(rest[1]))
    else:
        out = stage_report(w, Path(rest[0]))
    print(json.dumps(out))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--stage":
        run_stage(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", default="medium", choices=["tiny", "small", "medium", "large"])
    parser.add_argument("--every", type=int, default=7, help="days between crawls")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--holdback", type=float, default=0.02,
                        help="share of WARC files extracted after the first build")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures: dict[str, Any] = {"scale": args.scale, "every": args.every}
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        work = Path(tmp)
        figures["crawl"] = c = _child("crawl", tmp, args.scale, str(args.every))
        print(f"crawl: {c['crawls']} crawls on {c['days']} days, {c['pages']} pages, "
              f"{c['warc_mb']:.0f} MB WARC in {c['seconds']:.1f} s = "
              f"{c['pages'] / c['seconds']:.0f} pages/s; peak RSS {c['rss_mb']:.0f} MB",
              flush=True)
        for n in sorted({1, args.workers}):
            data = work / f"data-{n}"
            shutil.copytree(work / "data", data)
            figures[f"extract_{n}"] = e = _child("extract", tmp, str(data), str(n),
                                                 str(args.holdback))
            print(f"extract, {n} worker(s): {e['pages']} pages, {e['rows']} rows in "
                  f"{e['seconds']:.1f} s = {e['pages'] / e['seconds']:.0f} pages/s, "
                  f"{e['rows'] / e['seconds']:.0f} rows/s; peak RSS writer "
                  f"{e['rss_mb']:.0f} MB (CPU {e['cpu_s']:.0f} s), worker "
                  f"{e['worker_rss_mb']:.0f} MB; "
                  f"store {e['store_mb']:.0f} MB for {e['warc_mb']:.0f} MB WARC; "
                  f"parser errors {e['parser_errors']}, failed {e['failed']}", flush=True)
        one, many = figures["extract_1"], figures[f"extract_{args.workers}"]
        eff = (many["pages"] / many["seconds"]) / (args.workers * one["pages"] / one["seconds"])
        figures["efficiency"] = eff
        print(f"scaling efficiency at {args.workers} workers: {eff:.0%}")
        built = str(work / "data-1")
        _child("rates", tmp, built, args.scale)
        figures["build"] = b = _child("build", tmp, built)
        print(f"build (full): {b['input_rows']} listing+feedback observations in "
              f"{b['seconds']:.1f} s = {b['input_rows'] / b['seconds']:.0f} rows/s; "
              f"{b['rows']} derived rows; peak RSS {b['rss_mb']:.0f} MB", flush=True)
        figures["incremental"] = i = _child("incremental", tmp, built, str(args.holdback))
        print(f"build after +{i['share']:.1%} listing observations: {i['seconds']:.1f} s "
              f"(full build {b['seconds']:.1f} s); unchanged input: {i['noop_seconds']:.2f} s "
              f"(skipped={i['noop_skipped']})", flush=True)
        figures["report"] = r = _child("report", tmp, built)
        print(f"report: {r['charts']} charts, {r['bytes'] / 1e6:.1f} MB in "
              f"{r['seconds']:.1f} s; peak RSS {r['rss_mb']:.0f} MB")
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
