"""What the crawler needs from a market's adapter, as a structural type.

The crawler knows no market: which links to follow and what kind of page it is holding come
from the adapter. Declaring the two methods here as a :class:`typing.Protocol` keeps the import
direction of ARCHITECTURE.md (``collect`` never imports ``adapters``): any object with these
methods fits, so the adapters, a test double and an outside plugin plug in the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from dnmwatch.records import Page

GATE_PREFIX = "gate:"
"""Page types starting with this are gates (``gate:captcha``, ``gate:queue``, ``gate:login``,
``gate:ban``, ``gate:rate_limit``, ``gate:seized``): recorded and counted, never content."""

ERROR_TYPE = "error"
"""A page the adapter recognises as broken (cut, garbled) or as an error page: retried."""


@runtime_checkable
class LinkSource(Protocol):
    """The two questions the crawler asks an adapter about a fetched page.

    ``page_type`` returns a :data:`dnmwatch.records.PageType` value (or another ``gate:*``
    kind). A page the adapter sees as incomplete or broken must be ``"error"``: the crawler then
    retries it instead of reading a cut index page as "no more items".

    ``links`` returns absolute or page-relative URLs worth following from a content page
    (category index -> listing -> every feedback page -> vendor page). The crawler resolves
    them against the page URL, drops those off the market's hosts and de-duplicates them.
    """

    def page_type(self, page: Page) -> str: ...

    def links(self, page: Page) -> Iterable[str]: ...


def is_gate(page_type: str) -> bool:
    return page_type.startswith(GATE_PREFIX)
