"""The HTML report: content, disclosure marks, escaping, empty state and the command."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from html import unescape
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from _indicators_store import build_store
from dnmwatch.privacy.audit import AuditLog
from dnmwatch.privacy.disclosure import Rules
from dnmwatch.report import charts
from dnmwatch.report.build import ReportOptions, build_content
from dnmwatch.report.cli import register
from dnmwatch.report.render import CSP, render_html, write_report
from dnmwatch.store import Store

OPEN = Rules(min_vendors=1, dominance_pct=100.0)
HOSTILE = '<img src=x onerror="alert(1)">'


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = build_store(tmp_path_factory.mktemp("rep"))
    with Store.open(path) as store:  # hostile market content must come out escaped
        store.insert_rows("sales", [{
            "market": "alpha", "listing_id": "L9", "vendor_id": "v1", "day": date(2020, 1, 11),
            "substance": "cocaine", "category": HOSTILE, "ships_from": "DE", "price_eur": 10.0,
            "mass_g": 0.1, "weight": 1.0}])
    return path


def _html(data_dir: Path, tmp_path: Path, options: ReportOptions) -> str:
    with Store.open(data_dir, read_only=True) as store:
        write_report(store, tmp_path / "r.html", options)
    return (tmp_path / "r.html").read_text("utf-8")


def test_report_is_self_contained(data_dir: Path, tmp_path: Path) -> None:
    html = _html(data_dir, tmp_path, ReportOptions(rules=OPEN, event_day=date(2020, 2, 1)))
    assert CSP in unescape(html) and "default-src 'none'" in unescape(html)
    assert "window.vegaEmbed=" in html.replace(" ", "")  # the libraries are inlined
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=[\"']?https?:", html)
    assert "<link" not in html
    assert html.count('data-chart="spec-') == 9


def test_market_content_is_escaped(data_dir: Path, tmp_path: Path) -> None:
    html = _html(data_dir, tmp_path, ReportOptions(rules=OPEN))
    assert HOSTILE not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html  # in the category table
    assert "<script>alert(1)</script>" not in html  # a rejection reason of the fixture
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for spec in re.findall(r'<script type="application/json" id="spec-[a-z-]+">(.*?)</script>',
                           html, re.S):
        assert "<" not in spec  # tojson escapes < > & ' inside chart data
        json.loads(spec)


def test_disclosure_marks_cells_and_keeps_them(data_dir: Path) -> None:
    with Store.open(data_dir, read_only=True) as store:
        strict = build_content(store, ReportOptions())
        open_ = build_content(store, ReportOptions(rules=OPEN))
    sales = next(s for s in strict.sections if s.key == "sales")
    table = sales.tables[0]
    assert table.title == "Revenue by month and substance"
    assert len(table.rows) == len(next(s for s in open_.sections if s.key == "sales")
                                  .tables[0].rows)  # suppressed rows are kept, not dropped
    assert all(row[2].text == "suppressed" and row[2].cls == "sup" for row in table.rows)
    assert strict.suppressed_cells > 0
    assert sales.charts[0].spec is None  # nothing published -> empty state, not a chart
    # 5 vendors; the two largest make 2,200 of 2,710 EUR (81 %): the totals are published...
    assert strict.headline[0][1] == "9" and open_.headline[0][1] == "9"
    with Store.open(data_dir, read_only=True) as store:  # ... but not under an 80 % rule
        tighter = build_content(store, ReportOptions(rules=Rules(dominance_pct=80.0)))
    assert tighter.headline[0][1] == "suppressed" and tighter.headline[1][1] == "suppressed"


def test_published_figures_match_the_indicators(data_dir: Path) -> None:
    with Store.open(data_dir, read_only=True) as store:
        content = build_content(store, ReportOptions(rules=OPEN))
    sales = next(s for s in content.sections if s.key == "sales")
    by_market = {(r[0].text, r[1].text): (r[2].text, r[3].text) for r in sales.tables[1].rows}
    assert by_market[("alpha", "2020-01")] == ("4", "460")
    assert by_market[("beta", "2020-02")] == ("2", "1,200")
    spec = sales.charts[0].spec
    assert spec is not None
    values = {(v["month"], v["substance"]): v["revenue_eur"] for v in spec["data"]["values"]}
    assert values[("2020-01", "cocaine")] == 490.0 and values[("2020-02", "lsd")] == 1200.0


def test_empty_store_has_an_explanatory_page(tmp_path: Path) -> None:
    Store.open(tmp_path / "d").close()
    with Store.open(tmp_path / "d", read_only=True) as store:
        content = write_report(store, tmp_path / "e.html")
    html = (tmp_path / "e.html").read_text("utf-8")
    assert content.empty and not content.charts
    assert 'id="empty-state"' in html and "dnmwatch build" in html
    assert "vegaEmbed=" not in html.replace(" ", "")  # no library needed without charts
    assert "Provenance" in html


def test_render_is_deterministic_for_a_fixed_time(data_dir: Path) -> None:
    options = ReportOptions(rules=OPEN, generated_at=datetime(2024, 1, 1, 12, 0))
    with Store.open(data_dir, read_only=True) as store:
        first = render_html(build_content(store, options))
        second = render_html(build_content(store, options))
    assert first == second and "2024-01-01 12:00 UTC" in first


def test_chart_builders_skip_suppressed_rows() -> None:
    rows = [{"month": date(2020, 1, 1), "market": "a", "sales": 5, "suppressed": False},
            {"month": date(2020, 1, 1), "market": "b", "sales": None, "suppressed": True}]
    spec = charts.sales_by_market(rows)
    assert spec is not None and spec["data"]["values"] == [
        {"month": "2020-01", "market": "a", "sales": 5}]
    assert charts.sales_by_market(rows[1:]) is None


def test_report_command(data_dir: Path, tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # a second command keeps "report" a sub-command
    out = tmp_path / "cli.html"
    result = CliRunner().invoke(app, ["report", "-o", str(out), "--data-dir", str(data_dir),
                                      "--from", "2020-01-01", "--to", "2020-02-29",
                                      "--markets", "alpha", "--markets", "beta",
                                      "--event", "2020-02-01"])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and out.is_file()
    html = out.read_text("utf-8")
    assert "2020-01-01 to 2020-02-29; alpha, beta" in html
    entries = list(AuditLog.for_data_dir(data_dir).entries())
    assert entries[-1]["action"] == "report" and entries[-1]["details"]["file"] == "cli.html"
    assert entries[-1]["details"]["charts"] == 2  # only the vendor and listing counts
    bad = CliRunner().invoke(app, ["report", "-o", str(out), "--data-dir", str(data_dir),
                                   "--from", "March"])
    assert bad.exit_code != 0
