"""The ``forum`` engine: a drug forum's market sub-forum (vendor threads and reviews).

URLs: ``/`` and ``/board?page=N`` (thread index, 8 threads a page, most recently active first,
numbered pages; page 1 is ``/``), ``/t/<id>-<slug>?page=N`` (a thread, 10 posts a page, oldest
first). Posts show their author, an absolute date (``2019-09-14 18:22 UTC``, the relative one in
a ``title``), the body line by line and pre-formatted blocks (keys, signed messages). The board
is built once (:mod:`..forum_board`); a page shows the posts made by the clock's instant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from dnmwatch.sim.server.engines.base import Engine, Page, View, to_int
from dnmwatch.sim.server.forum_board import Board, Post, Thread
from dnmwatch.sim.server.index import Listing, slugify
from dnmwatch.sim.server.text import e, relative

_CSS = ("body{font-family:Tahoma,sans-serif;font-size:13px;background:#1d1f21;color:#ddd}"
        "a{color:#8ab}.post{border:1px solid #444;margin:8px;padding:6px}"
        "pre{white-space:pre-wrap;background:#111}")


class ForumEngine(Engine):
    name = "forum"
    threads_per_page = 8
    posts_per_page = 10

    def __init__(self, board: Board) -> None:
        self.board = board

    # --- URLs -------------------------------------------------------------------------------
    def thread_url(self, thread: Thread, page: int = 1) -> str:
        slug = slugify(thread.title)[:50].strip("-")
        return f"/t/{thread.thread_id}-{slug}" + (f"?page={page}" if page > 1 else "")

    def board_url(self, page: int = 1) -> str:
        return "/" if page == 1 else f"/board?page={page}"

    def _vendor_thread(self, handle: str) -> Thread | None:
        return next((t for t in self.board.threads if t.author == handle), None)

    def listing_url(self, view: View, listing: Listing) -> str:
        thread = self._vendor_thread(listing.vendor)
        return self.thread_url(thread) if thread is not None else "/"

    def category_url(self, view: View, slug: str, page: int = 1) -> str:
        return self.board_url(page)

    def feedback_url(self, view: View, listing: Listing, page: int = 1) -> str:
        return self.listing_url(view, listing)

    def vendor_url(self, view: View, handle: str) -> str:
        thread = self._vendor_thread(handle)
        return self.thread_url(thread) if thread is not None else "/"

    # --- routing ----------------------------------------------------------------------------
    def dispatch(self, path: str, query: Mapping[str, str], view: View) -> Page:
        parts = [p for p in path.split("/") if p]
        page = to_int(query.get("page"), 1)
        if page is None or page < 1:
            return self.not_found("Page")
        if not parts or parts == ["board"]:
            return self._board(view, page)
        if parts[0] == "t" and len(parts) == 2:
            number = to_int(parts[1].split("-", 1)[0])
            thread = self.board.thread(number) if number is not None else None
            if thread is None:
                return self.not_found("Thread")
            return self._thread(view, thread, page)
        return self.not_found("Page")

    def _wrap(self, view: View, title: str, body: str, page_type: str) -> Page:
        name = self.board.spec.name
        doc = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               f"<title>{e(title)} - {e(name)}</title><style>{_CSS}</style></head><body>"
               f"<div class=\"top\"><a href=\"/\" class=\"forum-name\">{e(name)}</a> &raquo; "
               "Marketplace &raquo; Vendors &amp; Reviews</div>"
               f"<div class=\"content\">{body}</div><div class=\"foot\">Forum time "
               f"{view.now:%Y-%m-%d %H:%M} UTC</div></body></html>\n")
        return Page(200, doc, page_type)

    def _pages(self, page: int, pages: int, url: Callable[[int], str]) -> str:
        links = [f'<b class="current">{n}</b>' if n == page else
                 f'<a href="{e(url(n))}">{n}</a>' for n in range(1, pages + 1)]
        return f'<div class="pages">Page {page} of {pages}: {" ".join(links)}</div>'

    # --- pages ------------------------------------------------------------------------------
    def _board(self, view: View, page: int) -> Page:
        shown = self.board.visible_threads(view.now_ts)
        pages = max(1, -(-len(shown) // self.threads_per_page))
        if page > pages:
            return self.not_found("Page")
        rows = []
        for thread, posts in shown[(page - 1) * self.threads_per_page:page * self.threads_per_page]:
            last = posts[-1]
            rows.append(
                f'<tr class="thread-row"><td><a class="thread-link" '
                f'href="{e(self.thread_url(thread))}">{e(thread.title)}</a>'
                f'<div class="by">by {e(thread.author)}</div></td>'
                f'<td class="replies">{len(posts) - 1}</td>'
                f'<td class="last">{_stamp(last.posted_ts)} by {e(last.author)}</td></tr>')
        empty = "" if rows else '<tr><td colspan="3">No threads yet.</td></tr>'
        body = ("<h1>Vendors &amp; Reviews</h1><table class=\"board\"><tr><th>Thread</th>"
                f"<th>Replies</th><th>Last post</th></tr>{''.join(rows)}{empty}</table>"
                + self._pages(page, pages, self.board_url))
        return self._wrap(view, "Vendors & Reviews", body, "index")

    def _thread(self, view: View, thread: Thread, page: int) -> Page:
        posts = thread.visible(view.now_ts)
        pages = max(1, -(-len(posts) // self.posts_per_page))
        if not posts or page > pages:
            return self.not_found("Thread")
        start = (page - 1) * self.posts_per_page
        rendered = "".join(self._post(view, p, start + i + 1)
                           for i, p in enumerate(posts[start:start + self.posts_per_page]))
        body = (f"<h1 class=\"thread-title\">{e(thread.title)}</h1>"
                f"<div class=\"starter\">Started by <b>{e(thread.author)}</b></div>"
                f"<div class=\"posts\">{rendered}</div>"
                + self._pages(page, pages, lambda n: self.thread_url(thread, n)))
        return self._wrap(view, thread.title, body, "thread")

    def _post(self, view: View, post: Post, number: int) -> str:
        when = datetime.fromtimestamp(post.posted_ts, tz=UTC)
        badge = '<span class="badge">Vendor</span>' if post.vendor else ""
        lines = "<br>\n".join(e(line) for line in post.lines)
        code = "".join(f'<pre class="code">{e(block)}</pre>' for block in post.code)
        return (f'<div class="post" id="p{post.post_id}"><div class="head">'
                f'<span class="author">{e(post.author)}</span>{badge} '
                f'<span class="date" title="{e(relative(when, view.now))}">'
                f"{_stamp(post.posted_ts)}</span> <a class=\"num\" href=\"#p{post.post_id}\">"
                f"#{number}</a></div><div class=\"body\">{lines}</div>{code}</div>")


def _stamp(ts: int) -> str:
    return f"{datetime.fromtimestamp(ts, tz=UTC):%Y-%m-%d %H:%M} UTC"
