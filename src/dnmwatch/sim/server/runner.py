"""Running the simulated markets: one loopback HTTP server per market plus a control server.

:class:`SimServer` runs every aiohttp server on its own event loop in a background thread, so
synchronous code (tests, the command line, a notebook) can start it, point a crawler at
:attr:`SimServer.urls`, move :attr:`SimServer.clock`, and stop it.

Lifecycle of a market's socket: the port of each market is reserved at start and never changes.
While the market is reachable (launched and not ended, or taken down: the seizure banner is
served) a listening socket is open on it; before launch and after an exit scam the socket is
bound but not listening, so connections are **refused**, as an onion service that is gone.
Moving the clock opens and closes these sockets before :meth:`SimClock.set_day` returns.
"""

from __future__ import annotations

import asyncio
import ipaddress
import signal
import socket
import threading
from collections import deque
from collections.abc import Callable, Collection
from types import FrameType, TracebackType

from aiohttp import web

from dnmwatch.errors import SimulationError
from dnmwatch.sim.model import World
from dnmwatch.sim.server.app import ControlApp, MarketApp, RequestLog
from dnmwatch.sim.server.clock import SimClock
from dnmwatch.sim.server.engines import Engine, View
from dnmwatch.sim.server.index import MarketIndex, build_index
from dnmwatch.sim.server.options import FaultKind, ForcedFault, ServerOptions


def check_loopback(host: str) -> str:
    """Return ``host`` if it is a 127.0.0.0/8 address (``localhost`` means 127.0.0.1).

    The simulator serves pages about drug sales; it must never be reachable from a network.
    """
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise SimulationError(f"host must be a 127.0.0.0/8 address, not {host!r}") from None
    if address.version != 4 or address not in ipaddress.ip_network("127.0.0.0/8"):
        raise SimulationError(f"refusing to listen on {host}: only 127.0.0.0/8 is allowed")
    return host


def _bound_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SimulationError(f"cannot bind {host}:{port}: {exc}") from exc
    sock.setblocking(False)
    return sock


class SimServer:
    """All markets of a world, served on loopback, with a shared simulated clock."""

    def __init__(self, world: World, *, day: int | None = None,
                 options: ServerOptions | None = None, host: str = "127.0.0.1",
                 base_port: int = 0, markets: Collection[str] | None = None) -> None:
        self.host = check_loopback(host)
        self.base_port = base_port
        self.options = options or ServerOptions()
        self.index = build_index(world)
        if markets is not None:
            unknown = sorted(set(markets) - set(self.index.markets))
            if unknown or not markets:
                raise SimulationError(
                    f"no market {', '.join(unknown) or '(none chosen)'}; markets: "
                    + ", ".join(sorted(self.index.markets)))
        # Vendors still claim their accounts on the markets not served, as in real life, so the
        # index keeps every market; only the served ones get a server.
        self._served = set(self.index.markets if markets is None else markets)
        cfg = world.config
        self.clock = SimClock(cfg.start, cfg.days - 1 if day is None else day, days=cfg.days)
        self.log: deque[RequestLog] = deque(maxlen=self.options.log_size)
        self.apps: dict[str, MarketApp] = {}
        self._ports: dict[str, int] = {}
        self._control_port = 0
        self._runners: dict[str, web.AppRunner] = {}
        self._sites: dict[str, web.SockSite] = {}
        self._placeholders: dict[str, socket.socket] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._sync_lock: asyncio.Lock | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.clock.on_change(self._clock_changed)

    def _served_markets(self) -> list[tuple[str, MarketIndex]]:
        return sorted((k, v) for k, v in self.index.markets.items() if k in self._served)

    # --- public API -------------------------------------------------------------------------
    @property
    def urls(self) -> dict[str, str]:
        """Market name -> base URL without a trailing slash (``http://127.0.0.1:PORT``)."""
        return {name: f"http://{self.host}:{port}" for name, port in self._ports.items()}

    @property
    def control_url(self) -> str:
        """Base URL of the control server (``GET``/``PUT`` ``/clock``, ``GET /markets``)."""
        return f"http://{self.host}:{self._control_port}"

    @property
    def requests(self) -> list[RequestLog]:
        """A copy of the traffic log, oldest first."""
        return list(self.log)

    def engine(self, market: str) -> Engine:
        return self._app(market).engine

    def view(self, market: str) -> View:
        """What ``market`` shows at the clock's current instant (for building expected URLs)."""
        return self._app(market).view()

    def force_fault(self, pattern: str, kind: FaultKind, *, market: str | None = None,
                    times: int | None = 1, status: int = 503) -> None:
        """Force ``kind`` on the next ``times`` requests whose path matches ``pattern``."""
        for name, app in self.apps.items():
            if market is None or market == name:
                app.forced.append(ForcedFault(pattern, kind, name, times, status))

    def start(self) -> SimServer:
        """Start serving in a background thread; return once every socket is listening."""
        if self._thread is not None:
            raise SimulationError("the simulator is already running")
        self._thread = threading.Thread(target=self._run, name="dnmwatch-sim", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._error is not None:
            self._thread.join(timeout=5)
            self._thread = None
            raise SimulationError(f"simulator failed to start: {self._error}") from self._error
        if not self._ready.is_set():
            raise SimulationError("simulator did not start within 30 s")
        return self

    def stop(self) -> None:
        """Stop every server and wait for the background thread to end."""
        loop, event, thread = self._loop, self._stop_event, self._thread
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)
        if thread is not None:
            thread.join(timeout=30)
        self._thread = None
        self._loop = None

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # --- the event loop thread --------------------------------------------------------------
    def _app(self, market: str) -> MarketApp:
        try:
            return self.apps[market]
        except KeyError:
            raise SimulationError(f"no market {market!r}; markets: "
                                  + ", ".join(self.apps)) from None

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to start(); the thread must not die silently
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        self._sync_lock = asyncio.Lock()
        try:
            await self._start_servers()
            self._ready.set()
            await self._stop_event.wait()
        finally:
            for runner in self._runners.values():
                await runner.cleanup()
            for sock in self._placeholders.values():
                sock.close()
            self._placeholders.clear()
            self._sites.clear()

    async def _start_servers(self) -> None:
        started = self.options.timer()
        markets = self._served_markets()
        for i, (name, market) in enumerate(markets):
            port = self.base_port + i if self.base_port else 0
            sock = _bound_socket(self.host, port)
            self._placeholders[name] = sock
            self._ports[name] = sock.getsockname()[1]
            app = MarketApp(self.index, market, self.clock, self.options, self.log, started)
            self.apps[name] = app
            runner = web.AppRunner(app.application(), handle_signals=False, access_log=None,
                                   shutdown_timeout=self.options.shutdown_timeout_s)
            await runner.setup()
            self._runners[name] = runner
        control = ControlApp(self.clock, self._market_states, self._sync_sites)
        runner = web.AppRunner(control.application(), handle_signals=False, access_log=None,
                               shutdown_timeout=self.options.shutdown_timeout_s)
        await runner.setup()
        self._runners["__control__"] = runner
        csock = _bound_socket(self.host, self.base_port + len(markets) if self.base_port else 0)
        self._control_port = csock.getsockname()[1]
        await web.SockSite(runner, csock).start()
        await self._sync_sites()

    def _reachable(self, name: str) -> bool:
        spec = self.index.markets[name].spec
        day = self.clock.day
        seized = spec.end_kind == "takedown" and spec.end_day is not None and day >= spec.end_day
        return self.index.markets[name].alive(day) or seized

    def _market_states(self) -> dict[str, dict[str, object]]:
        day = self.clock.day
        out: dict[str, dict[str, object]] = {}
        for name, market in self._served_markets():
            spec = market.spec
            if market.alive(day):
                state = "up"
            elif day < spec.launch_day:
                state = "not_launched"
            else:
                state = "seized" if spec.end_kind == "takedown" else "exited"
            out[name] = {"url": self.urls[name], "engine": spec.engine, "state": state}
        return out

    async def _sync_sites(self) -> None:
        """Open the listening socket of reachable markets, close the others' (refused)."""
        assert self._sync_lock is not None
        async with self._sync_lock:
            for name, runner in self._runners.items():
                if name == "__control__":
                    continue
                want, site = self._reachable(name), self._sites.get(name)
                if want and site is None:
                    site = web.SockSite(runner, self._placeholders.pop(name))
                    await site.start()
                    self._sites[name] = site
                elif not want and site is not None:
                    await site.stop()
                    del self._sites[name]
                    self._placeholders[name] = _bound_socket(self.host, self._ports[name])

    def _clock_changed(self, clock: SimClock) -> None:
        loop = self._loop
        if loop is None or not self._ready.is_set() or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            task = loop.create_task(self._sync_sites())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            asyncio.run_coroutine_threadsafe(self._sync_sites(), loop).result(timeout=30)


def serve_forever(world: World, *, day: int | None = None, options: ServerOptions | None = None,
                  host: str = "127.0.0.1", base_port: int = 0,
                  on_ready: Callable[[SimServer], None] | None = None,
                  markets: Collection[str] | None = None) -> None:
    """Serve until SIGINT or SIGTERM (for ``dnmwatch sim serve``); ``on_ready`` gets the running
    server, e.g. to print its URLs. Must be called from the main thread."""
    stop = threading.Event()

    def _handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with SimServer(world, day=day, options=options, host=host, base_port=base_port,
                       markets=markets) as server:
            if on_ready is not None:
                on_ready(server)
            while not stop.wait(0.5):
                pass
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
