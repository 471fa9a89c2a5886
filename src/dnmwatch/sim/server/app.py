"""One simulated market as an aiohttp application, and the operator's control application.

Every request to a market goes through the same steps, in this order:

1. **lifecycle**: a market taken down answers every path with a seizure banner (status 200, as
   law-enforcement splash pages do); a market that exited, or has not launched yet, is
   unreachable: its listening socket is closed, so connections are refused (requests already on
   an open keep-alive connection are dropped without a response);
2. **downtime** windows (simulated days or real-time): 503;
3. **random or forced faults** drawn from the seed and the request's sequence number;
4. **gates** (rate limit, queue, login, CAPTCHA), then the engine renders the page;
5. body faults (truncate, slow, malformed) are applied to the rendered response.

Each request is appended to a bounded in-memory log so tests can assert on the traffic.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from itertools import count

from aiohttp import web

from dnmwatch.errors import SimulationError
from dnmwatch.sim.server.clock import SimClock
from dnmwatch.sim.server.engines import Engine, View, engine_for
from dnmwatch.sim.server.engines.base import display_name
from dnmwatch.sim.server.faults import drop, hold_then_drop, malform, send_slowly, send_truncated
from dnmwatch.sim.server.gates import Gatekeeper
from dnmwatch.sim.server.index import MarketIndex, WorldIndex
from dnmwatch.sim.server.options import Fault, ForcedFault, ServerOptions
from dnmwatch.sim.server.text import e


@dataclass(frozen=True, slots=True)
class RequestLog:
    """One request as the server saw it. ``status`` 0 means no response was sent (drop,
    timeout, refused); a truncated response logs the status it announced, with its fault."""

    market: str
    method: str
    path: str
    session: str | None
    status: int
    fault: str | None = None
    page_type: str | None = None


def seized_html(market: str) -> str:
    name = e(display_name(market))
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Seized</title></head>"
            "<body class=\"seized\"><div class=\"banner\"><h1>THIS HIDDEN SITE HAS BEEN SEIZED</h1>"
            f"<p>{name} Market has been seized as part of a coordinated law enforcement operation"
            " by international authorities.</p></div></body></html>\n")


def _html(status: int, body: str) -> web.Response:
    return web.Response(status=status, text=body, content_type="text/html", charset="utf-8")


class MarketApp:
    """The request pipeline of one market (state: sessions, counters, forced-fault budgets)."""

    def __init__(self, world: WorldIndex, market: MarketIndex, clock: SimClock,
                 options: ServerOptions, log: deque[RequestLog], started: float) -> None:
        self.world = world
        self.market = market
        self.name = market.spec.name
        self.engine: Engine = engine_for(market.spec.engine)
        self.clock = clock
        self.options = options
        self.plan = options.faults
        self.gates = Gatekeeper(self.name, options.gates_for(self.name), options.faults.seed,
                                options.timer)
        self.log = log
        self.started = started
        self._seq = count()
        self.forced: list[ForcedFault] = list(options.faults.forced)
        self._forced_used: dict[int, int] = {}

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    def view(self) -> View:
        return View(self.world, self.market, self.clock.now)

    def _forced(self, path_qs: str) -> ForcedFault | None:
        for i, forced in enumerate(self.forced):
            used = self._forced_used.get(i, 0)
            if (forced.times is None or used < forced.times) and forced.matches(self.name,
                                                                              path_qs):
                self._forced_used[i] = used + 1
                return forced
        return None

    def _record(self, request: web.Request, session: str | None, status: int,
                fault: str | None = None, page_type: str | None = None) -> None:
        self.log.append(RequestLog(self.name, request.method, request.path_qs, session, status,
                                   fault, page_type))

    async def handle(self, request: web.Request) -> web.StreamResponse:
        seq = next(self._seq)
        day = self.clock.day
        spec = self.market.spec
        if not self.market.alive(day):
            if spec.end_kind == "takedown" and spec.end_day is not None and day >= spec.end_day:
                self._record(request, None, 200, "seized", "seized")
                return _html(200, seized_html(self.name))
            self._record(request, None, 0, "refused")
            return drop(request)
        if self.plan.down_on_day(day) or self.plan.down_at(self.options.timer() - self.started):
            self._record(request, None, 503, "downtime")
            return _html(503, "<!DOCTYPE html><html><body><h1>503 Service Unavailable</h1>"
                              "<p>The market is down for maintenance.</p></body></html>")
        forced = self._forced(request.path_qs)
        fault: Fault | None = (self.plan.make(forced.kind, self.name, seq,
                                              forced.status if forced.kind == "5xx" else None)
                               if forced is not None else self.plan.draw(self.name, seq))
        if fault is not None and fault.kind in ("5xx", "timeout", "drop"):
            return await self._early_fault(request, fault)
        return await self._serve(request, fault)

    async def _early_fault(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        if fault.kind == "5xx":
            self._record(request, None, fault.status, "5xx")
            return _html(fault.status, f"<!DOCTYPE html><html><body><h1>{fault.status}</h1>"
                                       "<p>Server error.</p></body></html>")
        if fault.kind == "timeout":
            self._record(request, None, 0, "timeout")
            return await hold_then_drop(request, self.plan.hold_s)
        self._record(request, None, 0, "drop")
        return drop(request)

    async def _serve(self, request: web.Request, fault: Fault | None) -> web.StreamResponse:
        sess, new = self.gates.resolve(request)
        resp = self.gates.rate_limited(sess)
        page_type = "gate:rate_limit"
        if resp is None:
            resp = await self.gates.check(request, sess)
            page_type = "gate"
        if resp is None:
            page = self.engine.dispatch(request.path, request.query, self.view())
            resp = _html(page.status, page.html)
            page_type = page.page_type
        if new:
            resp.set_cookie(self.gates.cookie, sess.sid, httponly=True, path="/")
        kind = fault.kind if fault is not None else None
        if fault is None or not isinstance(resp.body, bytes):
            self._record(request, sess.sid, resp.status, None, page_type)
            return resp
        self._record(request, sess.sid, resp.status, kind, page_type)
        if fault.kind == "malformed":
            resp.body = malform(resp.body, fault)
            return resp
        if fault.kind == "slow":
            return await send_slowly(request, resp, self.plan.slow_s)
        await send_truncated(request, resp, fault)
        return web.Response(status=resp.status)


class ControlApp:
    """The operator's loopback endpoint: ``GET /clock`` and ``PUT /clock`` with a JSON body
    ``{"day": N}`` or ``{"date": "YYYY-MM-DD"}`` (also ``{"datetime": ISO}``), and
    ``GET /markets`` for the base URLs and whether each market is up on the current day."""

    def __init__(self, clock: SimClock, markets: Callable[[], dict[str, dict[str, object]]],
                 after_change: Callable[[], Awaitable[None]]) -> None:
        self.clock = clock
        self.markets = markets
        self.after_change = after_change

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/clock", self.get_clock)
        app.router.add_put("/clock", self.put_clock)
        app.router.add_post("/clock", self.put_clock)
        app.router.add_get("/markets", self.get_markets)
        return app

    async def get_clock(self, request: web.Request) -> web.Response:
        return web.json_response(self.clock.as_json())

    async def get_markets(self, request: web.Request) -> web.Response:
        return web.json_response(self.markets())

    async def put_clock(self, request: web.Request) -> web.Response:
        from datetime import date, datetime

        try:
            data = json.loads(await request.text() or "{}")
            if not isinstance(data, dict):
                raise TypeError("a JSON object is expected")
            if "day" in data:
                self.clock.set_day(int(data["day"]))
            elif "date" in data:
                self.clock.set_date(date.fromisoformat(str(data["date"])))
            elif "datetime" in data:
                self.clock.set_datetime(datetime.fromisoformat(str(data["datetime"])))
            else:
                raise ValueError('give "day", "date" or "datetime"')
        except (ValueError, TypeError, SimulationError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        await self.after_change()
        return web.json_response(self.clock.as_json())
