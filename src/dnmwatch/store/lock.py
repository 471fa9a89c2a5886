"""The single-writer lock of a store.

DuckDB itself refuses a second read-write process, but with an IO error about file locks that
tells an operator little, and it does not refuse a second writer inside the same process (it
shares one database instance there). An advisory ``flock`` on ``<data_dir>/dnmwatch.lock``,
taken *before* DuckDB is touched, gives both cases one clear message naming the holder's pid.

``flock`` locks belong to an open file description, so two opens in one process conflict just
as two processes do. The lock file is never deleted (deleting lock files races with openers);
its content is only the holder's pid, cleared on release.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from dnmwatch.errors import StoreError

LOCK_NAME = "dnmwatch.lock"


class WriterLock:
    """An exclusive, non-blocking advisory lock held for the life of a writer."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, data_dir: Path) -> WriterLock:
        """Take the lock or raise :class:`StoreError` naming the writer that holds it."""
        path = data_dir / LOCK_NAME
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot open lock file {path}: {exc.strerror}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _read_pid(fd)
            os.close(fd)
            who = "pid unknown" if holder is None else f"pid {holder}"
            if holder == os.getpid():
                who += ", this process"
            raise StoreError(
                f"store {data_dir} is in use by another writer ({who}); "
                "wait for it to finish or stop it"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(path, fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Clear the pid and unlock; safe to call twice."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
