"""The dashboard's "Channels & delivery" page over the hand-made channels store (issue 11).

The Starlette application served by a real uvicorn server on 127.0.0.1 (``_web_support``; the
login form, sessions and CSRF as in production; Starlette's ``TestClient`` is not used because
with ``httpx`` it raises a deprecation warning on Starlette 1.x). Checks that the page shows
the report's own delivery and displacement tables cell for cell, honours the date and
market filters, applies the viewer's disclosure control (areas and destinations with few
vendors unnamed, sales cells suppressed), escapes hostile delivery areas, says in a sentence
when there is no delivery data or no closure, and is linked from the navigation. Then the
``window`` option (days before / after a closure) and the CSV download of each table: the
cells a viewer sees, suppressed cells empty, audited, formula-like text neutralised.
"""

from __future__ import annotations

import csv
import html as htmllib
import io
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from markupsafe import escape

from _channels_store import build_channels_store
from _web_support import add_users, client_for, csrf_of, hostile_titles, live_server
from dnmwatch.estimate.indicators import Scope
from dnmwatch.privacy.audit import AuditLog
from dnmwatch.privacy.disclosure import Rules
from dnmwatch.privacy.export import escape_cell
from dnmwatch.report.build import ReportOptions, build_content
from dnmwatch.report.tables import Table
from dnmwatch.store import Store
from dnmwatch.web.app import WebConfig
from dnmwatch.web.pages import OPEN

NO_DELIVERY = "No delivery method is known for the listings in the selected scope"
NO_CLOSURE = "No marketplace closed in the selected scope"
FORMULA_AREA = "=cmd|' /C calc'!A0"
"""A dead-drop area a spreadsheet would run: listed by 5 vendors, so a viewer sees it named."""


def _hostile_areas() -> list[str]:
    """Hostile strings usable as one area (the indicator splits ``City: a, b`` into districts)."""
    return [v for v in hostile_titles() if ": " not in v and ", " not in v][:3]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = build_channels_store(tmp_path_factory.mktemp("channels") / "data")
    with Store.open(d) as store:
        store.insert_rows(
            "listings",
            [
                {
                    "market": "tg:weedchat",
                    "listing_id": f"H{i}",
                    "vendor_id": "v1",
                    "title": area,
                    "substance": "cannabis",
                    "category": "cannabis",
                    "ships_from": "DE",
                    "first_seen": datetime(2020, 3, 5, 12),
                    "last_seen": datetime(2020, 3, 6, 12),
                    "delivery_method": "dead_drop",
                    "delivery_area": area,
                }
                for i, area in enumerate(_hostile_areas())
            ]
            + [
                {
                    "market": "tg:weedchat",
                    "listing_id": f"F{i}",
                    "vendor_id": f"f{i}",
                    "title": f"F{i}",
                    "substance": "cannabis",
                    "category": "cannabis",
                    "ships_from": "DE",
                    "first_seen": datetime(2020, 3, 5, 12),
                    "last_seen": datetime(2020, 3, 6, 12),
                    "delivery_method": "dead_drop",
                    "delivery_area": FORMULA_AREA,
                }
                for i in range(5)
            ],
        )
    add_users(d)
    return d


@pytest.fixture(scope="module")
def server(data_dir: Path) -> Iterator[str]:
    with live_server(WebConfig(data_dir, warm_bundle=False)) as srv:
        yield srv.url


def _section(html: str, key: str) -> str:
    match = re.search(rf'<section class="channels" id="section-{key}">(.*?)</section>', html, re.S)
    assert match is not None, f"no section {key} on the page"
    return match.group(1)


def _row_html(cells: list[tuple[str, str]]) -> str:
    """A table row exactly as the dashboard's ``table`` macro writes it (escaped)."""
    tds = "".join(
        f'<td class="{cls}">{escape(text)}</td>' if cls else f"<td>{escape(text)}</td>"
        for text, cls in cells
    )
    return f"<tr>{tds}</tr>"


def _assert_same_tables(html: str, tables: list[Table]) -> None:
    assert tables
    for tb in tables:
        assert f"<h3>{escape(tb.title)}</h3>" in html, tb.title
        for row in tb.rows:
            assert _row_html([(c.text, c.cls) for c in row]) in html, (tb.title, row)


def _report_tables(
    data_dir: Path, rules: Rules, markets: tuple[str, ...] = ()
) -> dict[str, list[Table]]:
    """The report's delivery and displacement tables for ``rules`` and ``markets``."""
    opts = ReportOptions(scope=Scope(markets=markets), rules=rules)
    with Store.open(data_dir, read_only=True) as store:
        content = build_content(store, opts)
    return {s.key: s.tables for s in content.sections if s.key in ("delivery", "displacement")}


def test_nav_links_to_the_page_for_a_viewer(server: str, data_dir: Path) -> None:
    with client_for(server, "viewer") as c:
        home = c.get("/")
        assert home.status_code == 200
        assert '<a href="/channels" id="nav-channels"' in home.text
        assert "Channels &amp; delivery" in home.text
        page = c.get("/channels")
        assert page.status_code == 200
        assert "<h1>Channels &amp; delivery</h1>" in page.text
        assert 'id="nav-channels" class="current"' in page.text


def test_analyst_sees_the_report_figures(server: str, data_dir: Path) -> None:
    with client_for(server, "analyst") as c:
        html = c.get("/channels").text
    delivery, displacement = _section(html, "delivery"), _section(html, "displacement")
    expected = _report_tables(data_dir, OPEN)
    _assert_same_tables(delivery, expected["delivery"])
    _assert_same_tables(displacement, expected["displacement"])
    # the report's charts, as JSON specs the page's script renders
    assert 'id="spec-delivery-market"' in delivery and 'id="spec-delivery-country"' in delivery
    # by hand (tests/_channels_store.py): 2 of dream's 4 actors are seen elsewhere after the
    # closure (62 days observed, to 2020-05-01), 1 of them new there; the shop and empire are
    # named, and so is the channel's dead-drop area
    assert (
        _row_html(
            [
                ("dream", ""),
                ("2020-03-01", ""),
                ("62", "num"),
                ("4", "num"),
                ("any other source", ""),
                ("–", ""),
                ("2", "num"),
                ("1", "num"),
                ("50.0%", "num"),
            ]
        )
        in displacement
    )
    assert "<td>shop:green</td>" in displacement and "<td>empire</td>" in displacement
    assert "<td>Kreuzberg</td>" in delivery
    assert 'class="sup"' not in html  # analysts see cells unprotected


def test_hostile_delivery_areas_are_escaped(server: str, data_dir: Path) -> None:
    with client_for(server, "analyst") as c:
        html = c.get("/channels").text
    areas = _hostile_areas()
    assert areas
    for area in areas:
        assert f"<td>{escape(area)}</td>" in html
        assert area not in html


def test_viewer_gets_the_report_disclosure_control(server: str, data_dir: Path) -> None:
    with client_for(server, "viewer") as c:
        html = c.get("/channels").text
        adhoc = c.get("/channels?market=dream&market=tg:weedchat&market=shop:green").text
    delivery, displacement = _section(html, "delivery"), _section(html, "displacement")
    expected = _report_tables(data_dir, Rules(min_vendors=5, dominance_pct=85.0))
    _assert_same_tables(delivery, expected["delivery"])
    _assert_same_tables(displacement, expected["displacement"])
    assert "at least 5" in html and '<td class="sup">suppressed</td>' in delivery
    # one vendor per area and per destination: none is named
    assert "Kreuzberg" not in delivery and "other area(s) with fewer than 5 vendors" in delivery
    assert "<td>shop:green</td>" not in displacement and "<td>empire</td>" not in displacement
    for area in _hostile_areas():
        assert str(escape(area)) not in html
    # an ad-hoc slice: at least 10 vendors per cell
    assert "at least 10" in adhoc
    assert "other area(s) with fewer than 10 vendors" in _section(adhoc, "delivery")
    sliced = _report_tables(
        data_dir, Rules(min_vendors=10, dominance_pct=85.0), ("dream", "shop:green", "tg:weedchat")
    )
    _assert_same_tables(_section(adhoc, "delivery"), sliced["delivery"])
    _assert_same_tables(_section(adhoc, "displacement"), sliced["displacement"])


def test_filters_reach_the_indicators(server: str, data_dir: Path) -> None:
    with client_for(server, "analyst") as c:
        late = c.get("/channels?from=2021-01-01")
        empire = c.get("/channels", params=[("market", "empire")])
        part = c.get("/channels?to=2020-02-15", headers={"x-partial": "1"})
        bad = c.get("/channels?from=tomorrow")
    assert late.status_code == 200
    assert NO_DELIVERY in late.text and NO_CLOSURE in late.text
    assert NO_CLOSURE in _section(empire.text, "displacement")  # dream is outside the slice
    delivery = _section(empire.text, "delivery")
    assert "<td>empire</td>" in delivery and "<td>dream</td>" not in delivery
    assert part.status_code == 200 and "<html" not in part.text
    assert NO_CLOSURE in _section(part.text, "displacement")  # the closure is after the slice
    assert bad.status_code == 400


@pytest.mark.parametrize("kind", ["no closure", "empty store"])
def test_empty_states_are_explained(tmp_path: Path, kind: str) -> None:
    d = tmp_path / "data"
    if kind == "no closure":
        build_channels_store(d, closure=False)
    else:
        Store.open(d).close()
    add_users(d)
    with live_server(WebConfig(d, warm_bundle=False)) as srv, client_for(srv.url, "viewer") as c:
        resp = c.get("/channels")
    assert resp.status_code == 200
    assert NO_CLOSURE in _section(resp.text, "displacement")
    if kind == "empty store":
        assert NO_DELIVERY in _section(resp.text, "delivery")
        assert "data-chart" not in resp.text
    else:
        assert 'id="spec-delivery-market"' in resp.text


def _dream_row(days: int, at_close: int, moved: int, new: int, share: str) -> str:
    """The displacement row of dream's closure, 'any other source', on the analyst's page."""
    return _row_html(
        [
            ("dream", ""),
            ("2020-03-01", ""),
            (str(days), "num"),
            (str(at_close), "num"),
            ("any other source", ""),
            ("–", ""),
            (str(moved), "num"),
            (str(new), "num"),
            (share, "num"),
        ]
    )


def test_window_changes_the_displacement(server: str) -> None:
    with client_for(server, "analyst") as c:
        default = c.get("/channels").text
        week = c.get("/channels?window=7&market=dream&market=shop:green&market=tg:weedchat")
        month = c.get("/channels?window=30", headers={"x-partial": "1"})
    assert week.status_code == 200 and month.status_code == 200
    assert 'id="f-window" min="7" max="365" step="1" required value="90"' in default
    # by hand (tests/_channels_store.py), 7 days: dream's v3 (last seen 2020-02-20) is not
    # active before, so 3 actors at close (A1, v2, v4); after, A1 is on the channel (not new)
    # and v2 on the shop (new), empire's e1 (2020-03-10) is too late: 2 of 3, 1 new
    displacement = _section(week.text, "displacement")
    assert _dream_row(7, 3, 2, 1, "66.7%") in displacement
    assert "Vendors of closed markets, seen in the 7 days after the closure" in displacement
    assert "<td>empire</td>" not in displacement
    # 30 days: v3 is back, A1 reaches empire on day 9: as over 90 days, but 30 days observed
    assert _dream_row(30, 4, 2, 1, "50.0%") in _section(month.text, "displacement")
    assert "<td>empire</td>" in _section(month.text, "displacement")
    assert _dream_row(62, 4, 2, 1, "50.0%") in _section(default, "displacement")
    # the control keeps the other filters, and the download forms carry the window
    assert 'id="f-window" min="7" max="365" step="1" required value="7"' in week.text
    assert '<option value="dream" selected>' in week.text
    assert 'name="window" value="7"' in _section(week.text, "displacement")
    assert 'name="market" value="shop:green"' in _section(week.text, "delivery")


@pytest.mark.parametrize("window", ["6", "366", "abc", "9.5", "-10", "1e2", "٣٠", "9" * 5000])
def test_bad_window_is_refused(server: str, window: str) -> None:
    with client_for(server, "analyst") as c:
        page = c.get("/channels", params={"window": window})
        token = csrf_of(c.get("/channels").text)
        export = c.post(
            "/export", data={"csrf_token": token, "window": window, "table": "displacement-0"}
        )
    assert page.status_code == 400 and "window must be a whole number" in page.text
    assert export.status_code == 400


def _page_tables(html: str) -> dict[str, tuple[list[str], list[list[tuple[str, str]]]]]:
    """Each table of a page by title: header labels and rows of (text, class) cells."""
    out = {}
    for m in re.finditer(
        r'<h3>([^<]*)</h3>\n(?:<p class="note">[^<]*</p>\n?)?(<table>.*?</table>)', html, re.S
    ):
        head = [htmllib.unescape(h) for h in re.findall(r"<th>(.*?)</th>", m.group(2))]
        rows = [
            [
                (htmllib.unescape(text), cls)
                for cls, text in re.findall(r'<td(?: class="(\w+)")?>(.*?)</td>', tr)
            ]
            for tr in re.findall(r"<tr>(<td.*?)</tr>", m.group(2), re.S)
        ]
        out[htmllib.unescape(m.group(1))] = (head, rows)
    return out


def _exports(data_dir: Path) -> list[dict[str, object]]:
    return [e for e in AuditLog.for_data_dir(data_dir).entries() if e["action"] == "export"]


@pytest.mark.parametrize("query", ["", "?window=30&market=dream&market=tg:weedchat"])
def test_csv_downloads_are_the_viewer_cells(server: str, data_dir: Path, query: str) -> None:
    with client_for(server, "viewer") as c:
        viewer = c.get(f"/channels{query}").text
        assert 'id="download-' not in viewer  # viewers may not export (GRANTS["export"])
        assert (
            c.post(
                "/export", data={"csrf_token": csrf_of(viewer), "table": "delivery-0"}
            ).status_code
            == 403
        )
    shown = _page_tables(viewer)
    with client_for(server, "analyst") as c:
        page = c.get(f"/channels{query}").text
        keys = re.findall(
            r'<form class="export" method="post" action="/export" '
            r'id="export-([\w-]+)">',
            page,
        )
        assert keys == [
            "delivery-0",
            "delivery-1",
            "delivery-2",
            "delivery-3",
            "displacement-0",
            "displacement-1",
        ]
        form = re.findall(
            r'<input type="hidden" name="(\w+)" value="([^"]*)">',
            page.split('id="export-delivery-0">')[1].split("</form>")[0],
        )
        fields: dict[str, list[str]] = {}
        for name, value in form:
            fields.setdefault(name, []).append(value)
        assert fields["table"] == ["delivery-0"]
        before = len(_exports(data_dir))
        answers = {k: c.post("/export", data={**fields, "table": [k]}) for k in keys}
    entries = _exports(data_dir)[before:]
    assert len(entries) == len(keys) and AuditLog.for_data_dir(data_dir).verify().ok
    floor = 10 if query else 5  # an ad-hoc slice: at least 10 vendors per cell
    assert f"at least\n{floor} vendors per cell" in page
    for key, entry in zip(keys, entries, strict=True):
        resp = answers[key]
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
        assert f'filename="dnmwatch-channels-{key}.csv"' in resp.headers["content-disposition"]
        details = entry["details"]
        assert isinstance(details, dict) and entry["actor"] == "web:analyst"
        assert details["min_vendors"] == floor and details["window_days"] == (30 if query else 90)
        head, rows = shown[details["table"]]
        got = list(csv.reader(io.StringIO(resp.text)))
        assert got[0] == head and details["rows"] == len(rows) == len(got) - 1
        assert got[1:] == [
            [
                "" if cls == "sup" else text if cls == "num" else escape_cell(text)
                for text, cls in row
            ]
            for row in rows
        ]
        assert details["suppressed_cells"] == sum(cls == "sup" for r in rows for _, cls in r)
    sales = list(csv.reader(io.StringIO(answers["delivery-0"].text)))
    assert any(row[4] == "" for row in sales[1:])  # suppressed sales cells are empty
    areas = answers["delivery-3"].text
    assert "Kreuzberg" not in areas  # one vendor: pooled for a viewer, so in the CSV too
    if not query:
        # named for a viewer (5 vendors); the spreadsheet would read a formula: neutralised
        named = [row[2] for row in csv.reader(io.StringIO(areas))]
        assert f"'{FORMULA_AREA}" in named and FORMULA_AREA not in named


def test_unknown_table_is_refused(server: str, data_dir: Path) -> None:
    with client_for(server, "analyst") as c:
        token = csrf_of(c.get("/channels").text)
        before = len(_exports(data_dir))
        for key in ("delivery-9", "overview", "../trends"):
            resp = c.post("/export", data={"csrf_token": token, "table": key})
            assert resp.status_code == 400
        late = c.post(
            "/export", data={"csrf_token": token, "from": "2021-01-01", "table": "displacement-0"}
        )  # no closure in the slice
        assert late.status_code == 400
        assert c.post("/export", data={"table": "delivery-0"}).status_code == 403  # no CSRF
    assert len(_exports(data_dir)) == before
