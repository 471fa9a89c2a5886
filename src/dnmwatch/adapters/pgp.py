"""PGP fingerprints of the armoured public keys that vendor pages show.

Why compute rather than read: Dream, Cryptonia, Empire and Apollon show a vendor's key only as an
ASCII-armoured block, never its fingerprint, yet the fingerprint is what links one vendor across
markets and handles. A version-4 fingerprint is the SHA-1 of ``0x99``, the two-byte length and
the body of the primary key packet (RFC 4880, 12.2), so it is computed here from the first
packet of the block with the standard library alone; no keyring, no gpg process.

Pages mangle armour: white space collapsed by the template, header lines ("Version: ...") run
into the base64, the CRC line glued on. :func:`key_fingerprint` therefore tries each plausible
start of the base64 and accepts the first that decodes to a public-key packet. Keys it cannot
read (v3 keys, damaged blocks) give ``None``; a fingerprint printed on the page is the fallback
(:func:`dnmwatch.adapters.fields.fingerprint`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from dnmwatch.adapters.fields import fingerprint

_BLOCK = re.compile(r"-----BEGIN PGP PUBLIC KEY BLOCK-----(.*?)"
                    r"(?:-----END PGP PUBLIC KEY BLOCK-----|$)", re.DOTALL)
_B64_TOKEN = re.compile(r"^[A-Za-z0-9+/=]+$")
_MAX_TOKENS = 24
"""How many leading tokens may be armour headers before we give up looking for the base64."""


def _packet_body(data: bytes) -> bytes | None:
    """The body of the first OpenPGP packet if it is a public-key packet (tag 6), else None."""
    if len(data) < 3 or not data[0] & 0x80:
        return None
    first = data[0]
    if first & 0x40:  # new packet format
        tag, at = first & 0x3F, 1
        o1 = data[at]
        if o1 < 192:
            length, at = o1, at + 1
        elif o1 < 224:
            length, at = ((o1 - 192) << 8) + data[at + 1] + 192, at + 2
        elif o1 == 255:
            length, at = int.from_bytes(data[at + 1:at + 5], "big"), at + 5
        else:
            return None  # partial lengths are not used for key packets
    else:
        tag, kind = (first >> 2) & 0x0F, first & 0x03
        size = {0: 1, 1: 2, 2: 4}.get(kind)
        if size is None:
            return None
        length, at = int.from_bytes(data[1:1 + size], "big"), 1 + size
    body = data[at:at + length]
    if tag != 6 or len(body) != length or not body:
        return None
    return body


def _decode(tokens: list[str]) -> bytes | None:
    text = "".join(tokens)
    if "=" in text.rstrip("="):
        # A CRC line ("=AbCd") glued on after the padding: cut at the first '=' run end.
        text = text[:text.index("=")] + "=" * (-text.index("=") % 4)
    text = text.rstrip("=")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        # Trailing junk (a CRC run in): decode the longest prefix that is a multiple of 4.
        cut = len(text) - len(text) % 4
        try:
            return base64.b64decode(text[:cut - 4] if cut >= 4 else "", validate=True)
        except (binascii.Error, ValueError):
            return None


def key_fingerprint(text: str | None) -> str | None:
    """The upper-case hex v4 fingerprint of the first armoured public key in ``text``."""
    found = _BLOCK.search(text or "")
    if found is None:
        return None
    lines = [ln.strip() for ln in found.group(1).splitlines() if ln.strip()]
    # Drop armour headers when lines survived (with one line, the start search below skips
    # them); the CRC line ("=xxxx") ends the data.
    data_lines: list[str] = []
    for ln in lines:
        if ln.startswith("=") and len(ln) <= 6:
            break
        if ":" in ln and len(lines) > 1:
            continue
        data_lines.append(ln)
    tokens = [t for ln in data_lines for t in ln.split()]
    for start in range(min(len(tokens), _MAX_TOKENS)):
        if not _B64_TOKEN.match(tokens[start]):
            continue
        run = [t for t in tokens[start:] if _B64_TOKEN.match(t)]
        data = _decode(run)
        body = _packet_body(data) if data else None
        if body is not None and body[0] == 4:
            # SHA-1 is what RFC 4880 defines a v4 fingerprint as: an identifier, not security.
            digest = hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body,
                                  usedforsecurity=False)
            return digest.hexdigest().upper()
    return None


def fingerprint_on_page(*texts: str | None) -> str | None:
    """The fingerprint of an armoured key in any of ``texts``, else one printed in them."""
    for text in texts:
        computed = key_fingerprint(text)
        if computed:
            return computed
    for text in texts:
        shown = fingerprint(text)
        if shown:
            return shown
    return None
