"""Keyed pseudonyms for vendor handles, and the key file they depend on.

Why keyed: a plain hash of a handle can be reversed by hashing every handle seen on a market; an
HMAC-SHA256 with a secret 256-bit key cannot, while the same handle still maps to the same id on
every page, snapshot and market (so vendors can be followed and linked). Handles are normalised
(Unicode case-folded, surrounding white space stripped) first, because markets display the same
account as "DrugLord " on one page and "druglord" on another.

The key lives in a file created on first use with mode 0600 (owner read/write only); its place
comes from ``privacy.key_file`` in the settings, which must be outside the data directory so
that a copy of the store never carries the key. The privacy stage hardens key handling later
(rotation, one key per release, audit log); this module keeps the API small so that it can.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import stat
from pathlib import Path

from dnmwatch.errors import ConfigError

KEY_BYTES = 32
"""256-bit keys, as recommended for HMAC-SHA256."""
ID_PREFIX = "v_"
ID_HEX_CHARS = 16
PSEUDONYM = re.compile(r"^v_[0-9a-f]{16}$")
"""What every vendor id looks like; used to check that no clear handle slips into a record."""


def normalise_handle(handle: str) -> str:
    """The form a handle is hashed in: case-folded and stripped of surrounding white space."""
    return handle.strip().casefold()


class Pseudonymizer:
    """Turns vendor handles into stable keyed ids (``v_`` + 16 hex characters).

    64 bits of HMAC output make a collision between two of a million vendors about one in
    36 million: negligible against the other errors of the method, and short enough to read.
    """

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < KEY_BYTES:
            raise ConfigError(f"a pseudonym key needs at least {KEY_BYTES} bytes")
        self._key = bytes(key)

    def vendor_id(self, handle: str) -> str:
        """The pseudonym of ``handle``. Raises ``ValueError`` for a handle that is empty."""
        norm = normalise_handle(handle)
        if not norm:
            raise ValueError("an empty vendor handle has no pseudonym")
        digest = hmac.new(self._key, norm.encode("utf-8", "surrogatepass"), hashlib.sha256)
        return ID_PREFIX + digest.hexdigest()[:ID_HEX_CHARS]

    def __repr__(self) -> str:
        return "Pseudonymizer(key=<hidden>)"


def _read_key(path: Path) -> bytes:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"pseudonym key file {path} is readable by others; "
                          f"run: chmod 600 {path}")
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ConfigError(f"pseudonym key file {path} does not hold a hex key") from None
    if len(key) < KEY_BYTES:
        raise ConfigError(f"pseudonym key file {path} holds a key shorter than "
                          f"{KEY_BYTES * 8} bits")
    return key


def load_or_create_key(path: Path) -> bytes:
    """The key in ``path``, created (64 hex characters, mode 0600) if the file does not exist.

    Creation uses ``O_EXCL`` so that two processes starting at once cannot both write a key
    (the loser reads the winner's). An existing file readable by group or others is refused.
    """
    path = Path(path).expanduser()
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ConfigError(f"cannot read pseudonym key file {path}: {exc.strerror}") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    except OSError as exc:
        raise ConfigError(f"cannot create pseudonym key file {path}: {exc.strerror}") from None
    key = os.urandom(KEY_BYTES)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(key.hex() + "\n")
    return key
