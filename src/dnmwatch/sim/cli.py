"""``dnmwatch sim ...``: the simulator on the command line (``dnmwatch demo`` is in
:mod:`dnmwatch.demo`).

Thin wiring only: the world comes from :mod:`dnmwatch.sim.generate`, the truth files from
:mod:`dnmwatch.sim.truth`, the web servers from :mod:`dnmwatch.sim.server`. Long work shows a
Rich progress bar; every failure is a :class:`~dnmwatch.errors.DnmwatchError` with a message.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dnmwatch.errors import SimulationError
from dnmwatch.sim.model import SCALES, Scale, World, preset
from dnmwatch.sim.server import FaultPlan, ForumSpec, ShopSpec, SimServer, SiteServer, SiteSpec

console = Console(stderr=True)
out = Console()

SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed: same seed, same world.")]
ScaleOpt = Annotated[str, typer.Option("--scale", help=f"World size: {', '.join(SCALES)}.")]
DaysOpt = Annotated[
    int | None, typer.Option("--days", help="Length of the simulated period (default: by scale).")
]


def _scale(value: str) -> Scale:
    if value not in SCALES:
        raise SimulationError(f"unknown scale {value!r}; choose one of {', '.join(SCALES)}")
    return value  # type: ignore[return-value]


def build_world(seed: int, scale: str, days: int | None) -> World:
    """Generate a world with a progress bar on the terminal."""
    from dnmwatch.sim.generate import generate_world

    config = preset(_scale(scale), seed=seed, days=days)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("generating world", total=1.0)

        def report(stage: str, fraction: float) -> None:
            progress.update(task, description=f"generating: {stage}", completed=fraction)

        world = generate_world(config, progress=report)
    return world


def print_truth(counts: dict[str, int], where: Path) -> None:
    table = Table(title=f"ground truth in {where}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    out.print(table)


def generate(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the truth Parquet files.")],
    seed: SeedOpt = 1,
    scale: ScaleOpt = "small",
    days: DaysOpt = None,
) -> None:
    """Generate a synthetic market ecosystem and write its ground truth as Parquet."""
    from dnmwatch.sim.truth import write_truth

    started = time.perf_counter()
    world = build_world(seed, scale, days)
    counts = write_truth(world, out_dir)
    print_truth(counts, out_dir)
    console.print(f"generated in {time.perf_counter() - started:.1f} s")


def _load_or_generate(truth: Path | None, seed: int, scale: str, days: int | None) -> World:
    if truth is not None:
        from dnmwatch.sim.truth import read_truth

        return read_truth(truth)
    return build_world(seed, scale, days)


def print_markets(world: World, urls: dict[str, str], day: int, control_url: str) -> None:
    table = Table(title=f"simulated markets on {world.config.day_date(day)} (day {day})")
    for col in ("market", "engine", "lifecycle", "url"):
        table.add_column(col)
    for spec in world.config.markets:
        end = f"{spec.end_kind} on day {spec.end_day}" if spec.end_day is not None else "survives"
        table.add_row(
            spec.name, spec.engine, f"day {spec.launch_day} -> {end}", urls.get(spec.name, "-")
        )
    out.print(table)
    out.print(f'clock control: {control_url}/clock  (PUT {{"day": N}} to move the clock)')


def _fault_plan(seed: int, faults: list[str], downtime: list[str]) -> FaultPlan:
    """``--fault timeout=0.05`` and ``--downtime 10-12`` into a :class:`FaultPlan`."""
    fields = {
        "5xx": "error_5xx",
        "timeout": "timeout",
        "drop": "drop",
        "truncate": "truncate",
        "slow": "slow",
        "malformed": "malformed",
    }
    chosen: dict[str, float] = {}
    problems: list[str] = []
    for item in faults:
        kind, _, value = item.partition("=")
        try:
            rate = float(value)
        except ValueError:
            rate = -1.0
        if kind not in fields or not 0.0 <= rate <= 1.0:
            problems.append(
                f"--fault {item!r}: expected KIND=P with KIND in "
                f"{', '.join(fields)} and 0 <= P <= 1"
            )
            continue
        chosen[fields[kind]] = rate
    windows: list[tuple[int, int]] = []
    for item in downtime:
        first, _, last = item.partition("-")
        if not (first.isdigit() and last.isdigit() and int(first) <= int(last)):
            problems.append(f"--downtime {item!r}: expected FIRST-LAST simulated days")
            continue
        windows.append((int(first), int(last) + 1))
    if sum(chosen.values()) > 1.0:
        problems.append("--fault probabilities add up to more than 1")
    if problems:
        raise SimulationError("; ".join(problems))
    return FaultPlan(
        seed=seed,
        downtime_days=tuple(windows),
        error_5xx=chosen.get("error_5xx", 0.0),
        timeout=chosen.get("timeout", 0.0),
        drop=chosen.get("drop", 0.0),
        truncate=chosen.get("truncate", 0.0),
        slow=chosen.get("slow", 0.0),
        malformed=chosen.get("malformed", 0.0),
    )


def _choose_markets(world: World, engines: list[str], markets: list[str]) -> list[str] | None:
    """Markets picked by ``--engine`` and ``--market`` (``None``: all of them)."""
    if not engines and not markets:
        return None
    known = {spec.engine for spec in world.config.markets}
    bad = sorted(set(engines) - known)
    if bad:
        raise SimulationError(f"no engine {', '.join(bad)}; engines: {', '.join(sorted(known))}")
    return [
        spec.name for spec in world.config.markets if spec.engine in engines or spec.name in markets
    ] + sorted(set(markets) - {spec.name for spec in world.config.markets})


def site_specs(world: World, shops: list[str], forums: list[str]) -> list[SiteSpec]:
    """``--shop MARKET:VENDOR`` and ``--forum MARKET`` into site specs (a forum is named
    ``forum-<market>``), every problem in one message."""
    markets = {spec.name for spec in world.config.markets}
    accounts = {(r["market"], r["vendor_handle"]) for r in world.table("vendors").to_pylist()}
    specs: list[SiteSpec] = []
    problems: list[str] = []
    for item in shops:
        market, sep, vendor = item.partition(":")
        if not sep or not vendor:
            problems.append(f"--shop {item!r}: expected MARKET:VENDOR")
        elif (market, vendor) not in accounts:
            problems.append(f"--shop {item!r}: no vendor {vendor!r} on market {market!r}")
        else:
            specs.append(ShopSpec(market, vendor))
    for market in forums:
        if market not in markets:
            problems.append(f"--forum {market!r}: no market {market!r}; markets: "
                            + ", ".join(sorted(markets)))
        else:
            specs.append(ForumSpec(market, name=f"forum-{market}", seed=world.config.seed))
    names = [spec.site for spec in specs]
    problems += [f"two sites named {n!r}" for n in sorted({n for n in names if names.count(n) > 1})]
    if problems:
        raise SimulationError("; ".join(problems))
    return specs


def print_sites(sites: SiteServer, day: int) -> None:
    """The shops and forums beside the markets, one line each (kind, when up, state, URL)."""
    out.print(f"sites beside the markets (same clock), on day {day}:")
    for name, url in sites.urls.items():
        market = sites.index.markets[name]
        spec = market.spec
        end = f"closes on day {spec.end_day}" if spec.end_day is not None else "stays up"
        state = "up" if market.alive(day) else "refused"
        out.print(f"  {name} ({sites.engine(name).name}, day {spec.launch_day} -> {end}, "
                  f"{state} now): {url}", soft_wrap=True, markup=False, highlight=False)


def serve(
    truth: Annotated[
        Path | None, typer.Option("--truth", help="Serve a world written by `sim generate`.")
    ] = None,
    seed: SeedOpt = 1,
    scale: ScaleOpt = "small",
    days: DaysOpt = None,
    day: Annotated[
        int | None, typer.Option("--day", help="Simulated day to serve (default: the last).")
    ] = None,
    port: Annotated[
        int, typer.Option("--port", help="First port; markets take the next ones (0: any).")
    ] = 0,
    login: Annotated[
        bool, typer.Option("--login", help="Require a login (password simpass).")
    ] = False,
    captcha_every: Annotated[
        int, typer.Option("--captcha-every", help="Ask a text CAPTCHA every N pages (0: never).")
    ] = 0,
    queue: Annotated[bool, typer.Option("--queue", help="Show a DDoS queue page first.")] = False,
    rate_limit: Annotated[
        int, typer.Option("--rate-limit", help="Max requests per session per minute (0: none).")
    ] = 0,
    fault: Annotated[
        list[str] | None,
        typer.Option("--fault", help="KIND=P: inject 5xx|timeout|drop|truncate|slow|malformed."),
    ] = None,
    downtime: Annotated[
        list[str] | None, typer.Option("--downtime", help="FIRST-LAST: simulated days down.")
    ] = None,
    fault_seed: Annotated[int, typer.Option("--fault-seed", help="Seed of fault draws.")] = 0,
    engine: Annotated[
        list[str] | None,
        typer.Option("--engine", help="Serve only markets of this engine (table|cards|minimal)."),
    ] = None,
    market: Annotated[
        list[str] | None, typer.Option("--market", help="Serve only this market (repeatable).")
    ] = None,
    shop: Annotated[
        list[str] | None,
        typer.Option("--shop", help="MARKET:VENDOR: also serve the single-vendor shop of that "
                     "account (repeatable)."),
    ] = None,
    forum: Annotated[
        list[str] | None,
        typer.Option("--forum", help="MARKET: also serve a forum advertising that market's "
                     "vendors (repeatable)."),
    ] = None,
) -> None:
    """Serve the simulated markets on 127.0.0.1 until interrupted (Ctrl-C or SIGTERM).

    With --shop and --forum, shops and forums are served beside them on the same clock (the
    markets' control URL moves both); their ports follow the markets' and control's."""
    from dnmwatch.sim.server import GatePlan, ServerOptions, serve_forever

    options = ServerOptions(
        gates=GatePlan(
            login=login, captcha_every=captcha_every, queue=queue, rate_limit=rate_limit
        ),
        faults=_fault_plan(fault_seed, fault or [], downtime or []),
    )
    world = _load_or_generate(truth, seed, scale, days)
    start_day = world.config.days - 1 if day is None else day
    chosen = _choose_markets(world, engine or [], market or [])
    specs = site_specs(world, shop or [], forum or [])
    sites: list[SiteServer] = []

    def ready(server: SimServer) -> None:
        print_markets(world, server.urls, start_day, server.control_url)
        if specs:
            first = port + len(server.urls) + 1 if port else 0
            sites.append(SiteServer(world, specs, options=options, base_port=first,
                                    clock=server.clock).start())
            print_sites(sites[0], start_day)
        out.print("serving; press Ctrl-C to stop")

    try:
        serve_forever(
            world, day=start_day, options=options, base_port=port, on_ready=ready,
            markets=chosen
        )
    finally:
        for site_server in sites:
            site_server.stop()
    out.print("stopped")


def register(app: typer.Typer) -> None:
    """Add ``sim generate`` and ``sim serve`` to the root command (``demo`` lives in
    :mod:`dnmwatch.demo`, which may also drive the pipeline)."""
    sim_app = typer.Typer(
        help="The market simulator: a synthetic ecosystem with known truth.",
        no_args_is_help=True,
    )
    sim_app.command("generate")(generate)
    sim_app.command("serve")(serve)
    app.add_typer(sim_app, name="sim")
