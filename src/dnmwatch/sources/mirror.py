"""HTML mirror folders -> pages: archived market dumps saved as one file per page.

Archives of dead markets (Gwern's DNM archive, researchers' dumps) are folders of saved pages,
often one folder per crawl day (``agora/2014-01-01/p/a1BkWEipyk``). What they lack is what an
adapter needs besides the bytes: the page's URL and its capture time. So:

* the capture time is ``--captured-at`` when given, else the last date written in the file's
  path (``2014-01-01``, ``2014_01_01`` or ``20140101``), else the file's modification time
  (counted as ``mirror:time_from_mtime``, because it is usually the copy's date, not the
  crawl's);
* the URL is ``base_url`` + the path inside the mirror when a base is given (leading folders
  named like a date are snapshot folders, not part of the site, and are left out); else, when
  the first folder looks like a host (``something.onion``, ``127.0.0.1:8001``), ``http://`` + the
  path (the layout ``wget --mirror`` leaves); else the file's ``file://`` URI.

Files that are clearly not pages (images, scripts, fonts, archives) are skipped and counted.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from dnmwatch.records import Counters, Page, Provenance, Rejection

DEFAULT_MAX_BODY = 8 * 1024 * 1024
SKIP_SUFFIXES = frozenset({
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".ico", ".svg", ".css", ".js", ".map",
    ".woff", ".woff2", ".ttf", ".otf", ".eot", ".zip", ".gz", ".bz2", ".xz", ".7z", ".tar",
    ".pdf", ".mp4", ".webm", ".mp3", ".json", ".csv", ".warc", ".asc", ".gpg", ".sig",
})
"""Suffixes of files that are not market pages."""
_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})[-_./]?(0[1-9]|1[0-2])[-_./]?(0[1-9]|[12]\d|3[01])"
                   r"(?!\d)")
_HOSTLIKE = re.compile(r"^(?:[a-z0-9-]+\.)+[a-z0-9-]+(?::\d{1,5})?$", re.IGNORECASE)


def date_from_path(path: str) -> datetime | None:
    """The last calendar date written in ``path`` (midnight UTC), or ``None``."""
    found: datetime | None = None
    for match in _DATE.finditer(path):
        try:
            found = datetime(int(match.group(1)), int(match.group(2)), int(match.group(3)),
                             tzinfo=UTC)
        except ValueError:
            continue
    return found


def is_page_file(path: Path) -> bool:
    """Whether a file in a mirror may be a page (by its name)."""
    name = path.name.lower()
    if name.startswith("."):
        return False
    return path.suffix.lower() not in SKIP_SUFFIXES


def list_mirror(root: Path, counters: Counters | None = None) -> list[Path]:
    """Page files under ``root``, sorted (a stable order makes runs repeatable)."""
    out: list[Path] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(folder) / name
            if is_page_file(path):
                out.append(path)
            elif counters is not None:
                counters.inc("mirror:skipped_not_page")
    return out


def url_for(root: Path, path: Path, base_url: str | None) -> str:
    """The URL a mirrored file stands for (see the module docstring)."""
    try:
        parts = list(path.relative_to(root).parts)
    except ValueError:
        parts = []
    while len(parts) > 1 and _DATE.fullmatch(parts[0]):
        parts.pop(0)
    rel = "/".join(parts)
    if base_url:
        return base_url.rstrip("/") + "/" + quote(rel, safe="/?=&%:;,+@!$'()*~")
    first = rel.split("/", 1)[0]
    if rel and "/" in rel and _HOSTLIKE.match(first):
        return "http://" + quote(rel, safe="/?=&%:;,+@!$'()*~")
    return path.resolve().as_uri()


class MirrorSource:
    """The pages of a list of files inside one mirror folder ``root``."""

    def __init__(self, root: Path, files: Iterable[Path], *, captured_at: datetime | None = None,
                 base_url: str | None = None, max_body_bytes: int = DEFAULT_MAX_BODY,
                 counters: Counters | None = None) -> None:
        self.root = Path(root)
        self.files = list(files)
        self.captured_at = captured_at
        self.base_url = base_url
        self.max_body_bytes = max_body_bytes
        self.counters = counters if counters is not None else Counters()

    def capture_time(self, path: Path) -> datetime:
        if self.captured_at is not None:
            return self.captured_at
        try:
            rel = path.relative_to(self.root).as_posix()
        except ValueError:
            rel = path.as_posix()
        found = date_from_path(rel) or date_from_path(self.root.as_posix())
        if found is not None:
            return found
        self.counters.inc("mirror:time_from_mtime")
        return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)

    def pages(self) -> Iterator[Page | Rejection]:
        """One :class:`Page` per readable file; an unreadable or oversized file is a
        :class:`Rejection` with the file as its source."""
        for path in self.files:
            source = str(path)
            try:
                size = path.stat().st_size
                if size > self.max_body_bytes:
                    self.counters.inc("mirror:too_large")
                    yield Rejection("too_large", f"{size} bytes", source,
                                    Provenance(source=source))
                    continue
                body = path.read_bytes()
                moment = self.capture_time(path)
            except OSError as exc:
                self.counters.inc("mirror:unreadable_file")
                yield Rejection("unreadable_file", exc.strerror or type(exc).__name__, source,
                                Provenance(source=source))
                continue
            self.counters.inc("mirror:pages")
            yield Page(url=url_for(self.root, path, self.base_url), captured_at=moment,
                       body=body, provenance=Provenance(source=source, captured_at=moment))
