"""WARC writer, verifier and crash recovery, including broken and truncated files."""

from __future__ import annotations

import base64
import gzip
import hashlib
from datetime import UTC, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from dnmwatch.collect.exchange import REDACTED, Exchange
from dnmwatch.collect.warc import WarcWriter
from dnmwatch.collect.warc_read import (
    OPEN_SUFFIX,
    iter_records,
    parse_http_response,
    recover,
    verify,
)

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _exchange(n: int, body: bytes = b"", truncated: str | None = None) -> Exchange:
    body = body or f"<html><body>page {n}</body></html>".encode()
    return Exchange(
        url=f"http://abc.onion/p/{n}", method="GET", request_target=f"/p/{n}",
        request_headers=(("Host", "abc.onion"), ("Cookie", "sid=SECRET")),
        status=200, reason="OK",
        response_headers=(("Content-Type", "text/html; charset=utf-8"),
                          ("Content-Encoding", "gzip"), ("Set-Cookie", "sid=SECRET2; Path=/")),
        body=body, started_at=T0, truncated=truncated)  # type: ignore[arg-type]


def _writer(tmp_path: Path, max_bytes: int = 1 << 30) -> WarcWriter:
    return WarcWriter(tmp_path, "crawl1", info={"dnmwatch-market": "abc",
                                                "dnmwatch-crawl-id": "crawl1"},
                      max_bytes=max_bytes, clock=lambda: T0)


def _b32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def test_records_fields_digests_and_warcio_reads_them(tmp_path: Path) -> None:
    w = _writer(tmp_path)
    written = w.write(_exchange(1), record_id="<urn:uuid:00000000-0000-0000-0000-000000000001>")
    w.write(_exchange(2, truncated="length"))
    sealed = w.close()
    assert sealed is not None and sealed.name == "crawl1-00000.warc.gz"
    assert written.path == sealed
    assert not list(tmp_path.glob(f"*{OPEN_SUFFIX}"))
    report = verify(sealed)
    assert report.ok and report.records == 5

    raw = sealed.read_bytes()
    assert b"SECRET" not in gzip.decompress(raw)
    info = gzip.decompress(raw).split(b"WARC/1.1")[1]
    assert b"abc.onion" not in info and b"dnmwatch-crawl-id: crawl1" in info

    with sealed.open("rb") as fh:
        recs = list(ArchiveIterator(fh, check_digests=True))
        types = [r.rec_type for r in recs]
    assert types == ["warcinfo", "response", "request", "response", "request"]

    ours = list(iter_records(sealed))
    resp = ours[1]
    assert resp.record_id == "<urn:uuid:00000000-0000-0000-0000-000000000001>"
    for name in ("WARC-Record-ID", "Content-Length", "WARC-Date", "WARC-Type",
                 "WARC-Target-URI", "WARC-Payload-Digest", "WARC-Block-Digest"):
        assert resp.get(name), name
    status, headers, body = parse_http_response(resp.block)
    assert status == 200 and body == b"<html><body>page 1</body></html>"
    assert resp.get("WARC-Payload-Digest") == _b32(body)
    assert ("X-Archive-Orig-Content-Encoding", "gzip") in headers
    assert ("Content-Length", str(len(body))) in headers
    assert ("Set-Cookie", f"sid={REDACTED}") in headers
    assert ours[2].get("WARC-Concurrent-To") == resp.record_id
    assert ours[3].get("WARC-Truncated") == "length"
    assert resp.get("WARC-Truncated") is None


def test_rotation_at_size(tmp_path: Path) -> None:
    w = _writer(tmp_path, max_bytes=2000)
    big = bytes(range(256)) * 20  # incompressible enough
    for n in range(6):
        w.write(_exchange(n, body=big))
    w.close()
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) >= 3
    assert all(verify(p).ok for p in files)
    uris = [r.get("WARC-Target-URI") for p in files for r in iter_records(p)
            if r.type == "response"]
    assert uris == [f"http://abc.onion/p/{n}" for n in range(6)]


def _open_file_with_torn_tail(tmp_path: Path, cut: int) -> tuple[Path, int]:
    w = _writer(tmp_path)
    for n in range(3):
        w.write(_exchange(n))
    assert w.current is not None
    path = w.current
    good = path.stat().st_size
    w.write(_exchange(99))
    data = path.read_bytes()
    path.write_bytes(data[: good + cut])  # a crash mid-write of the last exchange
    return path, good


def test_verify_detects_truncated_member_and_recover_cuts_it(tmp_path: Path) -> None:
    path, good = _open_file_with_torn_tail(tmp_path, cut=40)
    report = verify(path)
    assert not report.ok and "truncated gzip member" in report.errors[0]
    assert report.good_end == good
    result = recover(path)
    assert result.sealed is not None and result.cut_bytes == 40 and result.records == 7
    assert result.quarantine is not None and result.quarantine.stat().st_size == 40
    assert verify(result.sealed).ok
    assert not path.exists()


def test_recover_keeps_clean_file_whole(tmp_path: Path) -> None:
    path, _good = _open_file_with_torn_tail(tmp_path, cut=0)
    result = recover(path)
    assert result.cut_bytes == 0 and result.quarantine is None and result.records == 7


def test_verify_detects_corruption_and_bad_records(tmp_path: Path) -> None:
    w = _writer(tmp_path)
    w.write(_exchange(1))
    sealed = w.close()
    assert sealed is not None
    data = bytearray(sealed.read_bytes())
    data[len(data) // 2] ^= 0xFF
    broken = tmp_path / "broken.warc.gz"
    broken.write_bytes(bytes(data))
    assert not verify(broken).ok

    wrong_length = tmp_path / "len.warc.gz"
    wrong_length.write_bytes(gzip.compress(
        b"WARC/1.1\r\nWARC-Type: warcinfo\r\nWARC-Record-ID: <urn:x>\r\n"
        b"WARC-Date: 2024-01-01T00:00:00Z\r\nContent-Length: 99\r\n\r\nabc\r\n\r\n"))
    assert "Content-Length" in verify(wrong_length).errors[0]

    missing = tmp_path / "missing.warc.gz"
    missing.write_bytes(gzip.compress(
        b"WARC/1.1\r\nWARC-Type: warcinfo\r\nContent-Length: 3\r\n\r\nabc\r\n\r\n"))
    errors = verify(missing).errors
    assert any("WARC-Record-ID" in e for e in errors) and any("WARC-Date" in e for e in errors)

    two_in_one = tmp_path / "two.warc.gz"
    rec = (b"WARC/1.1\r\nWARC-Type: warcinfo\r\nWARC-Record-ID: <urn:x>\r\n"
           b"WARC-Date: 2024-01-01T00:00:00Z\r\nContent-Length: 3\r\n\r\nabc\r\n\r\n")
    two_in_one.write_bytes(gzip.compress(rec + rec))
    assert not verify(two_in_one).ok

    tampered = tmp_path / "tampered.warc.gz"
    members = gzip.decompress(sealed.read_bytes()).replace(b"page 1", b"page 7")
    tampered.write_bytes(gzip.compress(members))
    assert not verify(tampered).ok

    empty = tmp_path / "empty.warc.gz"
    empty.write_bytes(b"")
    assert verify(empty).errors == ["file holds no record"]
