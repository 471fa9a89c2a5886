"""Collection: the only part of dnmwatch that opens network connections.

A polite, crash-safe crawler that captures one market snapshot into WARC files through Tor:
:mod:`.frontier` (durable SQLite queue), :mod:`.fetch` (aiohttp over SOCKS5 with remote DNS),
:mod:`.warc` and :mod:`.warc_read` (WARC 1.1 writing, verification, crash recovery),
:mod:`.crawler` (the loop, gates, retries) and :mod:`.cli` (``dnmwatch crawl``).
What to follow comes from a :class:`~.protocol.LinkSource` (a market's adapter).
See docs/collect.md.
"""

from dnmwatch.collect.crawler import Crawler, CrawlResult, GateHandler, Progress
from dnmwatch.collect.fetch import Fetcher, FetchFailure, FetchResult
from dnmwatch.collect.frontier import Entry, Frontier
from dnmwatch.collect.protocol import LinkSource, is_gate
from dnmwatch.collect.record import record_result, record_start
from dnmwatch.collect.state import ExitCode, latest_unfinished, new_crawl_id
from dnmwatch.collect.warc import WarcWriter
from dnmwatch.collect.warc_read import recover, verify

__all__ = [
    "CrawlResult",
    "Crawler",
    "Entry",
    "ExitCode",
    "FetchFailure",
    "FetchResult",
    "Fetcher",
    "Frontier",
    "GateHandler",
    "LinkSource",
    "Progress",
    "WarcWriter",
    "is_gate",
    "latest_unfinished",
    "new_crawl_id",
    "record_result",
    "record_start",
    "recover",
    "verify",
]
