"""The report's delivery and displacement sections: figures, disclosure, empty states, escaping,
and the charts in a real headless Chromium (skipped without it)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from _channels_store import build_channels_store
from _indicators_store import build_store
from dnmwatch.privacy.disclosure import Rules
from dnmwatch.report.build import ReportContent, ReportOptions, build_content
from dnmwatch.report.render import write_report
from dnmwatch.report.section import Section
from dnmwatch.store import Store
from test_report_browser import CHROMIUM, chromium, console_lines

OPEN = Rules(min_vendors=1, dominance_pct=100.0)
HOSTILE = '<img src=x onerror="alert(1)">'


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_channels_store(tmp_path_factory.mktemp("rch") / "s")


def content(path: Path, rules: Rules = OPEN, **kw: object) -> ReportContent:
    with Store.open(path, read_only=True) as store:
        return build_content(store, ReportOptions(rules=rules, **kw))  # type: ignore[arg-type]


def section(c: ReportContent, key: str) -> Section:
    return next(s for s in c.sections if s.key == key)


def texts(sec: Section, title_start: str) -> list[list[str]]:
    table = next(tb for tb in sec.tables if tb.title.startswith(title_start))
    return [[cell.text for cell in row] for row in table.rows]


def test_delivery_section_tables_and_charts(data_dir: Path) -> None:
    sec = section(content(data_dir), "delivery")
    assert sec.title == "Delivery methods"
    assert [c.key for c in sec.charts] == ["delivery-market", "delivery-country"]
    spec = sec.charts[0].spec
    assert spec is not None and spec["encoding"]["x"]["stack"] == "normalize"
    assert {(v["market"], v["method"], v["listings"]) for v in spec["data"]["values"]} == {
        ("dream", "express_courier", 1), ("dream", "post", 2), ("empire", "post", 2),
        ("shop:green", "in_person", 1), ("shop:green", "post", 1),
        ("tg:weedchat", "dead_drop", 3)}
    assert texts(sec, "Delivery methods by market")[:2] == [
        ["dream", "express_courier", "1", "33.3%", "1", "33.3%", "100", "55.6%"],
        ["dream", "post", "2", "66.7%", "2", "66.7%", "80", "44.4%"],
    ]
    assert texts(sec, "Delivery methods by ships-from country")[-1] == [
        "NL", "express_courier", "1", "100.0%", "1", "100.0%", "100", "100.0%"]
    assert ["channel", "dead_drop", "3", "100.0%", "0", "–", "0", "–"] in texts(
        sec, "Delivery methods by type of source")
    assert texts(sec, "Dead-drop") == [
        ["shop:green", "in_person", "Berlin", "1", "1", "0", "0"],
        ["tg:weedchat", "dead_drop", "Kreuzberg", "2", "1", "0", "0"],
        ["tg:weedchat", "dead_drop", "Neukölln", "1", "1", "0", "0"],
    ]


def test_displacement_section_names_destinations_and_products(data_dir: Path) -> None:
    sec = section(content(data_dir), "displacement")
    assert sec.title == "Where trade moved after closures" and not sec.charts
    rows = texts(sec, "Vendors of closed markets")
    assert [r[4:] for r in rows] == [
        ["any other source", "–", "2", "1", "50.0%"],
        ["no other source", "–", "2", "–", "50.0%"],
        ["any channel", "–", "1", "0", "25.0%"],
        ["any marketplace", "–", "1", "1", "25.0%"],
        ["any shop", "–", "1", "1", "25.0%"],
        ["tg:weedchat", "channel", "1", "0", "25.0%"],
        ["empire", "marketplace", "1", "1", "25.0%"],
        ["shop:green", "shop", "1", "1", "25.0%"],
    ]
    assert {tuple(r[:4]) for r in rows} == {("dream", "2020-03-01", "62", "4")}
    assert texts(sec, "Listings and sales by substance")[:3] == [
        ["dream", "cannabis", "channel", "1", "2", "25.0%", "40.0%", "0", "0", "0", "0"],
        ["dream", "cannabis", "marketplace", "3", "1", "75.0%", "20.0%", "2", "0", "80", "0"],
        ["dream", "cannabis", "shop", "0", "2", "0.0%", "40.0%", "0", "1", "0", "60"],
    ]


def test_default_rules_protect_vendors_shops_and_areas(data_dir: Path) -> None:
    strict = content(data_dir, Rules())
    disp = section(strict, "displacement")
    rows = texts(disp, "Vendors of closed markets")
    assert [r[4] for r in rows] == ["any other source", "no other source", "any channel",
                                    "any marketplace", "any shop"]  # no shop or channel named
    assert all(r[6:] == ["suppressed"] * 3 for r in rows)
    assert "3 smaller destination(s)" in disp.tables[0].note
    shift = texts(disp, "Listings and sales by substance")
    assert shift[1][3:] == ["3", "1", "75.0%", "20.0%", "suppressed", "0", "suppressed", "0"]
    assert shift[2][7:] == ["0", "suppressed", "0", "suppressed"]  # only the side with sales
    deliv = section(strict, "delivery")
    by_market = texts(deliv, "Delivery methods by market")
    assert by_market[0] == ["dream", "express_courier", "1", "33.3%"] + ["suppressed"] * 4
    assert [r[2] for r in texts(deliv, "Dead-drop")] == [
        "1 other area(s) with fewer than 5 vendors each",
        "2 other area(s) with fewer than 5 vendors each"]  # no dealer's map in the report
    assert all(r[5:] == ["suppressed", "suppressed"] for r in texts(deliv, "Dead-drop"))
    assert strict.suppressed_cells > 0
    spec = deliv.charts[0].spec  # listing counts are entity counts: the chart keeps them
    assert spec is not None and len(spec["data"]["values"]) == 6


def test_sections_are_empty_safe(tmp_path: Path) -> None:
    old = content(build_store(tmp_path / "old"))  # no delivery classified; beta closed
    deliv = section(old, "delivery")
    assert deliv.intro.startswith("No delivery method is known")
    assert not deliv.charts and not deliv.tables
    assert section(old, "displacement").tables  # the marketplaces' closure is still shown
    no_closure = content(build_channels_store(tmp_path / "open", closure=False))
    disp = section(no_closure, "displacement")
    assert disp.intro.startswith("No marketplace closed") and not disp.tables
    assert section(no_closure, "delivery").tables
    outside = content(build_channels_store(tmp_path / "scoped"), window_days=30,
                      displacement_days=30)
    assert "30 days" in section(outside, "displacement").tables[0].title


def test_market_content_is_escaped_in_the_new_sections(tmp_path: Path) -> None:
    path = build_channels_store(tmp_path / "h")
    with Store.open(path) as store:
        store.execute("UPDATE listings SET delivery_area = ? WHERE listing_id = 'T1'", [HOSTILE])
        store.execute("UPDATE listings SET ships_from = ? WHERE listing_id = 'T2'", [HOSTILE])
    with Store.open(path, read_only=True) as store:
        write_report(store, tmp_path / "r.html", ReportOptions(rules=OPEN))
    html = (tmp_path / "r.html").read_text("utf-8")
    assert HOSTILE not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    specs = re.findall(r'<script type="application/json" id="spec-(delivery-[a-z]+)">(.*?)'
                       r"</script>", html, re.S)
    assert [k for k, _ in specs] == ["delivery-market", "delivery-country"]
    for _, spec in specs:
        assert "<" not in spec
        json.loads(spec)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed")
def test_new_charts_render_in_chromium(data_dir: Path, tmp_path: Path) -> None:
    page = tmp_path / "channels.html"
    with Store.open(data_dir, read_only=True) as store:
        shown = write_report(store, page, ReportOptions(rules=OPEN))
    run = chromium(tmp_path, page, "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    body = re.search(r"<body data-charts=[^>]*>", run.stdout)
    assert body is not None and 'data-charts-done="true"' in body.group(0)
    assert "data-js-errors" not in body.group(0)
    assert console_lines(run.stderr) == []
    for key in ("chart-delivery-market", "chart-delivery-country"):
        start = run.stdout.index(f'id="{key}"')
        box = run.stdout[start:run.stdout.find("</figure>", start)]
        assert 'data-rendered="true"' in run.stdout[start - 300:start + 300] and "<svg" in box
    rendered = re.findall(r'<div class="chart[^"]*" id="chart-[a-z-]+"[^>]*data-rendered="true"',
                          run.stdout)
    assert len(rendered) == len(shown.charts)  # every chart of the page, the new ones included
