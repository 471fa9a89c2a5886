"""Local dashboard accounts: user name, role and an Argon2id password hash.

Why a separate SQLite file (``users.sqlite`` in the data dir) rather than a table in the
DuckDB store: the dashboard only ever opens the store read-only, and a DuckDB file open for
writing in one process cannot be opened at all by another; keeping accounts apart lets
``dnmwatch users add`` run while the dashboard serves, and keeps password hashes out of store
copies and exports. The file is created with mode 0600.

Passwords are never stored or logged; verification runs Argon2 even for unknown names (against
a dummy hash) so that response time does not reveal which accounts exist.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from dnmwatch.errors import ConfigError, DnmwatchError
from dnmwatch.web.roles import Role

USERS_NAME = "users.sqlite"
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
MIN_PASSWORD = 12

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username    TEXT PRIMARY KEY,
    role        TEXT NOT NULL,
    pw_hash     TEXT NOT NULL,
    created_at  TEXT NOT NULL
)
"""


class UserError(DnmwatchError):
    """An account cannot be created, removed or read."""


@dataclass(frozen=True, slots=True)
class User:
    username: str
    role: Role
    created_at: str


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # Argon2id with the library's (RFC 9106 low-memory) parameters


@cache
def _dummy_hash() -> str:
    return _hasher().hash("not a password of anyone")


def users_path(data_dir: Path) -> Path:
    return Path(data_dir) / USERS_NAME


def check_username(name: str) -> str:
    """A valid user name (lower-case letters, digits, ``._-``, 2-64 chars) or ConfigError."""
    if not USERNAME.fullmatch(name):
        raise ConfigError(
            f"user names are 2-64 lower-case letters, digits, '.', '_' or '-', got {name!r}"
        )
    return name


class UserDB:
    """Accounts of one data dir. Cheap to build; opens the SQLite file per call."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> UserDB:
        return cls(users_path(data_dir))

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            os.close(fd)
            conn = sqlite3.connect(self.path, timeout=5.0)
        except (OSError, sqlite3.Error) as exc:
            raise UserError(f"cannot open the accounts file {self.path}: {exc}") from exc
        try:
            with conn:
                conn.execute(_SCHEMA)
                yield conn
        except sqlite3.Error as exc:
            raise UserError(f"accounts file {self.path}: {exc}") from exc
        finally:
            conn.close()

    def add(self, username: str, password: str, role: Role, *, replace: bool = False) -> User:
        """Create (or, with ``replace``, reset) an account."""
        check_username(username)
        if len(password) < MIN_PASSWORD:
            raise ConfigError(f"passwords need at least {MIN_PASSWORD} characters")
        created = datetime.now(UTC).isoformat(timespec="seconds")
        pw_hash = _hasher().hash(password)
        with self._connect() as conn:
            exists = conn.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone()
            if exists and not replace:
                raise UserError(f"user {username!r} exists (use --replace to reset it)")
            conn.execute(
                "INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?)",
                (username, role.label, pw_hash, created),
            )
        return User(username, role, created)

    def remove(self, username: str) -> bool:
        """Delete an account; whether it existed."""
        with self._connect() as conn:
            cur = conn.execute("DELETE FROM users WHERE username = ?", (username,))
            return cur.rowcount > 0

    def list(self) -> list[User]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT username, role, created_at FROM users ORDER BY username"
            ).fetchall()
        return [User(u, Role.parse(r), c) for u, r, c in rows]

    def get(self, username: str) -> User | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT username, role, created_at FROM users WHERE username = ?", (username,)
            ).fetchone()
        return None if row is None else User(row[0], Role.parse(row[1]), row[2])

    def verify(self, username: str, password: str) -> User | None:
        """The account when the password matches, else ``None`` (same work either way)."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT username, role, created_at, pw_hash FROM users WHERE username = ?",
                (username,),
            ).fetchone()
        stored = row[3] if row else _dummy_hash()
        try:
            _hasher().verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if _hasher().check_needs_rehash(stored):
            with self._connect() as conn:
                conn.execute(
                    "UPDATE users SET pw_hash = ? WHERE username = ?",
                    (_hasher().hash(password), username),
                )
        return User(row[0], Role.parse(row[1]), row[2])
