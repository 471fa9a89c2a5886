"""The dashboard end to end in Debian's headless Chromium (Selenium + /usr/bin/chromedriver).

Log in, open every page, use a filter (partial update), see every chart render as SVG with no
console message, no script error and no CSP violation, log out; a viewer meets the role
restrictions; hostile listing titles show as text and never run. Skipped with a reason when
Chromium or its driver is absent (CI installs ``chromium`` and ``chromium-driver``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _channels_store import build_channels_store
from _web_support import PASSWORDS, add_users, build_web_store, live_server
from dnmwatch.web.app import PAGES, WebConfig

CHROMIUM = Path("/usr/bin/chromium")
DRIVER = Path("/usr/bin/chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and DRIVER.exists()) or shutil.which("chromedriver") is None,
    reason="Debian chromium and chromium-driver not installed (apt-get install -y chromium "
    "chromium-driver)",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = build_web_store(tmp_path_factory.mktemp("webui") / "data")
    add_users(data)
    with live_server(WebConfig(data)) as srv:
        yield srv.url


@pytest.fixture()
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,1000",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service(str(DRIVER)))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver: Any, condition: Any, timeout: float = 30) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def login(driver: Any, url: str, user: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{url}/login")
    driver.find_element(By.ID, "username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(PASSWORDS[user])
    driver.find_element(By.ID, "login-submit").click()
    wait_for(driver, lambda d: d.find_elements(By.ID, "whoami"))


def charts_ok(driver: Any) -> None:
    """Every chart on the page rendered to SVG; no script error or CSP violation."""
    wait_for(
        driver,
        lambda d: d.execute_script(
            "return document.body.getAttribute('data-charts-done') === 'true'"
        ),
    )
    state = driver.execute_script("""
        const boxes = [...document.querySelectorAll('[data-chart]')];
        return {errors: document.body.getAttribute('data-js-errors'),
                text: (document.getElementById('js-errors') || {}).textContent,
                charts: boxes.length,
                rendered: boxes.filter(b => b.getAttribute('data-rendered') === 'true'
                                            && b.querySelector('svg')).length};""")
    assert state["errors"] is None, state["text"]
    assert state["rendered"] == state["charts"], state


def console(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser")]


def test_analyst_session_end_to_end(server: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    login(browser, server, "admin")
    total_charts = 0
    for page in PAGES:
        browser.get(server + page.path)
        assert browser.find_element(By.TAG_NAME, "h1").text == page.label
        charts_ok(browser)
        total_charts += len(browser.find_elements(By.CSS_SELECTOR, "[data-chart] svg"))
    assert total_charts >= 8
    # a filter: the breakdown changes the region in place (no full page load)
    browser.get(server + "/trends")
    charts_ok(browser)
    browser.execute_script("window.__same_page = true;")
    Select(browser.find_element(By.ID, "f-by")).select_by_value("market")
    wait_for(browser, lambda d: "by market and month" in d.find_element(By.ID, "content").text)
    charts_ok(browser)
    assert browser.execute_script("return window.__same_page === true")
    assert "by=market" in browser.current_url
    assert browser.find_elements(By.CSS_SELECTOR, "#chart-trend-market svg")
    # hostile titles on a vendor profile are text, never markup
    browser.get(server + "/vendors/alpha/v1")
    charts_ok(browser)
    cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#content td")]
    assert "<script>alert(1)</script>" in cells and "<img src=x onerror=alert(1)>" in cells
    injected = browser.execute_script(
        "return document.querySelectorAll('#content td img, #content td script, "
        "#content td iframe, #content td a[href^=javascript]').length"
    )
    assert injected == 0
    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        _ = browser.switch_to.alert.text
    assert console(browser) == []
    browser.find_element(By.ID, "logout").click()
    wait_for(browser, lambda d: d.find_elements(By.ID, "login-form"))
    browser.get(server + "/trends")
    assert browser.find_elements(By.ID, "login-form")  # logged out for real


def test_viewer_restrictions_in_the_browser(server: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    login(browser, server, "viewer")
    nav = [a.get_attribute("id") for a in browser.find_elements(By.CSS_SELECTOR, "nav a")]
    assert "nav-crawls" not in nav and "nav-audit" not in nav and "nav-trends" in nav
    browser.get(server + "/vendors")
    charts_ok(browser)
    assert not browser.find_elements(By.CSS_SELECTOR, "a.profile-link")
    browser.get(server + "/trends?market=alpha")
    charts_ok(browser)
    assert not browser.find_elements(By.ID, "export")
    assert "suppressed" in browser.find_element(By.ID, "content").text
    assert console(browser) == []
    browser.get(server + "/vendors/alpha/v1")
    assert "forbidden" in browser.find_element(By.TAG_NAME, "body").text


def test_channels_page_charts_render_under_the_csp(
    tmp_path_factory: pytest.TempPathFactory, browser: Any
) -> None:
    """The delivery charts of the report render on the dashboard (the web store above has no
    delivery data, so the channels page shows its empty sentences there)."""
    from selenium.webdriver.common.by import By

    data = build_channels_store(tmp_path_factory.mktemp("webchannels") / "data")
    add_users(data)
    with live_server(WebConfig(data)) as srv:
        login(browser, srv.url, "viewer")
        browser.get(srv.url + "/channels")
        charts_ok(browser)
        assert len(browser.find_elements(By.CSS_SELECTOR, "[data-chart] svg")) == 2
        assert browser.find_elements(By.CSS_SELECTOR, "#section-displacement table")
        assert console(browser) == []
