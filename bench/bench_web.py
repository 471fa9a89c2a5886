"""Dashboard page latency on a demo-like store (target: every page under 300 ms).

Builds a synthetic store shaped like ``dnmwatch demo --scale small`` (markets, vendors,
listings, crawls, extracted pages, rejections and ``--sales`` estimated sales over a year;
SQL-generated, seeded), or copies an existing store (``--data-dir``, e.g. a demo's
``DIR/data``: copied so the bench's accounts and audit entries never touch it). Then serves
the dashboard with uvicorn on 127.0.0.1, logs in as an analyst and a viewer, and times every
page (``--repeat`` requests each, server-side work and HTTP included, no browser rendering).

``--screenshot docs/dashboard.png`` also saves the overview as seen by headless Chromium
(Selenium + /usr/bin/chromedriver), for the README.

Run: ``.venv/bin/python bench/bench_web.py [--sales N] [--data-dir DIR] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _web_support import PASSWORDS, add_users, live_server, login
from dnmwatch.store import Store
from dnmwatch.web.app import PAGES, WebConfig

SUBSTANCES = [
    "cannabis",
    "cocaine",
    "amphetamine",
    "mdma",
    "heroin",
    "ketamine",
    "lsd",
    "alprazolam",
    "methamphetamine",
    "psilocybin",
]
CATEGORY = {
    "cannabis": "cannabis",
    "cocaine": "stimulants",
    "amphetamine": "stimulants",
    "mdma": "stimulants",
    "heroin": "opioids",
    "ketamine": "dissociatives",
    "lsd": "psychedelics",
    "alprazolam": "benzodiazepines",
    "methamphetamine": "stimulants",
    "psilocybin": "psychedelics",
}
COUNTRIES = ["DE", "NL", "GB", "US", "FR", "ES", "PL", "CA", "AU", "XX", "EU", "WW"]


def build(data_dir: Path, sales: int, markets: int = 3, vendors: int = 120) -> None:
    """A demo-like store: SQL-generated rows, deterministic (hash-based) values."""
    subs = "[" + ", ".join(f"'{s}'" for s in SUBSTANCES) + "]"
    cats = "[" + ", ".join(f"'{CATEGORY[s]}'" for s in SUBSTANCES) + "]"
    ctry = "[" + ", ".join(f"'{c}'" for c in COUNTRIES) + "]"
    with Store.open(data_dir) as store:
        x = store.execute
        x(f"""INSERT INTO markets SELECT 'market' || i, 'sim_table',
              TIMESTAMP '2019-01-01', TIMESTAMP '2019-12-31' FROM range({markets}) t(i)""")
        x(f"""INSERT INTO vendors (market, vendor_id, first_seen, last_seen, ships_from)
              SELECT 'market' || (i % {markets}), 'v' || i,
                     TIMESTAMP '2019-01-01' + INTERVAL (i % 90) DAY,
                     TIMESTAMP '2019-12-31' - INTERVAL (i % 60) DAY,
                     {ctry}[1 + i % {len(COUNTRIES)}]
              FROM range({vendors}) t(i)""")
        x(f"""INSERT INTO listings (market, listing_id, vendor_id, title, substance, category,
                                    first_seen, last_seen, last_price_eur)
              SELECT 'market' || (v % {markets}), 'L' || i, 'v' || v,
                     'listing ' || i, {subs}[1 + i % {len(SUBSTANCES)}],
                     {cats}[1 + i % {len(SUBSTANCES)}],
                     TIMESTAMP '2019-01-01' + INTERVAL (i % 200) DAY,
                     TIMESTAMP '2019-06-01' + INTERVAL (i % 200) DAY, 10 + i % 300
              FROM (SELECT i, i % {vendors} AS v FROM range({vendors * 3}) t(i))""")
        x(f"""INSERT INTO sales (market, listing_id, vendor_id, day, substance, category,
                                 ships_from, price_eur, mass_g, count)
              SELECT 'market' || (v % {markets}), 'L' || (v + {vendors} * (h % 3)), 'v' || v,
                     DATE '2019-01-01' + INTERVAL (h % 365) DAY,
                     {subs}[1 + (v + h) % {len(SUBSTANCES)}],
                     {cats}[1 + (v + h) % {len(SUBSTANCES)}],
                     {ctry}[1 + v % {len(COUNTRIES)}],
                     CASE WHEN h % 50 = 0 THEN NULL ELSE 5 + (h % 997) / 3.0 END,
                     CASE WHEN h % 3 = 0 THEN NULL ELSE 0.5 + (h % 20) END,
                     CASE WHEN h % 3 = 0 THEN 1 + h % 50 ELSE NULL END
              FROM (SELECT i, CAST(hash(i) % {vendors} AS BIGINT) AS v,
                           CAST(hash(i * 7919) % 1000000007 AS BIGINT) AS h
                    FROM range({sales}) t(i))""")
        x(f"""INSERT INTO crawls (crawl_id, market, started_at, finished_at, pages_ok,
                                  pages_failed, status, counters)
              SELECT 'c' || i, 'market' || (i % {markets}),
                     TIMESTAMP '2019-01-01' + INTERVAL (i * 7 // {markets}) DAY,
                     TIMESTAMP '2019-01-01' + INTERVAL (i * 7 // {markets}) DAY
                         + INTERVAL 2 HOUR,
                     200, i % 5, CASE WHEN i % 11 = 0 THEN 'failed' ELSE 'finished' END,
                     '{{"pages:ok": 200}}'
              FROM range({markets * 52}) t(i)""")
        x("""INSERT INTO pages (source, source_offset, market, crawl_id, url, captured_at,
                                page_type, adapter, records)
             SELECT 'c.warc.gz', i, 'market' || (i % 3), 'c' || (i % 150), NULL,
                    TIMESTAMP '2019-01-01' + INTERVAL (i % 365) DAY,
                    CASE WHEN i % 17 = 0 THEN 'unknown' ELSE 'listing' END, 'sim_table', 10
             FROM range(8000) t(i)""")
        x("""INSERT INTO rejections (stage, reason, market, recorded_at)
             SELECT 'extract', CASE WHEN i % 2 = 0 THEN 'layout:unknown' ELSE 'price:missing'
                    END, 'market' || (i % 3), TIMESTAMP '2019-01-01' + INTERVAL (i % 365) DAY
             FROM range(200) t(i)""")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sales", type=int, default=20_000, help="synthetic sales rows")
    parser.add_argument("--data-dir", type=Path, help="time an existing store (copied)")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--screenshot", type=Path, help="save the overview as a PNG")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        if args.data_dir:
            data.mkdir()
            shutil.copy2(args.data_dir / "dnmwatch.duckdb", data / "dnmwatch.duckdb")
        else:
            t0 = time.perf_counter()
            build(data, args.sales)
            print(
                f"built a demo-like store with {args.sales:,} sales "
                f"in {time.perf_counter() - t0:.1f} s"
            )
        add_users(data)
        with live_server(WebConfig(data)) as srv:
            print(f"{'page':<36}{'role':<9}{'median ms':>10}{'p95 ms':>9}{'max ms':>9}")
            worst = 0.0
            for role in ("analyst", "viewer"):
                with httpx.Client(base_url=srv.url, timeout=60) as client:
                    assert login(client, role).status_code == 303
                    paths = [p.path for p in PAGES if role == "analyst" or p.name != "crawls"]
                    paths += ["/trends?by=market", "/trends?by=origin&from=2019-03-01"]
                    if role == "analyst":  # the first vendor profile the vendors page links
                        found = re.search(
                            r'class="profile-link" href="([^"]+)"', client.get("/vendors").text
                        )
                        paths += [html.unescape(found.group(1))] if found else []
                    for path in paths:
                        client.get(path)  # warm-up
                        times = []
                        for _ in range(args.repeat):
                            t0 = time.perf_counter()
                            resp = client.get(path)
                            times.append((time.perf_counter() - t0) * 1000)
                            assert resp.status_code == 200, (path, resp.status_code)
                        times.sort()
                        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
                        worst = max(worst, times[-1])
                        print(
                            f"{path:<28}{role:<9}{statistics.median(times):>10.0f}"
                            f"{p95:>9.0f}{times[-1]:>9.0f}"
                        )
            print(f"slowest single request: {worst:.0f} ms (target < 300 ms)")
            if args.screenshot:
                shoot(srv.url, args.screenshot, Path(tmp))


def shoot(url: str, out: Path, tmp: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1280,1100",
        "--hide-scrollbars",
        f"--user-data-dir={tmp / 'profile'}",
    ):
        opts.add_argument(flag)
    driver = webdriver.Chrome(options=opts, service=Service("/usr/bin/chromedriver"))
    try:
        driver.get(f"{url}/login")
        driver.find_element(By.ID, "username").send_keys("analyst")
        driver.find_element(By.ID, "password").send_keys(PASSWORDS["analyst"])
        driver.find_element(By.ID, "login-submit").click()
        driver.get(f"{url}/trends")
        WebDriverWait(driver, 60).until(
            lambda d: d.execute_script(
                "return document.body.getAttribute('data-charts-done') === 'true'"
            )
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(out))
        print(f"screenshot: {out}")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
