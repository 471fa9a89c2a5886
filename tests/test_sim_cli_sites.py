"""``dnmwatch sim serve --shop MARKET:VENDOR --forum MARKET``: sites beside the markets.

A real process on 127.0.0.1 (as ``test_cli.py`` drives ``sim serve``): the shop and the forum
answer on their own ports, the markets' control URL moves their clock too (the shop opens
with its account), and SIGTERM stops everything. Option errors are one message.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from _sim_helpers import stop_process
from dnmwatch.cli import main
from dnmwatch.demo_sources import choose_shop
from dnmwatch.errors import SimulationError
from dnmwatch.sim.cli import site_specs
from dnmwatch.sim.generate import generate_world
from dnmwatch.sim.model import World, preset
from dnmwatch.sim.server import ForumSpec, ShopSpec


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(preset("tiny"))


def test_site_options_become_specs_and_errors_are_one_message(world: World) -> None:
    shop = choose_shop(world)
    specs = site_specs(world, [f"{shop.market}:{shop.vendor}"], ["gidra"])
    assert specs == [ShopSpec(shop.market, shop.vendor),
                     ForumSpec("gidra", name="forum-gidra", seed=world.config.seed)]
    with pytest.raises(SimulationError) as caught:
        site_specs(world, ["gidra", "gidra:nobody"], ["nowhere", "bazaar", "bazaar"])
    message = str(caught.value)
    for part in ("--shop 'gidra': expected MARKET:VENDOR", "no vendor 'nobody'",
                 "--forum 'nowhere'", "two sites named 'forum-bazaar'"):
        assert part in message


def test_serve_rejects_bad_site_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "serve", "--scale", "tiny", "--shop", "gidra:nobody"]) == 1
    assert "no vendor 'nobody' on market 'gidra'" in capsys.readouterr().err


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""
    except urllib.error.URLError as exc:
        assert isinstance(exc.reason, ConnectionRefusedError), exc
        return 0, b""


def test_sim_serve_serves_a_shop_and_a_forum_on_the_markets_clock(world: World) -> None:
    # A gidra account that joined after silkway's takedown; `sim serve --shop` names the shop
    # after the account (the demo gives it a brand name instead).
    chosen = choose_shop(world)
    shop = ShopSpec(chosen.market, chosen.vendor)
    join = next(v["join_day"] for v in world.table("vendors").to_pylist()
                if (v["market"], v["vendor_handle"]) == (shop.market, shop.vendor))
    opens = (join - world.config.start).days
    proc = subprocess.Popen(
        [sys.executable, "-m", "dnmwatch", "sim", "serve", "--scale", "tiny",
         "--day", str(opens - 1), "--shop", f"{shop.market}:{shop.vendor}",
         "--forum", shop.market],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    try:
        assert proc.stdout is not None
        seen = ""
        while "serving" not in seen:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else "server exited"
            seen += line
        sites = dict(re.findall(r"^  ([\w-]+) \(.*\): (http://127\.0\.0\.1:\d+)$", seen, re.M))
        control = re.search(r"(http://127\.0\.0\.1:\d+)/clock", seen)
        assert set(sites) == {shop.site, f"forum-{shop.market}"} and control is not None
        assert f"{shop.site} (shop, day {opens} -> stays up, refused now)" in seen
        status, body = _get(sites[f"forum-{shop.market}"] + "/")
        assert status == 200 and b"<html" in body.lower()
        assert _get(sites[shop.site] + "/")[0] == 0  # the account has not joined yet
        put = urllib.request.Request(control.group(1) + "/clock", method="PUT",
                                     data=json.dumps({"day": opens}).encode(),
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(put, timeout=10).close()
        status, body = _get(sites[shop.site] + "/")
        assert status == 200 and shop.vendor.encode() in body
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        stop_process(proc)
