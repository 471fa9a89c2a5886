"""Recognising the pages a market puts in front of its content: CAPTCHA, DDoS queue, login
wall, rate limit, ban and law-enforcement seizure banners.

These heuristics are shared by every adapter and consulted only after the market's own
classifier found no content page, so a listing titled "captcha bypass guide" is still a listing.
They look at structure first (a password field, a form posting an answer) and at a few phrases
markets and seizure banners use, in English and Russian.
"""

from __future__ import annotations

from dnmwatch.adapters.html import Document
from dnmwatch.records import PageType

_SEIZED = ("has been seized", "сайт изъят")
_RATE = ("too many requests", "slow down", "rate limit", "слишком много запросов")
_QUEUE = ("ddos protection", "you are in the queue", "waiting room", "ddos-guard", "очередь")
_CAPTCHA = ("captcha", "security check", "type the letters", "введите символы", "капча")
_BAN = ("you have been banned", "access denied", "your account is banned", "вы заблокированы")
_MAX_GATE_TEXT = 4000
"""Gate pages are short; a long page that mentions "banned" is a page about something else."""


def _has(text: str, phrases: tuple[str, ...]) -> bool:
    return any(p in text for p in phrases)


def detect_gate(doc: Document) -> PageType | None:
    """The gate kind of a page that is not content, or ``None`` when it does not look like one."""
    text = doc.all_text().casefold()
    title = doc.text("title").casefold()
    body = doc.first("body")
    classes = (body.attributes.get("class") or "") if body is not None else ""
    if "seized" in classes or _has(title + " " + text[:_MAX_GATE_TEXT], _SEIZED):
        return "gate:seized"
    if len(text) > _MAX_GATE_TEXT:
        return None
    if _has(text, _RATE):
        return "gate:rate_limit"
    if _has(text, _QUEUE) or (doc.first('meta[http-equiv="refresh" i]') is not None
                              and "queue" in text):
        return "gate:queue"
    if doc.first('input[type="password" i]') is not None:
        return "gate:login"  # a login form often carries a CAPTCHA too: logging in comes first
    answer = doc.first('input[name*="captcha" i], input[name="answer"], img[src*="captcha" i]')
    if answer is not None or _has(title + " " + text, _CAPTCHA):
        return "gate:captcha"
    if _has(text, _BAN):
        return "gate:ban"
    return None
