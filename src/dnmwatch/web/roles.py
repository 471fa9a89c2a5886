"""Roles and permissions of the dashboard, deny by default.

Why a closed table: every route names the permission it needs, and a permission not in
:data:`GRANTS` is granted to nobody, so a page added without thinking about access is refused
rather than open. Roles are ordered (viewer < analyst < steward < admin) and each one has the
rights of the roles below it plus its own.
"""

from __future__ import annotations

from enum import IntEnum


class Role(IntEnum):
    """Account roles, lowest first."""

    VIEWER = 1
    ANALYST = 2
    STEWARD = 3
    ADMIN = 4

    @classmethod
    def parse(cls, name: str) -> Role:
        """The role called ``name`` (case-insensitive); :class:`ValueError` otherwise."""
        try:
            return cls[name.strip().upper()]
        except KeyError:
            known = ", ".join(r.label for r in cls)
            raise ValueError(f"unknown role {name!r} (known: {known})") from None

    @property
    def label(self) -> str:
        return self.name.lower()


GRANTS: dict[str, Role] = {
    "view": Role.VIEWER,  # aggregate pages: overview, trends, prices, markets, channels, vendors
    "quality": Role.VIEWER,  # data quality and crawl health (counts only)
    "vendor_profiles": Role.ANALYST,  # individual pseudonymous vendor profiles
    "unprotected_cells": Role.ANALYST,  # ad-hoc cells without the viewer's disclosure control
    "export": Role.ANALYST,  # download tables (written to the audit log)
    "crawls": Role.ANALYST,  # crawl details and gates waiting for the operator
    "audit": Role.STEWARD,  # the audit trail: logins and exports
    "users": Role.ADMIN,  # the list of accounts
}
"""Permission -> lowest role holding it. Anything else is denied to everyone."""


def allowed(role: Role | None, permission: str) -> bool:
    """Whether ``role`` holds ``permission`` (no role, or an unknown permission: no)."""
    need = GRANTS.get(permission)
    return role is not None and need is not None and role >= need
