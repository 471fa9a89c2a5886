"""The frontier: states, de-duplication, durability across SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from dnmwatch.collect.frontier import Frontier
from dnmwatch.collect.urls import normalise, on_hosts, resolve


def test_normalise_and_hosts() -> None:
    assert normalise("HTTP://Ab.Onion:80/x?b=1&a=2#frag") == "http://ab.onion/x?b=1&a=2"
    assert normalise("http://ab.onion") == "http://ab.onion/"
    assert normalise("http://127.0.0.1:8080/a") == "http://127.0.0.1:8080/a"
    assert on_hosts("http://ab.onion/x", ["ab.onion"])
    assert on_hosts("http://127.0.0.1:9/x", ["127.0.0.1:9"])
    assert not on_hosts("http://127.0.0.1:10/x", ["127.0.0.1:9"])
    assert not on_hosts("http://evil.onion/", ["ab.onion"])
    assert not on_hosts("ftp://ab.onion/", ["ab.onion"])
    assert resolve("http://ab.onion/a/b", "../c#x") == "http://ab.onion/c"
    assert resolve("http://ab.onion/", "javascript:alert(1)") is None
    assert resolve("http://ab.onion/", "mailto:x@y") is None


def test_states_dedup_and_recovery(tmp_path: Path) -> None:
    now = [1000.0]
    f = Frontier.open(tmp_path / "f.sqlite", clock=lambda: now[0])
    assert f.add(["http://a.onion/", "http://A.onion:80/#x", "http://a.onion/b"]) == 2
    first = f.claim()
    assert first is not None and first.url == "http://a.onion/" and first.attempts == 1
    assert first.record_id and first.record_id.startswith("<urn:uuid:")
    assert f.done(first, ["http://a.onion/b", "http://a.onion/c"], counts=["page:index"]) == 1
    second = f.claim()
    assert second is not None and second.url == "http://a.onion/b"
    f.requeue(second, "timeout", delay_s=5)
    third = f.claim()
    assert third is not None and third.url == "http://a.onion/c"
    assert f.claim() is None
    assert f.next_ready_in() == 5.0
    now[0] += 5
    again = f.claim()
    assert again is not None and again.url == "http://a.onion/b" and again.attempts == 2
    f.fail(again, "http_404", counts=["failed:http_404"])
    assert f.stats() == {"queued": 0, "in_flight": 1, "done": 1, "failed": 1}
    f.close()

    g = Frontier.open(tmp_path / "f.sqlite", clock=lambda: now[0])
    stale = g.recover()
    assert [e.url for e in stale] == ["http://a.onion/c"]
    assert stale[0].record_id == third.record_id
    assert g.stats() == {"queued": 1, "in_flight": 0, "done": 1, "failed": 1}
    assert g.get("http://a.onion/b") is not None
    failed = g.entries("failed")
    assert failed[0].reason == "http_404"
    assert g.counters() == {"failed:http_404": 1, "page:index": 1}
    resumed = g.claim()
    assert resumed is not None
    g.requeue(resumed, "gate:captcha", refund=True)
    back = g.get(resumed.url)
    assert back is not None and back.attempts == 1 and back.state == "queued"
    g.close()


_WORKER = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from dnmwatch.collect.frontier import Frontier

    path, log, limit = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    f = Frontier.open(path)
    f.recover()
    if not f.entries():
        f.add(["http://t.onion/0"])
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    while (e := f.claim()) is not None:
        n = int(e.url.rsplit("/", 1)[1])
        os.write(fd, f"{n}\\n".encode())
        os.fsync(fd)
        kids = [f"http://t.onion/{k}" for k in (2 * n + 1, 2 * n + 2) if k < limit]
        f.done(e, kids)
    print("finished", flush=True)
""")


def test_sigkill_and_resume_loses_nothing(tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    db, log, limit = tmp_path / "f.sqlite", tmp_path / "log.txt", 400
    kills = 0
    for round_no in range(30):
        proc = subprocess.Popen([sys.executable, str(script), str(db), str(log), str(limit)],
                                stdout=subprocess.PIPE, text=True)
        if round_no < 5:
            time.sleep(0.15 + 0.05 * round_no)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                kills += 1
        out, _ = proc.communicate(timeout=120)
        if "finished" in out:
            break
    assert kills >= 1
    f = Frontier.open(db)
    assert f.stats()["done"] == limit
    assert {int(e.url.rsplit("/", 1)[1]) for e in f.entries("done")} == set(range(limit))
    f.close()
    processed = [int(x) for x in log.read_text().split()]
    assert set(processed) == set(range(limit))
    # A kill can interrupt at most one in-flight URL (concurrency 1): at most one repeat each.
    assert len(processed) - limit <= kills
