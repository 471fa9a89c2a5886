"""Reading our WARC files back: member by member, with verification and crash recovery.

``warcio check`` misses truncated gzip members (warcio issue #138) and accepts some invalid
files (#127), so every closed file is verified here by walking its gzip members one at a time:
each member must decompress to its end, hold exactly one record, carry the mandatory fields, a
``Content-Length`` equal to its block, the closing CRLFs and matching digests.

:func:`recover` handles the one damage a crash can do to a file we were writing: a torn last
record. The good prefix is kept, the torn bytes are moved aside (``*.torn``), the file is sealed.
"""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

OPEN_SUFFIX = ".open"
SEALED_SUFFIX = ".warc.gz"
TORN_SUFFIX = ".torn"
MANDATORY = ("WARC-Record-ID", "Content-Length", "WARC-Date", "WARC-Type")
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Member:
    """One gzip member: its byte range and content, or why it could not be read."""

    offset: int
    end: int
    data: bytes | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class WarcRecord:
    offset: int
    headers: dict[str, str]
    block: bytes

    def get(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def type(self) -> str:
        return self.headers.get("warc-type", "")

    @property
    def record_id(self) -> str:
        return self.headers.get("warc-record-id", "")


@dataclass(slots=True)
class VerifyReport:
    path: Path
    records: int = 0
    good_end: int = 0
    """Byte offset just past the last member that read back cleanly."""
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def iter_members(fh: BinaryIO) -> Iterator[Member]:
    """Yield each gzip member of ``fh`` in order; a torn or corrupt member is yielded with an
    ``error`` and ends the walk (nothing after it can be trusted)."""
    pos = 0
    buf = fh.read(_CHUNK)
    while buf:
        start = pos
        inflater = zlib.decompressobj(wbits=31)
        parts: list[bytes] = []
        while True:
            try:
                parts.append(inflater.decompress(buf))
            except zlib.error as exc:
                yield Member(start, start, None, f"corrupt gzip member at {start}: {exc}")
                return
            if inflater.eof:
                used = len(buf) - len(inflater.unused_data)
                pos += used
                buf = inflater.unused_data or fh.read(_CHUNK)
                break
            pos += len(buf)
            buf = fh.read(_CHUNK)
            if not buf:
                yield Member(start, start, None, f"truncated gzip member at {start}")
                return
        yield Member(start, pos, b"".join(parts))


def parse_record(member: Member) -> tuple[WarcRecord | None, list[str]]:
    """The record held by one member, and every problem with it."""
    data = member.data or b""
    head, sep, rest = data.partition(b"\r\n\r\n")
    where = f"record at {member.offset}"
    if not sep or not head.startswith((b"WARC/1.1\r\n", b"WARC/1.0\r\n")):
        return None, [f"{where}: no WARC header"]
    headers: dict[str, str] = {}
    for line in head.split(b"\r\n")[1:]:
        name, colon, value = line.decode("utf-8", errors="replace").partition(":")
        if not colon:
            return None, [f"{where}: bad header line"]
        headers.setdefault(name.strip().lower(), value.strip())
    problems = [f"{where}: missing {f}" for f in MANDATORY if f.lower() not in headers]
    try:
        length = int(headers.get("content-length", "-1"))
    except ValueError:
        length = -1
    if length < 0 or len(rest) != length + 4 or not rest.endswith(b"\r\n\r\n"):
        problems.append(f"{where}: Content-Length does not match the block (or >1 record)")
        return None, problems
    block = rest[:length]
    record = WarcRecord(member.offset, headers, block)
    problems += _digest_problems(record, where)
    return record, problems


def _sha1(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")  # noqa: S324


def _digest_problems(record: WarcRecord, where: str) -> list[str]:
    problems: list[str] = []
    if record.type in ("request", "response") and not record.get("WARC-Target-URI"):
        problems.append(f"{where}: missing WARC-Target-URI")
    block_digest = record.get("WARC-Block-Digest")
    if block_digest and block_digest.startswith("sha1:") and _sha1(record.block) != block_digest:
        problems.append(f"{where}: block digest mismatch")
    payload_digest = record.get("WARC-Payload-Digest")
    if payload_digest and payload_digest.startswith("sha1:"):
        _head, sep, payload = record.block.partition(b"\r\n\r\n")
        if sep and _sha1(payload) != payload_digest:
            problems.append(f"{where}: payload digest mismatch")
    return problems


def iter_records(path: Path) -> Iterator[WarcRecord]:
    """The readable records of a WARC file (stops at the first unreadable member)."""
    with path.open("rb") as fh:
        for member in iter_members(fh):
            if member.error is not None:
                return
            record, _problems = parse_record(member)
            if record is not None:
                yield record


def verify(path: Path) -> VerifyReport:
    """Read ``path`` back member by member; see the module docstring for what is checked."""
    report = VerifyReport(path)
    with path.open("rb") as fh:
        for member in iter_members(fh):
            if member.error is not None:
                report.errors.append(member.error)
                break
            record, problems = parse_record(member)
            if problems:
                report.errors.extend(problems)
                break
            assert record is not None
            if report.records == 0 and record.type != "warcinfo":
                report.errors.append("first record is not warcinfo")
                break
            report.records += 1
            report.good_end = member.end
    if report.records == 0 and not report.errors:
        report.errors.append("file holds no record")
    return report


@dataclass(frozen=True, slots=True)
class Recovered:
    sealed: Path | None
    """The sealed file, or ``None`` when nothing readable was left (the file is removed)."""
    records: int
    cut_bytes: int
    quarantine: Path | None


def recover(path: Path) -> Recovered:
    """Make an ``.open`` file left by a crash safe: keep the clean prefix, move the torn tail to
    ``<name>.torn``, seal the rest (drop ``.open``). Never appends to the file."""
    report = verify(path)
    size = path.stat().st_size
    cut = size - report.good_end
    quarantine: Path | None = None
    if cut:
        quarantine = path.with_name(path.name.removesuffix(OPEN_SUFFIX) + TORN_SUFFIX)
        with path.open("rb") as src:
            src.seek(report.good_end)
            quarantine.write_bytes(src.read())
        with path.open("r+b") as fh:
            fh.truncate(report.good_end)
            fh.flush()
            os.fsync(fh.fileno())
    if report.records == 0:
        path.unlink()
        return Recovered(None, 0, cut, quarantine)
    sealed = path.with_name(path.name.removesuffix(OPEN_SUFFIX))
    os.replace(path, sealed)
    return Recovered(sealed, report.records, cut, quarantine)


def parse_http_response(block: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body of an ``application/http;msgtype=response`` block."""
    head, _sep, body = block.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    headers = [(k.strip(), v.strip()) for k, _c, v in (ln.partition(":") for ln in lines[1:])]
    return status, headers, body
