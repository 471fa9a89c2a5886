"""Render the report as ONE self-contained HTML file.

Self-contained: the Vega, Vega-Lite and Vega-Embed libraries are inlined (the offline bundle of
``vl-convert-python``), chart data is inline JSON, styles are inline, and a Content Security
Policy forbids the page any network request at all (``default-src 'none'``), so a reader can
open it offline and nothing in it can phone home.

Safe: Jinja2 autoescape is ON for every template (FIELD-NOTES.md: Jinja2 escapes nothing
otherwise), chart specs go through the ``tojson`` filter (which escapes ``<``, ``>``, ``&`` and
``'``), and the only strings marked safe are our own script bundle and script file, checked
not to contain a closing ``</script``.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path

import jinja2
from markupsafe import Markup

from dnmwatch.errors import DnmwatchError
from dnmwatch.report.build import ReportContent, ReportOptions, build_content
from dnmwatch.store import Store

CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data:; font-src data:"
)
"""Vega compiles its expressions with ``Function`` (hence ``unsafe-eval``); nothing loads."""

_BUNDLE_SNIPPET = "window.vegaEmbed = vegaEmbed; window.vega = vega; window.vegaLite = vegaLite;"
"""What the bundle exposes: the three libraries as page globals (render.js uses vegaEmbed)."""

_SCRIPT_END = re.compile(r"</script", re.IGNORECASE)


class ReportError(DnmwatchError):
    """The report could not be rendered or written."""


def _inline_script(code: str) -> Markup:
    """Our own JavaScript, safe to put inside ``<script>`` (no closing tag can occur)."""
    return Markup(_SCRIPT_END.sub(r"<\\/script", code))  # noqa: S704 - our own bundle, not input


@cache
def vega_bundle() -> str:
    """Vega + Vega-Lite + Vega-Embed as one script that defines ``window.vegaEmbed``."""
    try:
        import vl_convert
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ReportError("vl-convert-python is needed to inline the chart libraries") from exc
    bundle: str = vl_convert.javascript_bundle(_BUNDLE_SNIPPET)
    return bundle


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dnmwatch.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def _static(name: str) -> str:
    return resources.files("dnmwatch.report").joinpath("templates", name).read_text("utf-8")


def render_html(content: ReportContent) -> str:
    """The report page for already-computed (and protected) content."""
    template = _environment().get_template("report.html")
    has_charts = bool(content.charts)
    return template.render(
        r=content,
        csp=CSP,
        guard_js=_inline_script(_static("guard.js")),
        render_js=_inline_script(_static("render.js")),
        vega_js=_inline_script(vega_bundle()) if has_charts else Markup(""),
        css=Markup(_static("report.css")),  # noqa: S704 - our own stylesheet
    )


def write_report(store: Store, out: Path, options: ReportOptions | None = None) -> ReportContent:
    """Compute, protect and write the report to ``out``; returns what was shown."""
    content = build_content(store, options)
    html = render_html(content)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".part")
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(out)
    except OSError as exc:
        raise ReportError(f"cannot write report {out}: {exc.strerror}") from exc
    return content


def report_from_data_dir(
    data_dir: Path, out: Path, options: ReportOptions | None = None
) -> ReportContent:
    """Open the store read-only and write the report (what ``dnmwatch report`` does)."""
    with Store.open(data_dir, read_only=True) as store:
        return write_report(store, out, options)
