"""Accounts, roles, sessions and login throttling of the dashboard (no server needed)."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest

from dnmwatch.errors import ConfigError
from dnmwatch.web.roles import GRANTS, Role, allowed
from dnmwatch.web.sessions import SessionStore
from dnmwatch.web.throttle import LoginThrottle
from dnmwatch.web.users import UserDB, UserError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_accounts_store_argon2_hashes_only(tmp_path: Path) -> None:
    db = UserDB.for_data_dir(tmp_path)
    db.add("ana", "a long enough password", Role.ANALYST)
    assert stat.S_IMODE(db.path.stat().st_mode) == 0o600
    raw = db.path.read_bytes()
    assert b"a long enough password" not in raw and b"$argon2id$" in raw
    assert db.verify("ana", "a long enough password") is not None
    assert db.verify("ana", "a long enough passwore") is None
    assert db.verify("nobody", "a long enough password") is None
    assert [(u.username, u.role) for u in db.list()] == [("ana", Role.ANALYST)]
    with pytest.raises(UserError, match="exists"):
        db.add("ana", "another long password", Role.ADMIN)
    db.add("ana", "another long password", Role.ADMIN, replace=True)
    user = db.verify("ana", "another long password")
    assert user is not None and user.role is Role.ADMIN
    assert db.remove("ana") and not db.remove("ana") and db.list() == []


@pytest.mark.parametrize("name", ["A", "Ana", "a b", "x" * 65, "-lead", "é"])
def test_bad_user_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError):
        UserDB.for_data_dir(tmp_path).add(name, "a long enough password", Role.VIEWER)


def test_short_passwords_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="12"):
        UserDB.for_data_dir(tmp_path).add("ana", "short", Role.VIEWER)


def test_roles_are_ordered_and_deny_by_default() -> None:
    assert Role.parse("Analyst") is Role.ANALYST
    with pytest.raises(ValueError, match="unknown role"):
        Role.parse("root")
    assert allowed(Role.VIEWER, "view") and not allowed(Role.VIEWER, "vendor_profiles")
    assert not allowed(Role.VIEWER, "export") and allowed(Role.ANALYST, "export")
    assert not allowed(Role.ANALYST, "audit") and allowed(Role.STEWARD, "audit")
    assert allowed(Role.ADMIN, "users") and not allowed(Role.STEWARD, "users")
    assert not allowed(Role.ADMIN, "no-such-permission")
    assert not allowed(None, "view")
    assert all(allowed(Role.ADMIN, p) for p in GRANTS)


def test_sessions_end_after_30_minutes_idle() -> None:
    clock = Clock()
    store = SessionStore(clock=clock)
    s = store.create("ana", Role.ANALYST)
    clock.now += 29 * 60
    assert store.get(s.sid) is s  # activity resets the idle clock
    clock.now += 29 * 60
    assert store.get(s.sid) is s
    clock.now += 30 * 60 + 1
    assert store.get(s.sid) is None
    assert store.get(s.sid) is None and len(store) == 0


def test_sessions_end_after_12_hours_even_when_active() -> None:
    clock = Clock()
    store = SessionStore(clock=clock)
    s = store.create("ana", Role.ANALYST)
    for _ in range(30):
        clock.now += 29 * 60
        if store.get(s.sid) is None:
            break
    elapsed = clock.now - 1000.0
    twelve = timedelta(hours=12).total_seconds()
    assert twelve < elapsed <= twelve + 29 * 60
    assert store.get(s.sid) is None


def test_sessions_are_random_revocable_and_carry_csrf_tokens() -> None:
    store = SessionStore()
    a, b = store.create("ana", Role.VIEWER), store.create("ana", Role.VIEWER)
    assert a.sid != b.sid and a.csrf != b.csrf and len(a.sid) >= 40
    assert a.csrf_ok(a.csrf) and not a.csrf_ok(b.csrf) and not a.csrf_ok(None)
    assert not a.csrf_ok("")
    store.end(a.sid)
    assert store.get(a.sid) is None and store.get(b.sid) is b
    assert store.end_user("ana") == 1 and store.get(b.sid) is None
    assert store.get(None) is None and store.get("forged") is None


def test_throttle_locks_after_failures_and_backs_off() -> None:
    clock = Clock()
    t = LoginThrottle(free=3, base_lock=10, max_lock=40, clock=clock)
    for _ in range(2):
        t.failure("user:ana", "ip:1")
    assert t.wait("user:ana", "ip:1") == 0
    t.failure("user:ana", "ip:1")
    assert t.wait("user:ana") == 10 and t.wait("ip:1") == 10
    assert t.wait("user:bob") == 0
    clock.now += 10
    t.failure("user:ana", "ip:1")
    assert t.wait("user:ana") == 20  # doubles
    clock.now += 20
    t.failure("user:ana")
    t.failure("user:ana")
    assert t.wait("user:ana") == 40  # capped
    t.success("user:ana")
    assert t.wait("user:ana") == 0
    t.failure("ip:1")  # the address keeps its record: one more failure locks it again
    assert t.wait("ip:1") > 0


def test_throttle_forgets_failures_outside_the_window() -> None:
    clock = Clock()
    t = LoginThrottle(free=2, window=60, clock=clock)
    t.failure("k")
    clock.now += 61
    t.failure("k")
    assert t.wait("k") == 0
