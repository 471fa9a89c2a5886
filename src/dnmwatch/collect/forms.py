"""Reading the two things a generic crawler may act on in a gate page: a login form and a
``<meta http-equiv="refresh">`` (the way DDoS queue pages send a browser on).

Only the standard library's tolerant HTML parser is used: gate pages are tiny, and the crawler
must not depend on an adapter to get past a queue or a login wall.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

_REFRESH = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:[;,]\s*url\s*=\s*['\"]?([^'\"]+)['\"]?)?",
                      re.IGNORECASE)


@dataclass(slots=True)
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    text_inputs: list[str] = field(default_factory=list)
    password_inputs: list[str] = field(default_factory=list)


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.refresh: str | None = None
        self._current: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta" and a.get("http-equiv", "").lower() == "refresh":
            self.refresh = a.get("content", "")
        elif tag == "form":
            self._current = Form(a.get("action", ""), a.get("method", "get").upper())
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and a.get("name"):
            kind, name = a.get("type", "text").lower(), a["name"]
            if kind == "password":
                self._current.password_inputs.append(name)
            elif kind in ("text", "email", ""):
                self._current.text_inputs.append(name)
            elif kind not in ("submit", "button", "image", "checkbox", "radio"):
                self._current.fields[name] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str, limit: int = 400) -> str:
    """The text a person would read on a (gate) page: no markup, scripts or control
    characters, whitespace collapsed, at most ``limit`` characters. Safe to print in a
    terminal (hostile pages may carry escape sequences)."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = " ".join("".join(parser.parts).split())
    text = "".join(c for c in text if c.isprintable())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _parse(html: str) -> _Parser:
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return parser


def login_form(html: str) -> Form | None:
    """The first form with one password field and a text field for the user name."""
    for form in _parse(html).forms:
        if len(form.password_inputs) == 1 and form.text_inputs:
            return form
    return None


def single_field_form(html: str) -> Form | None:
    """The first form asking one free-text answer (a CAPTCHA), for an operator to fill."""
    for form in _parse(html).forms:
        if len(form.text_inputs) == 1 and not form.password_inputs:
            return form
    return None


def meta_refresh(html: str) -> tuple[float, str] | None:
    """``(seconds, url)`` of a meta refresh that names a URL, else ``None``."""
    content = _parse(html).refresh
    match = _REFRESH.match(content or "")
    if match is None or not match.group(2):
        return None
    return float(match.group(1)), match.group(2).strip()
