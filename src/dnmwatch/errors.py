"""The one exceptions module of dnmwatch.

Every error the package raises on purpose is a :class:`DnmwatchError`, so a caller (the command
line, a notebook, a plugin) can catch one type. Third-party errors (DuckDB, aiohttp, pyarrow) are
translated into these at the boundary where they occur, in the style of httpx's
``_exceptions.py``, so that no caller has to know which library sits underneath.

Hierarchy::

    DnmwatchError
    ├── ConfigError          settings file, environment or command line invalid
    │   └── SecretError      a secret reference (env:NAME, file:PATH) cannot be resolved
    ├── CaptureError         collecting pages failed (network, gate, proxy policy)
    ├── ParseError           a page or dataset could not be turned into records
    ├── NormaliseError       a value could not be normalised (unit, currency, rate, country)
    ├── StoreError           the DuckDB store is unusable
    │   └── SchemaError      the store's schema is newer than this code, or a migration failed
    └── SimulationError      the market simulator was configured or used wrongly

A *rejection* (a page or value that a stage declines, with a counted reason) is not an
exception: stages return it as a value (see :mod:`dnmwatch.records`). Exceptions are for the
cases where the stage itself cannot go on.
"""

from __future__ import annotations

from collections.abc import Sequence


class DnmwatchError(Exception):
    """Base class of every error dnmwatch raises on purpose."""


class ConfigError(DnmwatchError):
    """Invalid configuration. Carries every problem found, not only the first.

    Validation reports all errors at once so that an operator fixes a config file in one pass.
    """

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))

    def __str__(self) -> str:
        if len(self.problems) == 1:
            return self.problems[0]
        lines = [f"{len(self.problems)} configuration errors:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class SecretError(ConfigError):
    """A secret reference could not be resolved (missing variable, unreadable file)."""


class CaptureError(DnmwatchError):
    """Collecting pages failed in a way the crawler cannot retry away."""


class ParseError(DnmwatchError):
    """An input could not be read at all (as opposed to a counted per-page rejection)."""


class NormaliseError(DnmwatchError):
    """A value could not be normalised and the caller asked for an exception."""


class StoreError(DnmwatchError):
    """The DuckDB store cannot be opened, written or read."""


class SchemaError(StoreError):
    """The store's schema version is unknown to this code, or a migration failed."""


class SimulationError(DnmwatchError):
    """The market simulator was given an impossible configuration or request."""
