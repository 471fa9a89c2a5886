"""One HTTP request and its response as captured: what the fetcher returns and the WARC keeps.

Bodies are kept *decoded* (after gzip/deflate/br), because the body cap applies after
decompression and adapters read decoded bytes. The response headers therefore lose
``Content-Encoding``, ``Content-Length`` and ``Transfer-Encoding``, which no longer describe the
stored body; they are kept under the ``X-Archive-Orig-`` prefix (the convention of pywb and
other archive replay tools) so nothing the server said is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Truncation = Literal["length", "time", "disconnect"]
"""Why a stored body is shorter than the server's: ``length`` (our body cap), ``time`` (the
time-out struck while reading) or ``disconnect`` (the connection closed early)."""

_REWRITTEN = ("content-encoding", "content-length", "transfer-encoding")
REDACTED = "[redacted by dnmwatch]"
"""Replaces session secrets (``Cookie``, ``Set-Cookie`` values) in archived headers."""


@dataclass(frozen=True, slots=True)
class Exchange:
    """A request sent and the response received (possibly cut, see ``truncated``)."""

    url: str
    method: str
    request_target: str
    """Path and query as sent on the request line."""
    request_headers: tuple[tuple[str, str], ...]
    status: int
    reason: str
    response_headers: tuple[tuple[str, str], ...]
    body: bytes
    started_at: datetime
    request_body: bytes = b""
    truncated: Truncation | None = None
    http_version: str = "1.1"
    elapsed_s: float = 0.0
    extra: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """The first response header called ``name`` (case-insensitive)."""
        lower = name.lower()
        return next((v for k, v in self.response_headers if k.lower() == lower), None)

    @property
    def content_type(self) -> str:
        return (self.header("Content-Type") or "application/octet-stream").strip()


def archived_response_headers(headers: tuple[tuple[str, str], ...],
                              body_length: int) -> list[tuple[str, str]]:
    """Headers as archived: encodings moved to ``X-Archive-Orig-*``, ``Set-Cookie`` values
    redacted, and a ``Content-Length`` that matches the stored (decoded) body."""
    out: list[tuple[str, str]] = []
    for name, value in headers:
        lower = name.lower()
        if lower in _REWRITTEN:
            out.append((f"X-Archive-Orig-{name}", value))
        elif lower == "set-cookie":
            cookie_name = value.split("=", 1)[0].strip()
            out.append((name, f"{cookie_name}={REDACTED}"))
        else:
            out.append((name, value))
    out.append(("Content-Length", str(body_length)))
    return out


def archived_request_headers(headers: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """Request headers as archived: the ``Cookie`` value (a session secret) redacted."""
    return [(k, REDACTED if k.lower() == "cookie" else v) for k, v in headers]
