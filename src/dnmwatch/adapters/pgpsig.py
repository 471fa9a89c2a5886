"""The signer's fingerprint of an armoured PGP signature (clear-signed forum posts).

Why: vendors on forums sign their price lists rather than post their key each time. Since
GnuPG 2.2 every v4 signature carries the *issuer fingerprint* subpacket (type 33; RFC 9580
5.2.3.35) with the signer's full fingerprint, so a signed post names its signer's key and links
it to the same vendor's market accounts, with no keyring and no gpg process. Older signatures
carry only the 64-bit issuer key id (type 16), which is too short to link on: ``None``.
Nothing is verified (no key is at hand): this identifies the claimed signer, as a key block
does.
"""

from __future__ import annotations

import base64
import binascii
import re

_BLOCK = re.compile(r"-----BEGIN PGP SIGNATURE-----(.*?)-----END PGP SIGNATURE-----", re.DOTALL)
_MAX_BLOCKS = 16


def _armour_data(block: str) -> bytes | None:
    lines = [ln.strip() for ln in block.splitlines() if ln.strip()]
    data = []
    for ln in lines:
        if ":" in ln:
            continue  # an armour header ("Version: ...")
        if ln.startswith("=") and len(ln) <= 6:
            break  # the CRC-24 line
        data.append(ln)
    text = "".join(data)
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _packet(data: bytes) -> tuple[int, bytes] | None:
    """Tag and body of the first packet (old or new format, definite lengths only)."""
    if len(data) < 2 or not data[0] & 0x80:
        return None
    first = data[0]
    if first & 0x40:
        tag, o1 = first & 0x3F, data[1]
        if o1 < 192:
            length, at = o1, 2
        elif o1 < 224 and len(data) > 2:
            length, at = ((o1 - 192) << 8) + data[2] + 192, 3
        elif o1 == 255:
            length, at = int.from_bytes(data[2:6], "big"), 6
        else:
            return None
    else:
        tag, size = (first >> 2) & 0x0F, {0: 1, 1: 2, 2: 4}.get(first & 0x03)
        if size is None:
            return None
        length, at = int.from_bytes(data[1:1 + size], "big"), 1 + size
    body = data[at:at + length]
    return (tag, body) if len(body) == length else None


def _subpackets(area: bytes) -> list[tuple[int, bytes]]:
    out, at = [], 0
    while at < len(area):
        o1 = area[at]
        if o1 < 192:
            length, at = o1, at + 1
        elif o1 < 255:
            if at + 1 >= len(area):
                break
            length, at = ((o1 - 192) << 8) + area[at + 1] + 192, at + 2
        else:
            length, at = int.from_bytes(area[at + 1:at + 5], "big"), at + 5
        if length < 1 or at + length > len(area):
            break
        out.append((area[at] & 0x7F, area[at + 1:at + length]))
        at += length
    return out


def issuer_fingerprint(data: bytes) -> str | None:
    """The issuer fingerprint (upper-case hex) of a binary v4 signature packet, else ``None``."""
    found = _packet(data)
    if found is None or found[0] != 2:
        return None
    body = found[1]
    if len(body) < 6 or body[0] != 4:
        return None
    hashed_len = int.from_bytes(body[4:6], "big")
    hashed = body[6:6 + hashed_len]
    rest = body[6 + hashed_len:]
    unhashed = rest[2:2 + int.from_bytes(rest[:2], "big")] if len(rest) >= 2 else b""
    for kind, value in (*_subpackets(hashed), *_subpackets(unhashed)):
        if kind == 33 and len(value) == 21 and value[0] == 4:
            return value[1:].hex().upper()
    return None


def signature_fingerprint(text: str | None) -> str | None:
    """The signer's fingerprint of the first readable armoured signature in ``text``."""
    for n, found in enumerate(_BLOCK.finditer(text or "")):
        if n >= _MAX_BLOCKS:
            break
        data = _armour_data(found.group(1))
        fpr = issuer_fingerprint(data) if data else None
        if fpr:
            return fpr
    return None
