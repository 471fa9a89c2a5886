"""Templates and static files of the dashboard, all from the package (no CDN, works offline).

Jinja2 runs with autoescape ON for every template (FIELD-NOTES.md: it escapes nothing
otherwise) and strict undefined variables; chart specs reach the page through ``tojson``
inside ``<script type="application/json">`` (never executed; ``tojson`` escapes ``<``, ``>``,
``&`` and ``'``). Scripts are files: the page's CSP allows no inline script.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import jinja2

from dnmwatch import __version__

STATIC_TYPES = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "vega-interpreter.js": "text/javascript; charset=utf-8",
    "vega-interpreter.LICENSE.txt": "text/plain; charset=utf-8",
    "vega.js": "text/javascript; charset=utf-8",
}
"""The only files ``/static/`` serves (anything else is 404)."""


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("dnmwatch.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(version=__version__, **context)


@cache
def static_file(name: str) -> bytes:
    """The bytes of a static file (the Vega bundle is built once, from vl-convert)."""
    if name == "vega.js":
        from dnmwatch.report.render import vega_bundle

        return vega_bundle().encode()
    return resources.files("dnmwatch.web").joinpath("static", name).read_bytes()
