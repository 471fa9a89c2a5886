"""The pseudonymisation key: creation, checks on load, per-export derivation, rotation.

Why each rule:

* **256-bit random key, HMAC-SHA256** — a plain hash of a handle is reversed by hashing every
  handle seen on a market; a keyed HMAC is not, and the same handle still maps to the same id.
* **Key file outside the data directory** — a copy of the store (or of an export) must never
  carry the key that links pseudonyms back to handles. :func:`init_key` refuses a path inside
  ``data_dir``; the settings model refuses such a ``privacy.key_file`` as well.
* **Mode 0600, parent 0700, refused when group/world can read it** — the key is as sensitive as
  the handles themselves (ssh does the same with private keys).
* **Never overwritten** — losing the key makes every existing pseudonym unreachable; rotation
  keeps the old key beside the new one (``<name>.old-YYYY-MM-DD``) for re-keying.
* **A derived key per export or partner** (HKDF-SHA256, RFC 5869, ``info = "export:<label>"``) —
  two releases use unrelated pseudonyms, so their rows cannot be joined vendor by vendor.

Handles are normalised before hashing (NFKC, case-folded, stripped): markets show one account as
"DrugLord " on one page and "ｄｒｕｇｌｏｒｄ" (full-width) on another. This is the
only implementation of pseudonyms in dnmwatch: :mod:`dnmwatch.pseudonym` re-exports it for the
adapters, and extraction and ``dnmwatch parse`` load their key through :class:`KeyStore`, which
never creates a key silently (``dnmwatch keys init`` does, once).
Every load, derivation, creation and rotation of a key is written to the audit log (never the key
itself; a short fingerprint identifies which key was used).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import stat
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnmwatch.errors import ConfigError
from dnmwatch.privacy.audit import AuditLog

if TYPE_CHECKING:
    from dnmwatch.settings import Settings

KEY_BYTES = 32
VENDOR_PREFIX = "v_"
EXPORT_PREFIX = "x_"
ID_HEX_CHARS = 16
PSEUDONYM = re.compile(r"^[a-z]_[0-9a-f]{16}$")
"""Any pseudonym (store ``v_`` or export ``x_``)."""
VENDOR_PSEUDONYM = re.compile(r"^v_[0-9a-f]{16}$")
"""What every vendor id in the store looks like; checks that no clear handle slips through."""
_HKDF_SALT = b"dnmwatch pseudonym key derivation v1"


class KeyFileError(ConfigError):
    """A key file is missing, unsafe, malformed or would be overwritten."""


def normalise_handle(handle: str) -> str:
    """NFKC, case-folded, surrounding white space stripped: the form a handle is hashed in."""
    return unicodedata.normalize("NFKC", handle).casefold().strip()


def fingerprint(key: bytes) -> str:
    """A short public name of a key (first 8 hex of SHA-256 of it), safe for logs."""
    return hashlib.sha256(b"dnmwatch key fingerprint" + key).hexdigest()[:8]


def hkdf_sha256(key: bytes, info: bytes, length: int = KEY_BYTES) -> bytes:
    """HKDF (RFC 5869) with SHA-256 and a fixed salt: one independent key per ``info``."""
    prk = hmac.new(_HKDF_SALT, key, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


class Pseudonymizer:
    """Stable keyed ids for vendor handles (``v_`` + 16 hex characters).

    Picklable, so that extraction can hand one to its worker processes.

    64 bits of HMAC output make a collision between two of a million vendors about one in
    36 million: negligible against the other errors of the method, and short enough to read.
    """

    __slots__ = ("_key", "_prefix")

    def __init__(self, key: bytes, *, prefix: str = VENDOR_PREFIX) -> None:
        if len(key) < KEY_BYTES:
            raise KeyFileError(f"a pseudonym key needs at least {KEY_BYTES} bytes")
        if not re.fullmatch(r"[a-z]_", prefix):
            raise ValueError("prefix is one lower-case letter and '_'")
        self._key = bytes(key)
        self._prefix = prefix

    @property
    def fingerprint(self) -> str:
        return fingerprint(self._key)

    def vendor_id(self, handle: str) -> str:
        """The pseudonym of ``handle``. Raises ``ValueError`` for an empty handle."""
        norm = normalise_handle(handle)
        if not norm:
            raise ValueError("an empty vendor handle has no pseudonym")
        digest = hmac.new(self._key, norm.encode("utf-8", "surrogatepass"), hashlib.sha256)
        return self._prefix + digest.hexdigest()[:ID_HEX_CHARS]

    def for_export(self, label: str) -> Pseudonymizer:
        """A pseudonymizer for one export or partner (``x_`` ids), unlinkable to this one and
        to those of other labels. Map store ids through :meth:`export_id`."""
        if not label.strip():
            raise ValueError("an export label is needed to derive an export key")
        return Pseudonymizer(hkdf_sha256(self._key, b"export:" + label.encode()), prefix="x_")

    def export_id(self, store_id: str) -> str:
        """Re-pseudonymise an id already in the store (handles are not kept, ids are)."""
        digest = hmac.new(self._key, b"id:" + store_id.encode(), hashlib.sha256)
        return self._prefix + digest.hexdigest()[:ID_HEX_CHARS]

    def __repr__(self) -> str:
        return f"Pseudonymizer(key=<{self.fingerprint}>)"


def _inside(path: Path, folder: Path) -> bool:
    return path.expanduser().resolve().is_relative_to(folder.expanduser().resolve())


def check_permissions(path: Path) -> None:
    """Refuse a key file that group or others may read or write, or that is not a file."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise KeyFileError(f"no key file at {path}: create one with `dnmwatch keys init`") from None
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError(f"key file {path} is not a regular file")
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"key file {path} is accessible to group or others (mode "
            f"{stat.S_IMODE(info.st_mode):03o}); run: chmod 600 {path}"
        )


def read_key(path: Path) -> bytes:
    """The key in ``path`` after the permission check (hex text, one line)."""
    path = Path(path).expanduser()
    check_permissions(path)
    try:
        text = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except (OSError, UnicodeDecodeError, ValueError):
        raise KeyFileError(f"key file {path} does not hold a hex key") from None
    if len(key) < KEY_BYTES:
        raise KeyFileError(f"key file {path} holds a key shorter than {KEY_BYTES * 8} bits")
    return key


def _write_new(path: Path, key: bytes) -> None:
    """Create ``path`` (must not exist) with mode 0600 holding ``key`` as hex."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"key file {path} exists; refusing to overwrite it") from None
    except OSError as exc:
        raise KeyFileError(f"cannot create key file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(key.hex() + "\n")
        out.flush()
        os.fsync(out.fileno())


def _make_parent(path: Path) -> None:
    """Create the key's folder with mode 0700. An existing folder (a home directory, say) may
    be readable by others, but not writable: whoever can write there can swap the key."""
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise KeyFileError(f"cannot create key folder {parent}: {exc.strerror}") from None
    mode = parent.stat().st_mode
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise KeyFileError(
            f"key folder {parent} is writable by group or others; use a private folder "
            f"(chmod 700 {parent})"
        )


class KeyStore:
    """The key file of a configuration, with its audit log. All key use goes through here."""

    def __init__(self, path: Path, data_dir: Path, audit: AuditLog, *, actor: str = "cli") -> None:
        self.path = Path(path).expanduser()
        self.data_dir = Path(data_dir)
        self.audit = audit
        self.actor = actor

    @classmethod
    def for_settings(cls, settings: Settings, *, actor: str = "cli") -> KeyStore:
        """The key of ``privacy.key_file``, audited in the log of ``data_dir``."""
        return cls(settings.privacy.key_file, settings.data_dir,
                   AuditLog.for_data_dir(settings.data_dir), actor=actor)

    def _refuse_inside_store(self) -> None:
        if _inside(self.path, self.data_dir):
            raise KeyFileError(
                f"key file {self.path} is inside the data dir {self.data_dir}: a copy of the "
                "store must not carry the key; choose a path outside it (privacy.key_file)"
            )

    def init(self) -> str:
        """Create a new random 256-bit key; returns its fingerprint. Never overwrites."""
        self._refuse_inside_store()
        _make_parent(self.path)
        key = os.urandom(KEY_BYTES)
        _write_new(self.path, key)
        self.audit.append(self.actor, "key_init", {"key": fingerprint(key)})
        return fingerprint(key)

    def load(self, purpose: str) -> Pseudonymizer:
        """The vendor pseudonymizer; logs a ``key_use`` entry naming ``purpose``."""
        self._refuse_inside_store()
        key = read_key(self.path)
        self.audit.append(self.actor, "key_use", {"key": fingerprint(key), "purpose": purpose})
        return Pseudonymizer(key)

    def for_export(self, label: str) -> Pseudonymizer:
        """The derived pseudonymizer of one export/partner; logged as key use."""
        self._refuse_inside_store()
        base = Pseudonymizer(read_key(self.path))
        derived = base.for_export(label)
        self.audit.append(
            self.actor,
            "key_use",
            {
                "key": base.fingerprint,
                "purpose": "export",
                "label": label,
                "derived": derived.fingerprint,
            },
        )
        return derived

    def rotate(self, *, today: datetime | None = None) -> tuple[Path, str, str]:
        """Move the current key to ``<name>.old-YYYY-MM-DD`` and create a new one.

        Returns (old key path, old fingerprint, new fingerprint). The old key stays for
        re-keying the store (:func:`rekey_map`, :func:`apply_rekey`); delete it once done.
        """
        self._refuse_inside_store()
        old_key = read_key(self.path)
        day = (today or datetime.now(UTC)).astimezone(UTC).date().isoformat()
        old_path = self.path.with_name(f"{self.path.name}.old-{day}")
        n = 1
        while old_path.exists():
            n += 1
            old_path = self.path.with_name(f"{self.path.name}.old-{day}.{n}")
        new_key = os.urandom(KEY_BYTES)
        tmp = self.path.with_name(self.path.name + ".new")
        if tmp.exists():
            raise KeyFileError(f"{tmp} exists (an interrupted rotation?); inspect and remove it")
        _write_new(tmp, new_key)
        os.link(self.path, old_path)  # the old key is kept before the new one replaces it
        os.replace(tmp, self.path)
        self.audit.append(
            self.actor,
            "key_rotate",
            {"old": fingerprint(old_key), "new": fingerprint(new_key), "kept_as": old_path.name},
        )
        return old_path, fingerprint(old_key), fingerprint(new_key)


def rekey_map(old: Pseudonymizer, new: Pseudonymizer, handles: Iterable[str]) -> dict[str, str]:
    """Old id -> new id for every handle given (e.g. re-read from WARC files still kept).

    The store keeps no handles, so the map can only cover vendors whose handles are still in
    raw captures; :func:`apply_rekey` reports the ids it could not map.
    """
    out: dict[str, str] = {}
    for handle in handles:
        if normalise_handle(handle):
            out[old.vendor_id(handle)] = new.vendor_id(handle)
    return out


def apply_rekey(conn: Any, mapping: Mapping[str, str]) -> dict[str, int]:
    """Rewrite every ``vendor_id`` column of the store through ``mapping`` (one transaction).

    ``conn`` is a writable DuckDB connection (``Store.connection``). Returns rows changed per
    table, plus ``"unmapped"``: distinct ids found in the store but absent from the map (they
    keep their old-key pseudonym; keep the old key until they are re-extracted or expire).
    """
    import pyarrow as pa  # here, not at import: adapters import this module for pseudonyms

    db = conn
    tables = [
        r[0]
        for r in db.execute(
            "SELECT table_name FROM duckdb_columns() WHERE schema_name = 'main' "
            "AND column_name = 'vendor_id' ORDER BY 1"
        ).fetchall()
    ]
    pairs = pa.table({"old_id": list(mapping), "new_id": list(mapping.values())})
    counts: dict[str, int] = {}
    unmapped: set[str] = set()
    db.register("_dnmwatch_rekey", pairs)
    try:
        db.execute("BEGIN TRANSACTION")
        for table in tables:
            rows = db.execute(
                f'SELECT DISTINCT vendor_id FROM "{table}" WHERE vendor_id IS NOT NULL '  # noqa: S608
                "AND vendor_id NOT IN (SELECT old_id FROM _dnmwatch_rekey)"
            ).fetchall()
            unmapped.update(r[0] for r in rows)
            changed = db.execute(
                f'UPDATE "{table}" SET vendor_id = m.new_id FROM _dnmwatch_rekey m '  # noqa: S608
                f'WHERE "{table}".vendor_id = m.old_id'
            ).fetchall()
            counts[table] = int(changed[0][0]) if changed else 0
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    finally:
        db.unregister("_dnmwatch_rekey")
    counts["unmapped"] = len(unmapped)
    return counts
