"""The dashboard application: :func:`create_app` builds a Starlette app over one data dir.

Every route is either public (:data:`PUBLIC`: the login form and static files) or wrapped by
:func:`dnmwatch.web.security.protected` with a named permission; tests check that no other kind
of route exists, so access stays deny-by-default as pages are added.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from dnmwatch.errors import StoreError
from dnmwatch.privacy.audit import AuditLog
from dnmwatch.privacy.disclosure import Rules
from dnmwatch.store import Store
from dnmwatch.web import pages as pg
from dnmwatch.web import queries as q
from dnmwatch.web.exports import channels_csv, export_rules, trend_csv
from dnmwatch.web.filters import BREAKDOWNS, FilterError, Filters
from dnmwatch.web.reader import QueryTimeout, StoreReader
from dnmwatch.web.render import STATIC_TYPES, render, static_file
from dnmwatch.web.roles import Role, allowed
from dnmwatch.web.security import SecurityHeaders, protected
from dnmwatch.web.sessions import SessionStore
from dnmwatch.web.throttle import LoginThrottle
from dnmwatch.web.users import UserDB

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass(frozen=True, slots=True)
class WebConfig:
    """How the dashboard runs; ``min_vendors``/``dominance_pct`` come from ``privacy.*``."""

    data_dir: Path
    min_vendors: int = 5
    dominance_pct: float = 85.0
    query_time_limit: float = 10.0
    secure_cookies: bool = False
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    warm_bundle: bool = True

    @property
    def export_rules(self) -> Rules:
        return Rules(min_vendors=self.min_vendors, dominance_pct=self.dominance_pct)


Builder = Callable[[Store, Filters, Rules, Role], pg.Page]


@dataclass(frozen=True, slots=True)
class PageSpec:
    name: str
    label: str
    path: str
    permission: str
    builder: Builder
    template: str = "content/generic.html"
    intro: str = ""
    breakdowns: bool = False
    window: bool = False
    """Whether the filter form offers the displacement window (``window``, days)."""


PAGES: tuple[PageSpec, ...] = (
    PageSpec(
        "overview",
        "Overview",
        "/",
        "view",
        lambda s, f, r, _: pg.overview(s, f, r),
        "content/overview.html",
    ),
    PageSpec(
        "trends",
        "Trends",
        "/trends",
        "view",
        lambda s, f, r, _: pg.trends(s, f, r),
        "content/trends.html",
        breakdowns=True,
    ),
    PageSpec(
        "prices",
        "Prices",
        "/prices",
        "view",
        lambda s, f, r, _: pg.prices(s, f, r),
        intro="Median and interquartile range of unit prices: EUR per gram for drugs sold "
        "by mass, EUR per unit for pills and blotters (EMCDDA convention).",
    ),
    PageSpec(
        "markets",
        "Markets",
        "/markets",
        "view",
        lambda s, f, r, _: pg.markets(s, f, r),
        intro="Lifecycle of each market, active listings, market shares of revenue, and "
        "what happened to vendors after a takedown or exit scam.",
    ),
    PageSpec(
        "channels",
        "Channels & delivery",
        "/channels",
        "view",
        lambda s, f, r, _: pg.channels(s, f, r),
        "content/channels.html",
        intro="How listings reach the buyer, and where trade moved after a marketplace "
        "closed: the report's sections on delivery and displacement, for the selected dates "
        "and markets, with the chosen number of days before and after each closure.",
        window=True,
    ),
    PageSpec("vendors", "Vendors", "/vendors", "view", pg.vendors, "content/vendors.html"),
    PageSpec(
        "quality",
        "Data quality",
        "/quality",
        "quality",
        lambda s, f, r, _: pg.quality(s, f),
        intro="Rejections by reason and pages per adapter and page type over time: a "
        "market redesign shows up as a jump here. Rejection details are never shown.",
    ),
    PageSpec("crawls", "Crawls", "/crawls", "crawls", lambda s, f, r, _: pg.crawls(s, f)),
)
EXTRA_NAV = (("audit", "Audit", "/audit", "audit"), ("users", "Users", "/users", "users"))
PUBLIC = frozenset({"/login", "/static/{name}"})


def _nav(role: Role) -> list[tuple[str, str, str]]:
    items = [(p.name, p.label, p.path, p.permission) for p in PAGES] + list(EXTRA_NAV)
    return [(n, label, href) for n, label, href, perm in items if allowed(role, perm)]


def _actor(username: str) -> str:
    return f"web:{username}"


def create_app(config: WebConfig) -> Starlette:
    """The dashboard over ``config.data_dir`` (the store is opened per request, read-only)."""
    reader = StoreReader(config.data_dir, time_limit=config.query_time_limit)
    users = UserDB.for_data_dir(config.data_dir)
    audit = AuditLog.for_data_dir(config.data_dir)

    def page_response(
        request: Request, session: Any, name: str, status: int = 200, **ctx: Any
    ) -> Response:
        partial = request.headers.get("x-partial") == "1"
        ctx.setdefault("f", Filters())
        ctx.setdefault("known_markets", [])
        ctx.setdefault("filters_form", False)
        ctx.setdefault("breakdowns", ())
        ctx.setdefault("window_form", False)
        body = render(
            ctx["content_template"] if partial else "base.html",
            session=session,
            nav=_nav(session.role),
            page_name=name,
            path=request.url.path,
            **ctx,
        )
        return HTMLResponse(body, status_code=status)

    def error(
        request: Request, session: Any, name: str, title: str, status: int, message: str
    ) -> Response:
        return page_response(
            request,
            session,
            name,
            status,
            title=title,
            content_template="content/error.html",
            message=message,
        )

    def make_page(spec: PageSpec) -> Route:
        async def handler(request: Request, session: Any) -> Response:
            def work() -> tuple[list[str], Filters, Rules, pg.Page]:
                with reader.open() as store:
                    known = q.markets(store)
                    f = Filters.parse(
                        request.query_params, request.query_params.getlist("market"), known
                    )
                    rules = pg.rules_for(
                        session.role, f.adhoc, config.min_vendors, config.dominance_pct
                    )
                    return known, f, rules, spec.builder(store, f, rules, session.role)

            try:
                known, f, rules, page = await run_in_threadpool(work)
            except FilterError as exc:
                return error(request, session, spec.name, spec.label, 400, str(exc))
            except QueryTimeout as exc:
                return error(request, session, spec.name, spec.label, 503, str(exc))
            except StoreError as exc:
                return error(
                    request,
                    session,
                    spec.name,
                    spec.label,
                    503,
                    f"The store cannot be read right now: {exc}",
                )
            return page_response(
                request,
                session,
                spec.name,
                title=spec.label,
                content_template=spec.template,
                page=page,
                f=f,
                rules=rules,
                protected=rules.min_vendors > 1,
                intro=spec.intro,
                known_markets=known,
                filters_form=True,
                breakdowns=tuple(BREAKDOWNS) if spec.breakdowns else (),
                window_form=spec.window,
                can_export=allowed(session.role, "export"),
                export_rules=export_rules(f, config.min_vendors, config.dominance_pct),
            )

        handler.__name__ = f"page_{spec.name}"
        return Route(spec.path, protected(spec.permission)(handler), methods=["GET"])

    @protected("vendor_profiles")
    async def vendor_profile(request: Request, session: Any) -> Response:
        market = request.path_params["market"]
        vendor = request.path_params["vendor"]

        def work() -> pg.Page | None:
            with reader.open() as store:
                return pg.vendor_profile(store, market, vendor)

        try:
            page = await run_in_threadpool(work)
        except StoreError as exc:
            return error(request, session, "vendors", "Vendor", 503, str(exc))
        if page is None:
            return error(request, session, "vendors", "Vendor", 404, "No such vendor account.")
        return page_response(
            request,
            session,
            "vendors",
            title="Vendor profile",
            content_template="content/vendor.html",
            page=page,
        )

    @protected("export")
    async def export(request: Request, session: Any) -> Response:
        """CSV of the trend table, or of the channels table named by the ``table`` field;
        protected with :func:`export_rules` for every role, and audited."""
        form = await request.form()
        params = {k: v for k, v in form.items() if isinstance(v, str)}
        markets = [m for m in form.getlist("market") if isinstance(m, str)]
        table = params.get("table", "")

        def work() -> tuple[str, dict[str, Any]]:
            with reader.open() as store:
                f = Filters.parse(params, markets, q.markets(store))
                rules = export_rules(f, config.min_vendors, config.dominance_pct)
                if table:
                    return channels_csv(store, f, rules, table)
                return trend_csv(store, f, rules)

        try:
            text, details = await run_in_threadpool(work)
        except FilterError as exc:
            return PlainTextResponse(str(exc), status_code=400)
        except StoreError as exc:  # QueryTimeout included
            return PlainTextResponse(str(exc), status_code=503)
        await run_in_threadpool(audit.append, _actor(session.username), "export", details)
        return Response(
            text,
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{details["file"]}"'},
        )

    @protected("audit")
    async def audit_page(request: Request, session: Any) -> Response:
        def work() -> tuple[list[dict[str, Any]], str]:
            entries = list(audit.entries())[-100:][::-1]
            check = audit.verify()
            return entries, "intact" if check.ok else f"BROKEN at {check.first_bad_seq}"

        entries, chain = await run_in_threadpool(work)
        return page_response(
            request,
            session,
            "audit",
            title="Audit log",
            content_template="content/audit.html",
            entries=entries,
            chain=chain,
        )

    @protected("users")
    async def users_page(request: Request, session: Any) -> Response:
        listed = await run_in_threadpool(users.list)
        return page_response(
            request,
            session,
            "users",
            title="Users",
            content_template="content/users.html",
            users=listed,
            active=len(request.app.state.sessions),
        )

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC_TYPES:
            return PlainTextResponse("not found", status_code=404)
        body = await run_in_threadpool(static_file, name)
        return Response(
            body, media_type=STATIC_TYPES[name], headers={"cache-control": "public, max-age=86400"}
        )

    from dnmwatch.web.login import login_routes

    routes = [
        *[make_page(p) for p in PAGES],
        Route("/vendors/{market}/{vendor}", vendor_profile, methods=["GET"]),
        Route("/export", export, methods=["POST"]),
        Route("/audit", audit_page, methods=["GET"]),
        Route("/users", users_page, methods=["GET"]),
        Route("/static/{name}", static, methods=["GET"]),
        *login_routes(config, users, audit),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if config.warm_bundle:
            await run_in_threadpool(static_file, "vega.js")
        yield
        reader.close()

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=list(config.allowed_hosts)),
            Middleware(SecurityHeaders),
        ],
        lifespan=lifespan,
    )
    app.state.sessions = SessionStore()
    app.state.throttle = LoginThrottle()
    app.state.config = config
    return app
