"""Simulated market web servers: three engines, a simulated clock, gates and fault injection.

Start every market of a world on loopback and point a crawler at it::

    from dnmwatch.sim.server import SimServer, ServerOptions, GatePlan

    with SimServer(world, day=30, options=ServerOptions(gates=GatePlan(login=True))) as sim:
        sim.urls            # {"bazaar": "http://127.0.0.1:41873/", ...}
        sim.clock.set_day(31)

Sites beyond marketplaces (a single-vendor shop, a forum) are views of the same world, served
beside the markets on the same clock::

    with SimServer(world, day=0) as sim, \
            SiteServer(world, [ShopSpec("gidra", "some_vendor"), ForumSpec("gidra")],
                       clock=sim.clock) as sites:
        sites.urls          # {"shop-some-vendor": "http://127.0.0.1:...", "forum": ...}

See :mod:`.runner` (sockets and lifecycle), :mod:`.sites` and :mod:`.forum_board` (shops and
forums), :mod:`.app` (the request pipeline, dead markets),
:mod:`.gates` (sessions, login, CAPTCHA, queue, rate limit), :mod:`.options` (every knob and the
time decisions) and :mod:`.engines` (the HTML/URL designs).
"""

from __future__ import annotations

from dnmwatch.sim.server.app import RequestLog, seized_html
from dnmwatch.sim.server.clock import SimClock
from dnmwatch.sim.server.engines import ENGINES, Engine, Page, View, engine_for
from dnmwatch.sim.server.forum_board import ForumSpec
from dnmwatch.sim.server.index import WorldIndex, build_index
from dnmwatch.sim.server.options import (
    DEFAULT_PASSWORD,
    FAULT_KINDS,
    Fault,
    FaultKind,
    FaultPlan,
    ForcedFault,
    GatePlan,
    ServerOptions,
)
from dnmwatch.sim.server.runner import SimServer, check_loopback, serve_forever
from dnmwatch.sim.server.sites import ShopSpec, SiteServer, SiteSpec

__all__ = [
    "DEFAULT_PASSWORD",
    "ENGINES",
    "FAULT_KINDS",
    "Engine",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "ForcedFault",
    "ForumSpec",
    "GatePlan",
    "Page",
    "RequestLog",
    "ServerOptions",
    "ShopSpec",
    "SimClock",
    "SimServer",
    "SiteServer",
    "SiteSpec",
    "View",
    "WorldIndex",
    "build_index",
    "check_loopback",
    "engine_for",
    "seized_html",
    "serve_forever",
]
