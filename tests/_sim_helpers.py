"""Shared steps of the simulator-site tests: crawling a loopback site, seed pages, fuzzing.

Why here: the golden tests of the market, shop and forum adapters crawl the same way (from
``/``, following nothing but ``adapter.links()``) and fuzz the same way (mutated seed pages must
never raise); one copy keeps the contract they test the same for every design.
"""

from __future__ import annotations

import re
import subprocess
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from urllib.parse import urlsplit

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from dnmwatch.adapters.base import CONTENT_TYPES, MarketAdapter
from dnmwatch.pseudonym import PSEUDONYM
from dnmwatch.records import Page, Rejection
from dnmwatch.sim.server.sites import SiteServer

FUZZ = settings(max_examples=40, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
"""Fuzz settings of the simulator adapters: deterministic, no example database."""


def crawl_pages(base: str, now: datetime, adapter: MarketAdapter) -> Iterator[Page]:
    """Every page reached from ``base + "/"`` through ``adapter.links()`` alone, depth first.

    A page's links are followed after the caller has handled the page (it resumes the generator).
    """
    todo, seen = [base + "/"], set()
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        with urllib.request.urlopen(url, timeout=10) as resp:
            page = Page(url=url, captured_at=now, body=resp.read(), status=resp.status)
        yield page
        todo.extend(u for u in adapter.links(page) if u not in seen)


def dispatch_pages(sites: SiteServer, site: str, paths: Iterable[str]) -> list[Page]:
    """The pages at ``paths`` of ``site``, rendered by its engine without HTTP (fuzz seeds)."""
    engine, view = sites.engine(site), sites.view(site)
    pages = []
    for path in paths:
        parts = urlsplit(path)
        query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
        html = engine.dispatch(parts.path, query, view).html
        pages.append(Page(url=sites.urls[site] + path, captured_at=sites.clock.now,
                          body=html.encode()))
    return pages


def mutate(body: bytes, op: str, data: st.DataObject, closing: bytes,
           special: Mapping[str, Callable[[bytes], bytes]]) -> bytes:
    """``body`` damaged by ``op``: cut, spliced, re-encoded, closing tags in ``closing``
    (a regex alternation) dropped, a design-specific op from ``special``, else random bytes."""
    if op == "truncate":
        return body[:data.draw(st.integers(0, len(body)))]
    if op == "splice":
        at = data.draw(st.integers(0, len(body)))
        return body[:at] + data.draw(st.binary(max_size=64)) + body[at:]
    if op in ("cp1252", "utf-16"):
        return body.decode("utf-8").encode(op, "replace")
    if op in special:
        return special[op](body)
    if op == "drop_closing":
        return re.sub(rb"</(" + closing + rb")>", b"", body)
    return data.draw(st.binary(max_size=4096))


def check_mutated_page(adapter: MarketAdapter, seeds: list[Page], data: st.DataObject,
                       mutated: Callable[[bytes, str], bytes], ops: list[str],
                       statuses: list[int]) -> None:
    """A mutated seed page never makes ``adapter`` raise, pseudonyms stay pseudonyms, a page
    that is not content yields one rejection, and links never leave the page's origin."""
    seed = data.draw(st.sampled_from(seeds))
    page = Page(url=seed.url, captured_at=seed.captured_at,
                body=mutated(seed.body, data.draw(st.sampled_from(ops))),
                status=data.draw(st.sampled_from(statuses)))
    ptype = adapter.page_type(page)
    records = list(adapter.parse(page))
    assert not [r for r in records if isinstance(r, Rejection) and r.reason == "parser_error"]
    assert all(PSEUDONYM.match(r.vendor_id) for r in records
               if not isinstance(r, Rejection) and r.vendor_id is not None)
    if ptype not in CONTENT_TYPES:
        assert len(records) == 1 and isinstance(records[0], Rejection)
    origin = urlsplit(page.url).netloc
    assert all(urlsplit(u).netloc == origin for u in adapter.links(page))


def stop_process(proc: subprocess.Popen[str]) -> None:
    """Kill ``proc`` if it still runs (a test failed before stopping it) and close its pipes."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
