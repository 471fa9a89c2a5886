"""The operator at the terminal: ``dnmwatch crawl`` run under a pseudo-terminal meets the
simulator's text CAPTCHA, shows it, and goes on once a person answers it, or once a person
pastes the session cookie and User-Agent of a browser that passed the gate.

The test plays the person: it reads the challenge from what the command prints, as a person
would from the screen, and types. The crawl runs in a child process whose controlling terminal
is the pty (so hidden input goes through ``/dev/tty`` as in real use); the simulator runs here.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from _collect_config import write_config
from dnmwatch.sim.server import GatePlan, ServerOptions, SimServer
from dnmwatch.sim.server.testworld import handmade_world
from dnmwatch.store import Store

MARKET = "bazaar"  # the "cards" engine
_ANSI = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|[()][A-Z0-9]|[=>])")
_CHALLENGE = re.compile(r"Type the letters shown: ([A-Z0-9]{5})")
# The child takes the pty as its controlling terminal (it is a session leader: setsid), then
# runs the real console entry point.
_WRAP = ("import fcntl, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
         "from dnmwatch.cli import main; sys.exit(main(sys.argv[1:]))")
BROWSER_UA = "Mozilla/5.0 (operator's Tor Browser; test) Gecko/20100101 Firefox/128.0"


class Terminal:
    """A child process on a pseudo-terminal, read and typed into like a person would."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        master, slave = os.openpty()
        env = {**os.environ, "COLUMNS": "200", "LINES": "50", "TERM": "xterm"}
        self.proc = subprocess.Popen([sys.executable, "-c", _WRAP, *args], cwd=cwd, env=env,
                                     stdin=slave, stdout=slave, stderr=slave,
                                     start_new_session=True)
        os.close(slave)
        self.master = master
        self.screen = ""
        self._read_to = 0

    def _pump(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not data:
            return False
        self.screen += _ANSI.sub("", data.decode("utf-8", errors="replace")).replace("\r", "")
        return True

    def expect(self, *patterns: str, timeout: float = 60.0) -> tuple[int, re.Match[str]] | None:
        """Wait for the first of ``patterns`` in new output; ``None`` when the child ends."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, pattern in enumerate(patterns):
                found = re.compile(pattern).search(self.screen, self._read_to)
                if found:
                    self._read_to = found.end()
                    return i, found
            if not self._pump(0.2) and self.proc.poll() is not None:
                return None
        raise AssertionError(f"timed out waiting for {patterns}; screen:\n{self.screen[-2000:]}")

    def type(self, text: str) -> None:
        os.write(self.master, text.encode() + b"\r")

    def finish(self, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while self._pump(0.2) and time.monotonic() < deadline:
            if self.proc.poll() is not None and not select.select([self.master], [], [], 0)[0]:
                break
        code = self.proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        os.close(self.master)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def _crawl_in_terminal(tmp_path: Path, base: str) -> Terminal:
    args = ["crawl", MARKET, "--config", str(write_config(tmp_path, base, MARKET, "sim-cards", 5)),
            "--data-dir", str(tmp_path / "data")]
    return Terminal(args, tmp_path)


def _crawl_row(tmp_path: Path) -> tuple[str, int, str]:
    with Store.open(tmp_path / "data", read_only=True) as store:
        rows = store.fetchall("SELECT status, pages_ok, counters FROM crawls")
    assert len(rows) == 1
    status, pages_ok, counters = rows[0]
    return str(status), int(pages_ok), str(counters)


def test_operator_answers_the_captcha_at_the_prompt(tmp_path: Path) -> None:
    options = ServerOptions(gates=GatePlan(captcha_every=25))
    with SimServer(handmade_world(), day=15, options=options) as sim:
        term = _crawl_in_terminal(tmp_path, sim.urls[MARKET])
        answered: list[str] = []
        try:
            while term.expect(r"Answer \(empty: paste") is not None:
                challenges = _CHALLENGE.findall(term.screen)
                assert challenges, term.screen[-1500:]
                answered.append(challenges[-1])
                term.type(challenges[-1])
            code = term.finish()
        finally:
            term.kill()
        posts = [r for r in sim.requests if r.method == "POST" and r.path.startswith("/captcha")]
    assert code == 0, term.screen[-2000:]
    assert len(answered) >= 2 and len(posts) == len(answered)
    assert "gate:captcha at http://127.0.0.1:" in term.screen
    status, pages_ok, counters = _crawl_row(tmp_path)
    assert status == "finished" and pages_ok == 60
    assert '"solved:gate:captcha": ' + str(len(answered)) in counters


def _solve_in_browser(base: str) -> str:
    """What the operator does in Tor Browser: open the gate, read, answer; returns the
    session cookie the browser holds afterwards."""
    ask = urllib.request.Request(base + "/captcha?next=%2F", headers={"User-Agent": BROWSER_UA})
    with urllib.request.urlopen(ask, timeout=10) as resp:
        cookie = str(resp.headers["Set-Cookie"]).split(";", 1)[0]
        found = _CHALLENGE.search(re.sub(r"<[^>]*>", "", resp.read().decode()))
    assert found and cookie.startswith(f"{MARKET}_sid=")
    answer = urllib.request.Request(
        base + "/captcha", data=urllib.parse.urlencode({"answer": found.group(1),
                                                        "next": "/"}).encode(),
        headers={"User-Agent": BROWSER_UA, "Cookie": cookie})
    with urllib.request.urlopen(answer, timeout=10) as resp:
        assert resp.status == 200
    return cookie


def test_operator_pastes_cookie_and_user_agent(tmp_path: Path) -> None:
    options = ServerOptions(gates=GatePlan(captcha_every=40))
    with SimServer(handmade_world(), day=15, options=options) as sim:
        base = sim.urls[MARKET]
        term = _crawl_in_terminal(tmp_path, base)
        pasted: list[str] = []
        try:
            while term.expect(r"Answer \(empty: paste") is not None:
                term.type("")
                assert term.expect(r"Paste the session cookie .*\(empty to pause\)")
                cookie = _solve_in_browser(base)
                pasted.append(cookie.split("=", 1)[1])
                term.type(cookie)
                assert term.expect(r"User-Agent \(empty: keep")
                term.type(BROWSER_UA)
            code = term.finish()
        finally:
            term.kill()
        sessions = [r.session for r in sim.requests]
    assert code == 0, term.screen[-2000:]
    assert pasted and all(sid not in term.screen for sid in pasted)  # hidden input
    # The crawler went on inside the operator's session, which the simulator only honours
    # with the browser's User-Agent.
    assert sessions.count(pasted[0]) >= 10
    status, pages_ok, _ = _crawl_row(tmp_path)
    assert status == "finished" and pages_ok == 60
