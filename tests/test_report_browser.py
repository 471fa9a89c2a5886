"""The report in a real browser: Debian's headless Chromium renders every chart, logs nothing,
and keeps its layout (screenshot checked by size and non-blank regions, not pixel by pixel).

Needs ``/usr/bin/chromium`` (``apt-get install -y chromium``, done by the CI setup); skipped
with a reason when absent. The browser runs with networking features off and a fresh profile;
the page itself forbids any request (Content-Security-Policy), and a violation would be
recorded on the page and fail the test.
"""

from __future__ import annotations

import re
import subprocess
from datetime import date
from pathlib import Path

import pytest

from _indicators_store import build_store
from dnmwatch.privacy.disclosure import Rules
from dnmwatch.report.build import ReportOptions
from dnmwatch.report.render import write_report
from dnmwatch.store import Store

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian chromium not installed (apt-get install -y chromium)"
)
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
    "--disable-extensions", "--mute-audio", "--virtual-time-budget=20000",
]
WIDTH, HEIGHT = 1280, 2400


def chromium(tmp: Path, page: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    cmd = [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr",
           "--v=0", *extra, page.resolve().as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def console_lines(stderr: str) -> list[str]:
    """Console messages of the page (Chromium logs them as ``CONSOLE`` lines on stderr)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line and "file://" in line]


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("browser")
    full = build_store(tmp / "full")
    Store.open(tmp / "empty").close()
    out = {}
    with Store.open(full, read_only=True) as store:
        out["full"] = tmp / "full.html"
        write_report(store, out["full"], ReportOptions(
            rules=Rules(min_vendors=1, dominance_pct=100.0), event_day=date(2020, 2, 1)))
    with Store.open(tmp / "empty", read_only=True) as store:
        out["empty"] = tmp / "empty.html"
        write_report(store, out["empty"])
    return out


def test_every_chart_renders_without_console_errors(reports: dict[str, Path],
                                                    tmp_path: Path) -> None:
    run = chromium(tmp_path, reports["full"], "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout
    body = re.search(r"<body data-charts=[^>]*>", dom)  # (the inlined bundle holds "<body>")
    assert body is not None
    assert 'data-charts-done="true"' in body.group(0), "render script did not finish"
    assert "data-js-errors" not in body.group(0), re.findall(
        r'<pre id="js-errors"[^>]*>(.*?)</pre>', dom, re.S)
    assert console_lines(run.stderr) == []
    expected = int(re.search(r'data-charts="(\d+)"', body.group(0)).group(1))  # type: ignore[union-attr]
    assert expected == 9
    containers = re.findall(r'<div class="chart[^"]*" id="(chart-[a-z-]+)"[^>]*>', dom)
    rendered = re.findall(r'<div class="chart[^"]*" id="chart-[a-z-]+"[^>]*data-rendered="true"',
                          dom)
    assert len(containers) == expected and len(rendered) == expected
    for key in containers:  # each container holds an SVG drawn by Vega
        start = dom.index(f'id="{key}"')
        nxt = dom.find('class="chart', start + 10)
        assert "<svg" in dom[start: nxt if nxt > 0 else len(dom)], key


def test_empty_store_page_renders_its_empty_state(reports: dict[str, Path],
                                                  tmp_path: Path) -> None:
    run = chromium(tmp_path, reports["empty"], "--dump-dom")
    assert run.returncode == 0
    assert 'id="empty-state"' in run.stdout and "<svg" not in run.stdout
    assert 'data-charts-done="true"' in run.stdout
    assert console_lines(run.stderr) == []


def _bands(png: Path, band: int = 100) -> tuple[tuple[int, int], list[float]]:
    """Image size and, per horizontal band, the share of pixels that are not near-white."""
    from PIL import Image

    with Image.open(png) as img:
        grey = img.convert("L")
        w, h = grey.size
        data = grey.tobytes()
    shares = []
    for top in range(0, h, band):
        rows = data[top * w: min(top + band, h) * w]
        ink = len(rows) - sum(rows.count(v) for v in range(240, 256))
        shares.append(ink / len(rows))
    return (w, h), shares


def test_screenshot_layout(reports: dict[str, Path], tmp_path: Path) -> None:
    full, empty = tmp_path / "full.png", tmp_path / "empty.png"
    for page, shot in ((reports["full"], full), (reports["empty"], empty)):
        run = chromium(tmp_path, page, f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={shot}")
        assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    size, bands = _bands(full)
    assert size == (WIDTH, HEIGHT)
    assert bands[0] > 0.9  # the coloured header spans the top of the page
    assert sum(1 for b in bands if b > 0.01) >= 0.8 * len(bands)  # content all the way down
    charty = [b for b in bands[4:] if b > 0.03]  # bars and areas of the charts
    assert len(charty) >= 5
    esize, ebands = _bands(empty)
    assert esize == (WIDTH, HEIGHT) and ebands[0] > 0.9
    assert sum(ebands) < sum(bands)  # the empty state is lighter than a page of charts
