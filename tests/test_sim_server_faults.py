"""Faults, market lifecycle, the control endpoint and the loopback guard, over real sockets."""

from __future__ import annotations

import hashlib
import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from dnmwatch.errors import SimulationError
from dnmwatch.sim.server import FAULT_KINDS, FaultPlan, ServerOptions, SimServer
from dnmwatch.sim.server.testworld import LATE_LISTING_DAY, handmade_world, late_listing

LISTING = "/listing/si1000"


@dataclass
class FakeTimer:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@contextmanager
def serve(faults: FaultPlan | None = None, day: int = 15,
          timer: FakeTimer | None = None) -> Iterator[SimServer]:
    options = ServerOptions(faults=faults or FaultPlan(), timer=timer or FakeTimer())
    with SimServer(handmade_world(), day=day, options=options) as sim:
        yield sim


def fetch(url: str, timeout: float = 10) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def outcome(url: str, timeout: float = 10) -> str:
    """What a client experiences, as a short label."""
    try:
        status, body = fetch(url, timeout)
    except http.client.IncompleteRead:
        return "truncated"
    except (urllib.error.URLError, ConnectionError, http.client.HTTPException, TimeoutError) as \
            exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, ConnectionRefusedError):
            return "refused"
        if isinstance(reason, TimeoutError):
            return "timeout"
        return "dropped"
    return f"{status}:{hashlib.sha256(body).hexdigest()[:12]}"


def test_5xx_fault() -> None:
    with serve(FaultPlan(error_5xx=1.0)) as sim:
        statuses = {fetch(sim.urls["silkway"] + "/listing/si1000")[0] for _ in range(12)}
        assert statuses <= {500, 502, 503} and len(statuses) >= 2


def test_timeout_fault_holds_past_client_timeout() -> None:
    with serve(FaultPlan(hold_s=5)) as sim:
        sim.force_fault("^/listing/", "timeout", market="silkway")
        started = time.monotonic()
        assert outcome(sim.urls["silkway"] + "/listing/si1000", timeout=0.5) == "timeout"
        assert time.monotonic() - started < 3
        assert fetch(sim.urls["silkway"] + "/listing/si1000")[0] == 200, "forced once only"
        assert [r.fault for r in sim.requests] == ["timeout", None]


def test_dropped_connection_fault() -> None:
    with serve() as sim:
        sim.force_fault("greenleaf", "drop", times=1)
        assert outcome(sim.urls["bazaar"] + "/u/greenleaf") == "dropped"
        assert outcome(sim.urls["gidra"] + "/?r=shop&id=greenleaf") == "dropped"
        assert fetch(sim.urls["gidra"] + "/?r=shop&id=greenleaf")[0] == 200
        assert [(r.status, r.fault) for r in sim.requests] == [(0, "drop"), (0, "drop"),
                                                               (200, None)]


def test_truncated_body_is_detected_by_the_client() -> None:
    with serve() as sim:
        sim.force_fault("^/listing/", "truncate", market="silkway")
        assert outcome(sim.urls["silkway"] + LISTING) == "truncated"
        assert fetch(sim.urls["silkway"] + LISTING)[0] == 200


def test_slow_response_trickles_the_whole_body() -> None:
    with serve(FaultPlan(slow_s=1.0)) as sim:
        clean = fetch(sim.urls["silkway"] + LISTING)
        sim.force_fault("^/listing/", "slow", market="silkway")
        started = time.monotonic()
        slow = fetch(sim.urls["silkway"] + LISTING)
        assert time.monotonic() - started >= 0.9
        assert slow == clean


def test_malformed_html_variants() -> None:
    with serve() as sim:
        url = sim.urls["silkway"] + LISTING
        clean = fetch(url)[1]
        sim.force_fault("^/listing/", "malformed", market="silkway", times=12)
        bodies = [fetch(url) for _ in range(12)]
    assert all(status == 200 for status, _ in bodies)
    kinds = set()
    for _, body in bodies:
        assert body != clean
        if clean.startswith(body):
            kinds.add("cut")
        elif b"\xff\xfe" in body:
            kinds.add("garbage")
        else:
            assert body.count(b"</td>") < clean.count(b"</td>")
            kinds.add("unclosed")
    assert len(kinds) >= 2


def test_downtime_windows_by_simulated_day_and_real_time() -> None:
    timer = FakeTimer()
    plan = FaultPlan(downtime_days=((14, 16),), downtime_real_s=((100.0, 200.0),))
    with serve(plan, day=15, timer=timer) as sim:
        url = sim.urls["silkway"]
        assert fetch(url)[0] == 503
        sim.clock.set_day(16)
        assert fetch(url)[0] == 200
        timer.now += 150
        assert fetch(url)[0] == 503
        timer.now += 100
        assert fetch(url)[0] == 200
        assert [r.fault for r in sim.requests] == ["downtime", None, "downtime", None]


def test_fault_decisions_are_reproducible_by_seed() -> None:
    plan = FaultPlan(seed=11, error_5xx=0.1, timeout=0.1, drop=0.1, truncate=0.1, slow=0.1,
                     malformed=0.1)
    draws = [plan.draw("silkway", seq) for seq in range(400)]
    twin = FaultPlan(seed=11, error_5xx=0.1, timeout=0.1, drop=0.1, truncate=0.1, slow=0.1,
                     malformed=0.1)
    assert draws == [twin.draw("silkway", seq) for seq in range(400)]
    kinds = {d.kind for d in draws if d is not None}
    assert kinds == set(FAULT_KINDS)
    other = [FaultPlan(seed=12, error_5xx=0.1).draw("silkway", seq) for seq in range(400)]
    assert other != draws
    # over HTTP: the same seed and request sequence give the same experience
    http_plan = FaultPlan(seed=5, error_5xx=0.2, malformed=0.2, truncate=0.1, drop=0.1)
    runs = []
    for _ in range(2):
        with serve(http_plan) as sim:
            runs.append([outcome(sim.urls["silkway"] + LISTING) for _ in range(25)])
    assert runs[0] == runs[1]
    assert len(set(runs[0])) >= 3


def test_takedown_shows_seizure_banner_on_every_path() -> None:
    with serve(day=19) as sim:
        assert b"SEIZED" not in fetch(sim.urls["silkway"] + "/category/cannabis")[1]
        sim.clock.set_day(20)
        for path in ("", "category/cannabis", "listing/si1000", "login", "nope"):
            status, body = fetch(sim.urls["silkway"] + "/" + path)
            assert status == 200 and b"THIS HIDDEN SITE HAS BEEN SEIZED" in body


def test_exit_scam_and_prelaunch_refuse_connections() -> None:
    with serve(day=29) as sim:
        bazaar = sim.urls["bazaar"]
        assert fetch(bazaar)[0] == 200
        sim.clock.set_day(30)
        assert outcome(bazaar) == "refused"
        sim.clock.set_day(2)
        assert outcome(sim.urls["gidra"]) == "refused"
        assert fetch(bazaar)[0] == 200, "moving the clock back reopens the market"
        sim.clock.set_day(3)
        assert fetch(sim.urls["gidra"])[0] == 200


def _control(sim: SimServer, method: str, body: object | None = None) -> tuple[int, dict[
        str, object]]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(sim.control_url + "/clock", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_control_endpoint_moves_the_clock() -> None:
    with serve(day=LATE_LISTING_DAY - 1) as sim:
        url = sim.urls["silkway"] + "/listing/" + late_listing("silkway")
        assert _control(sim, "GET")[1]["day"] == LATE_LISTING_DAY - 1
        assert fetch(url)[0] == 404
        status, state = _control(sim, "PUT", {"day": LATE_LISTING_DAY})
        assert status == 200 and state["day"] == LATE_LISTING_DAY
        assert fetch(url)[0] == 200
        status, state = _control(sim, "PUT", {"date": "2020-01-05"})
        assert (status, state["day"], sim.clock.day) == (200, 4, 4)
        assert _control(sim, "PUT", {"day": 400})[0] == 400
        assert _control(sim, "PUT", {"week": 1})[0] == 400
        _control(sim, "PUT", {"day": 31})
        assert outcome(sim.urls["bazaar"]) == "refused"
        with urllib.request.urlopen(sim.control_url + "/markets", timeout=10) as resp:
            states = json.loads(resp.read())
        assert {k: v["state"] for k, v in states.items()} == {
            "bazaar": "exited", "gidra": "up", "silkway": "seized"}


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.1", "::1", "example.org", "::"])
def test_refuses_non_loopback_hosts(host: str) -> None:
    with pytest.raises(SimulationError):
        SimServer(handmade_world(), host=host)


def test_other_loopback_address_and_fixed_ports() -> None:
    with SimServer(handmade_world(), host="127.0.0.1", base_port=0) as sim:
        assert all(u.startswith("http://127.0.0.1:") for u in sim.urls.values())
        assert len(set(sim.urls.values())) == 3 and sim.control_url not in sim.urls.values()


def test_serve_forever_runs_until_sigterm() -> None:
    import os
    import signal
    import threading

    from dnmwatch.sim.server import serve_forever

    seen: dict[str, int] = {}

    def on_ready(sim: SimServer) -> None:
        seen.update({m: fetch(u + "/")[0] for m, u in sim.urls.items()})
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()

    before = signal.getsignal(signal.SIGTERM)
    serve_forever(handmade_world(), day=15, on_ready=on_ready)
    assert seen == {"bazaar": 200, "gidra": 200, "silkway": 200}
    assert signal.getsignal(signal.SIGTERM) == before
