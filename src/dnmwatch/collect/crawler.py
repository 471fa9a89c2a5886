"""The crawl loop of one market: seeds -> fetch -> WARC -> adapter links -> frontier.

One asyncio loop, ``concurrency`` workers (1-2 by default), a shared politeness slot (delay plus
jitter between request starts). For every URL claimed from the frontier the crawler fetches it,
archives every hop, and decides by what came back:

* a content page: its WARC record gets the frontier's attempt id, its links are queued and the
  URL is marked done in one transaction (so a crash cannot lose the links);
* a gate (``gate:*`` from the adapter): archived and counted by kind, never parsed for links;
  a rate limit waits for ``Retry-After``; a DDoS queue page is passed by following its meta
  refresh as a browser would; a login wall is passed with the configured credentials; anything
  else goes to the ``gate_handler`` (the operator, in a terminal) or pauses the crawl: state is
  saved and :class:`CrawlResult` says ``paused`` with a message (exit status 75); a seizure
  banner ends the crawl as ``failed`` (reason ``seized``): no person can solve it, and later
  stages read it as a takedown;
* a retryable failure (time-out, SOCKS or connection error, cut body, broken page, 408/429/5xx):
  back to the queue after a capped, jittered exponential backoff, until ``attempts`` are spent;
* any other 4xx, or a refused off-market redirect: failed, with the reason.

A circuit breaker guards the market: after ``crawl.breaker_failures`` fetch failures in a row
(a captured page resets the run) the crawl stops as ``failed`` with reason ``breaker`` and its
state saved, instead of spending every URL's attempts on a market that is down or a circuit
that is broken. A crawl that captured nothing and failed something is ``failed`` with reason
``unreachable``. Each stop reason is also a counter (``stopped:<reason>``) in the store's
``crawls.counters``.

Crash safety: on start, ``.open`` WARC files are recovered (torn record cut), then in-flight URLs
whose final record already reached a sealed file are completed from that record (its links
re-read), so a SIGKILL neither loses a page nor stores it twice.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from dnmwatch import __version__
from dnmwatch.collect.exchange import REDACTED, Exchange
from dnmwatch.collect.fetch import Fetcher, FetchResult
from dnmwatch.collect.forms import login_form, meta_refresh
from dnmwatch.collect.frontier import Entry, Frontier
from dnmwatch.collect.protocol import ERROR_TYPE, LinkSource, is_gate
from dnmwatch.collect.retry import backoff_s, polite_delay_s, retry_after_s, retryable_status
from dnmwatch.collect.state import CrawlPaths, ExitCode, new_crawl_id
from dnmwatch.collect.urls import on_hosts, resolve
from dnmwatch.collect.warc import WarcWriter
from dnmwatch.collect.warc_read import OPEN_SUFFIX, iter_records, parse_http_response, recover
from dnmwatch.records import Page
from dnmwatch.settings import Settings

CrawlStatus = Literal["finished", "paused", "failed"]
GateHandler = Callable[[str, Page, Fetcher], Awaitable[bool]]
"""Asked when a gate cannot be passed automatically; returns True once it is resolved (the
operator solved it, e.g. by submitting a CAPTCHA answer through the given fetcher)."""
_AUTO_PASS = ("gate:rate_limit", "gate:queue", "gate:login")


@dataclass(frozen=True, slots=True)
class Progress:
    done: int
    failed: int
    queued: int
    in_flight: int
    pages_per_s: float
    errors: dict[str, int]


@dataclass(frozen=True, slots=True)
class CrawlResult:
    crawl_id: str
    market: str
    status: CrawlStatus
    started_at: datetime
    finished_at: datetime
    pages_ok: int
    pages_failed: int
    queued: int
    counters: dict[str, int]
    message: str
    gate: str | None = None
    warc_files: list[Path] = field(default_factory=list)
    reason: str | None = None
    """Why a crawl did not finish: the gate kind when paused; ``breaker``, ``seized``,
    ``unreachable`` or ``urls_left`` when failed; ``None`` when finished."""

    @property
    def exit_code(self) -> ExitCode:
        return {"finished": ExitCode.FINISHED, "paused": ExitCode.PAUSED}.get(
            self.status, ExitCode.FAILED)

    def store_row(self) -> dict[str, object]:
        """The row of the store's ``crawls`` table for this crawl."""
        return {"crawl_id": self.crawl_id, "market": self.market,
                "started_at": self.started_at, "finished_at": self.finished_at,
                "pages_ok": self.pages_ok, "pages_failed": self.pages_failed,
                "status": self.status,
                "warc_path": str(self.warc_files[0].parent) if self.warc_files else None,
                "counters": json.dumps(self.counters, sort_keys=True)}


class Crawler:
    """One snapshot of one market. Build, then ``await crawler.run()``."""

    def __init__(self, settings: Settings, market: str, links: LinkSource, *, data_dir: Path,
                 crawl_id: str | None = None, gate_handler: GateHandler | None = None,
                 on_progress: Callable[[Progress], None] | None = None,
                 rng: random.Random | None = None, warc_max_bytes: int | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.settings = settings
        self.market_name = market
        self.market = settings.market(market)
        self.crawl = settings.for_market(market)
        self.links = links
        self.crawl_id = crawl_id or new_crawl_id(market, clock())
        self.paths = CrawlPaths(data_dir, market, self.crawl_id)
        self.gate_handler = gate_handler
        self.on_progress = on_progress
        self.rng = rng or random.Random()
        self.warc_max_bytes = warc_max_bytes or self.crawl.warc_max_bytes
        self._clock = clock
        self._stop = asyncio.Event()
        self._pause: tuple[str, str] | None = None
        self._stopped: tuple[str, str] | None = None
        self._failures_in_a_row = 0
        self._next_slot = 0.0
        self._slot_lock = asyncio.Lock()
        self._active = 0
        self._t0 = time.monotonic()
        self._pages_this_run = 0

    # ------------------------------------------------------------------ the run

    async def run(self) -> CrawlResult:
        frontier = Frontier.open(self.paths.frontier)
        meta = frontier.meta()
        started = (datetime.fromisoformat(meta["started_at"]) if "started_at" in meta
                   else self._clock())
        frontier.set_meta(market=self.market_name, crawl_id=self.crawl_id, status="running",
                          started_at=started.isoformat(), software=f"dnmwatch/{__version__}")
        writer = WarcWriter(self.paths.warc_dir, self.crawl_id, max_bytes=self.warc_max_bytes,
                            info={"dnmwatch-market": self.market_name,
                                  "dnmwatch-crawl-id": self.crawl_id}, clock=self._clock)
        cookie = self.market.cookie.resolve() if self.market.cookie else None
        try:
            self._recover(frontier)
            if not frontier.entries():
                frontier.add(self.market.start_urls())
            async with Fetcher(self.settings, self.market_name, cookie=cookie,
                               clock=self._clock) as fetcher:
                workers = [asyncio.create_task(self._worker(frontier, writer, fetcher))
                           for _ in range(self.crawl.concurrency)]
                await asyncio.gather(*workers)
        finally:
            writer.close()
            result = self._result(frontier, started, writer)
            frontier.set_meta(status=result.status)
            frontier.close()
        return result

    def _result(self, frontier: Frontier, started: datetime, writer: WarcWriter) -> CrawlResult:
        stats = frontier.stats()
        sealed = sorted(self.paths.warc_dir.glob(f"{self.crawl_id}-*.warc.gz"))
        gate: str | None = None
        status: CrawlStatus = "failed"
        if self._pause is not None:
            status = "paused"
            gate, message = self._pause
            reason: str | None = gate
        elif self._stopped is not None:
            reason, message = self._stopped
        elif stats["queued"] or stats["in_flight"]:
            reason, message = "urls_left", "crawl stopped with URLs still queued"
        elif stats["done"] == 0 and stats["failed"]:
            first = frontier.entries("failed")[0].reason or "no reason recorded"
            reason = "unreachable"
            message = (f"{self.market_name}: market unreachable: no page captured, "
                       f"{stats['failed']} failed (first: {first})")
        else:
            status, reason = "finished", None
            message = f"{stats['done']} pages captured, {stats['failed']} failed"
        if status == "failed" and not self._stopped:
            frontier.count(f"stopped:{reason}")
        return CrawlResult(self.crawl_id, self.market_name, status, started, self._clock(),
                           stats["done"], stats["failed"], stats["queued"] + stats["in_flight"],
                           frontier.counters(), message, gate, sealed, reason)

    # ------------------------------------------------------------------ crash recovery

    def _recover(self, frontier: Frontier) -> None:
        for path in sorted(self.paths.warc_dir.glob(f"{self.crawl_id}-*{OPEN_SUFFIX}")):
            outcome = recover(path)
            frontier.count("warc:recovered_files")
            if outcome.cut_bytes:
                frontier.count("warc:torn_records")
        stale = {e.record_id: e for e in frontier.recover() if e.record_id}
        if not stale:
            return
        for path in sorted(self.paths.warc_dir.glob(f"{self.crawl_id}-*.warc.gz")):
            for record in iter_records(path):
                entry = stale.pop(record.record_id, None)
                if entry is None or record.type != "response":
                    continue
                status, headers, body = parse_http_response(record.block)
                ctype = next((v for k, v in headers if k.lower() == "content-type"), "text/html")
                stamp = (record.get("WARC-Date") or "").replace("Z", "+00:00")
                when = datetime.fromisoformat(stamp)
                page = Page(record.get("WARC-Target-URI") or entry.url, when, body, status, ctype)
                self._conclude(frontier, entry, page, record.get("WARC-Truncated"))
                frontier.count("recovered:from_warc")

    # ------------------------------------------------------------------ workers

    async def _worker(self, frontier: Frontier, writer: WarcWriter, fetcher: Fetcher) -> None:
        while not self._stop.is_set():
            entry = frontier.claim()
            if entry is None:
                wait = frontier.next_ready_in()
                if wait is None and self._active == 0:
                    return
                await asyncio.sleep(min(wait if wait is not None else 0.05, 1.0) or 0.01)
                continue
            self._active += 1
            try:
                await self._polite()
                result = await fetcher.get(entry.url)
                await self._handle(frontier, writer, fetcher, entry, result)
            finally:
                self._active -= 1
            self._report(frontier)

    async def _polite(self) -> None:
        async with self._slot_lock:
            now = time.monotonic()
            if now < self._next_slot:
                await asyncio.sleep(self._next_slot - now)
            self._next_slot = time.monotonic() + polite_delay_s(self.crawl, self.rng)

    def _report(self, frontier: Frontier) -> None:
        self._pages_this_run += 1
        if self.on_progress is None:
            return
        stats = frontier.stats()
        errors = {k: v for k, v in frontier.counters().items()
                  if k.startswith(("error:", "gate:", "http:", "truncated:", "refused:"))}
        rate = self._pages_this_run / max(1e-6, time.monotonic() - self._t0)
        self.on_progress(Progress(stats["done"], stats["failed"], stats["queued"],
                                  stats["in_flight"], rate, errors))

    # ------------------------------------------------------------------ deciding

    def _archive(self, writer: WarcWriter, exchanges: tuple[Exchange, ...],
                 record_id: str | None = None) -> None:
        for i, exchange in enumerate(exchanges):
            last = i == len(exchanges) - 1
            writer.write(exchange, record_id=record_id if last else None)

    def _page(self, exchange: Exchange) -> Page:
        return Page(exchange.url, exchange.started_at, exchange.body, exchange.status,
                    exchange.content_type)

    def _failed_fetch(self, frontier: Frontier, what: str) -> None:
        """One more fetch failure in a row; trips the breaker at ``breaker_failures``."""
        self._failures_in_a_row += 1
        limit = self.crawl.breaker_failures
        if self._failures_in_a_row < limit or self._stopped is not None:
            return
        self._stop_crawl(frontier, "breaker", (
            f"{self.market_name}: {limit} fetch failures in a row (last: {what}); the market "
            f"looks down or the circuit is broken. The crawl stopped with its state saved "
            f"(crawl {self.crawl_id}); run later: dnmwatch crawl {self.market_name} --resume"))

    def _stop_crawl(self, frontier: Frontier, reason: str, message: str) -> None:
        self._stopped = (reason, message)
        frontier.count(f"stopped:{reason}")
        self._stop.set()

    def _retry(self, frontier: Frontier, entry: Entry, reason: str, counts: list[str],
               retry_after: float | None = None) -> None:
        if entry.attempts >= self.crawl.attempts:
            frontier.fail(entry, f"gave up after {entry.attempts} attempts: {reason}",
                          counts=[*counts, "failed:attempts"])
            return
        delay = backoff_s(entry.attempts, self.crawl, self.rng, retry_after)
        frontier.requeue(entry, reason, delay_s=delay, counts=[*counts, "retry"])

    async def _handle(self, frontier: Frontier, writer: WarcWriter, fetcher: Fetcher,
                      entry: Entry, result: FetchResult) -> None:
        final = result.final
        if final is None:
            self._archive(writer, result.exchanges)
            failure = result.failure
            assert failure is not None
            if failure.retryable:
                self._retry(frontier, entry, failure.kind, [f"error:{failure.kind}"])
                self._failed_fetch(frontier, f"{failure.kind}: {failure.detail}"[:200])
            else:
                frontier.fail(entry, f"{failure.kind}: {failure.detail}",
                              counts=[f"refused:{failure.kind}"])
            return
        page = self._page(final)
        if final.truncated in ("time", "disconnect"):
            self._archive(writer, result.exchanges)
            self._retry(frontier, entry, f"truncated:{final.truncated}",
                        [f"truncated:{final.truncated}"])
            self._failed_fetch(frontier, f"body cut ({final.truncated})")
            return
        page_type = self.links.page_type(page)
        if is_gate(page_type):
            self._archive(writer, result.exchanges)
            await self._gate(frontier, fetcher, writer, entry, page_type, page, final)
            return
        broken = page_type == ERROR_TYPE and final.status < 400 and final.truncated is None
        if retryable_status(final.status) or broken:
            self._archive(writer, result.exchanges)
            reason = f"http:{final.status}" if final.status >= 400 else "malformed"
            self._retry(frontier, entry, reason, [reason],
                        retry_after_s(final.header("Retry-After")))
            if final.status != 429:
                self._failed_fetch(frontier, reason)
            return
        self._failures_in_a_row = 0
        self._archive(writer, result.exchanges, record_id=entry.record_id)
        self._conclude(frontier, entry, page, final.truncated)

    def _conclude(self, frontier: Frontier, entry: Entry, page: Page,
                  truncated: str | None) -> None:
        """Final outcome of a captured page (also used when recovering from the WARC)."""
        if page.status >= 400 or 300 <= page.status < 400:
            frontier.fail(entry, f"http_{page.status}", counts=[f"http:{page.status}"])
            return
        page_type = self.links.page_type(page)
        found: list[str] = []
        offsite = 0
        for link in self.links.links(page):
            url = resolve(page.url, link)
            if url is None:
                continue
            if on_hosts(url, self.market.hosts):
                found.append(url)
            else:
                offsite += 1
        counts = [f"page:{page_type}"] + ["links:offsite"] * min(offsite, 1)
        if truncated:
            counts.append(f"truncated:{truncated}")
        frontier.done(entry, found, counts=counts,
                      reason=f"truncated:{truncated}" if truncated else None)

    # ------------------------------------------------------------------ gates

    async def _gate(self, frontier: Frontier, fetcher: Fetcher, writer: WarcWriter,
                    entry: Entry, kind: str, page: Page, final: Exchange) -> None:
        counts = [kind]
        if kind == "gate:seized":
            frontier.fail(entry, kind, counts=counts)
            if self._stopped is None:
                self._stop_crawl(frontier, "seized", (
                    f"{self.market_name}: the market shows a seizure banner (law enforcement "
                    f"took it down); crawl {self.crawl_id} stopped"))
            return
        if kind == "gate:rate_limit":
            self._retry(frontier, entry, kind, counts, retry_after_s(final.header("Retry-After")))
            return
        if kind in _AUTO_PASS and await self._auto_pass(kind, page, fetcher, writer):
            self._retry(frontier, entry, kind, [*counts, f"passed:{kind}"])
            return
        if self.gate_handler is not None and await self.gate_handler(kind, page, fetcher):
            frontier.requeue(entry, kind, refund=True, counts=[*counts, f"solved:{kind}"])
            return
        frontier.requeue(entry, f"paused:{kind}", refund=True, counts=counts)
        if self._pause is None:
            self._pause = (kind, _pause_message(self.market_name, kind, self.crawl_id))
        self._stop.set()

    async def _auto_pass(self, kind: str, page: Page, fetcher: Fetcher,
                         writer: WarcWriter) -> bool:
        html = page.body.decode("utf-8", errors="replace")
        if kind == "gate:queue":
            refresh = meta_refresh(html)
            if refresh is None:
                return False
            wait, target = refresh
            url = resolve(page.url, target)
            if url is None:
                return False
            await asyncio.sleep(min(wait, self.crawl.timeout_s))
            result = await fetcher.get(url)
            self._archive(writer, result.exchanges)
            return result.final is not None
        if kind == "gate:login" and self.market.username and self.market.password:
            form = login_form(html)
            if form is None:
                return False
            fields = dict(form.fields)
            fields[form.text_inputs[0]] = self.market.username.resolve()
            fields[form.password_inputs[0]] = self.market.password.resolve()
            url = resolve(page.url, form.action or page.url)
            if url is None:
                return False
            result = await fetcher.post(url, fields)
            redacted = tuple(replace(x, request_body=REDACTED.encode()) if x.method == "POST"
                             else x for x in result.exchanges)
            self._archive(writer, redacted)
            return result.final is not None and login_form(
                result.final.body.decode("utf-8", errors="replace")) is None
        return False


def _pause_message(market: str, kind: str, crawl_id: str) -> str:
    what = kind.removeprefix("gate:").replace("_", " ")
    return (f"{market}: the market shows a {what} page that needs a person. The crawl is "
            f"paused and its state saved (crawl {crawl_id}). Solve it in Tor Browser and, if "
            f"needed, set the market's cookie, then run: dnmwatch crawl {market} --resume")
