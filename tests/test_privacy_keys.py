"""The pseudonymisation key: init, permission checks, normalisation, per-export keys, rotation
and re-keying of a real DuckDB store; every key use is audit-logged."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dnmwatch import pseudonym
from dnmwatch.privacy.audit import AuditLog
from dnmwatch.privacy.keys import (
    KEY_BYTES,
    PSEUDONYM,
    KeyFileError,
    KeyStore,
    Pseudonymizer,
    apply_rekey,
    hkdf_sha256,
    normalise_handle,
    read_key,
    rekey_map,
)
from dnmwatch.store import Store

KEY = bytes(range(32))


def _keystore(tmp_path: Path) -> KeyStore:
    data = tmp_path / "data"
    return KeyStore(tmp_path / "secret" / "k.key", data, AuditLog.for_data_dir(data))


def _actions(ks: KeyStore) -> list[str]:
    return [e["action"] for e in ks.audit.entries()]


def test_init_creates_a_private_256_bit_key(tmp_path: Path) -> None:
    ks = _keystore(tmp_path)
    fp = ks.init()
    assert oct(ks.path.stat().st_mode & 0o777) == "0o600"
    assert oct(ks.path.parent.stat().st_mode & 0o777) == "0o700"
    assert len(read_key(ks.path)) == KEY_BYTES
    assert _actions(ks) == ["key_init"]
    text = ks.audit.path.read_text()
    assert fp in text and read_key(ks.path).hex() not in text  # fingerprint only, never the key


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    ks = _keystore(tmp_path)
    ks.init()
    before = ks.path.read_bytes()
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        ks.init()
    assert ks.path.read_bytes() == before


def test_init_refuses_a_path_inside_the_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ks = KeyStore(data / "keys" / "k.key", data, AuditLog.for_data_dir(data))
    with pytest.raises(KeyFileError, match="inside the data dir"):
        ks.init()
    assert not (data / "keys" / "k.key").exists()


def test_init_accepts_a_readable_existing_folder_but_not_a_writable_one(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    ks = KeyStore(shared / "k.key", data, AuditLog.for_data_dir(data))
    ks.init()
    assert oct(ks.path.stat().st_mode & 0o777) == "0o600"
    os.chmod(shared, 0o777)
    other = KeyStore(shared / "k2.key", data, AuditLog.for_data_dir(data))
    with pytest.raises(KeyFileError, match="writable by group or others"):
        other.init()
    assert not other.path.exists()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_load_refuses_group_or_world_readable_keys(tmp_path: Path, mode: int) -> None:
    ks = _keystore(tmp_path)
    ks.init()
    os.chmod(ks.path, mode)
    with pytest.raises(KeyFileError, match="chmod 600"):
        ks.load("extract")


def test_load_refuses_missing_short_or_garbage_keys(tmp_path: Path) -> None:
    ks = _keystore(tmp_path)
    with pytest.raises(KeyFileError, match="keys init"):
        ks.load("extract")
    ks.path.parent.mkdir(mode=0o700)
    for content in ("abcd\n", "not hex at all\n"):
        ks.path.write_text(content)
        os.chmod(ks.path, 0o600)
        with pytest.raises(KeyFileError):
            ks.load("extract")


def test_load_is_logged_as_key_use(tmp_path: Path) -> None:
    ks = _keystore(tmp_path)
    ks.init()
    p = ks.load("extract")
    assert PSEUDONYM.match(p.vendor_id("SomeVendor"))
    entries = list(ks.audit.entries())
    assert entries[-1]["action"] == "key_use"
    assert entries[-1]["details"]["purpose"] == "extract"
    assert ks.audit.verify().ok


def test_normalisation_nfkc_casefold_strip() -> None:
    p = Pseudonymizer(KEY)
    assert normalise_handle("  ＤｒｕｇＬｏｒｄ\t") == "druglord"
    assert p.vendor_id("DrugLord ") == p.vendor_id("ｄｒｕｇｌｏｒｄ") == p.vendor_id("DRUGLORD")
    assert p.vendor_id("Straße") == p.vendor_id("STRASSE")
    assert p.vendor_id("druglord") != p.vendor_id("druglord2")
    with pytest.raises(ValueError):
        p.vendor_id("   ")


def test_compatible_with_the_simple_pseudonymizer_for_ascii_handles() -> None:
    """Switching the pipeline to this module keeps existing ids (ASCII handles)."""
    simple = pseudonym.Pseudonymizer(KEY)
    hardened = Pseudonymizer(KEY)
    for handle in ("DrugLord", " pharma_king ", "X-Vendor.01"):
        assert hardened.vendor_id(handle) == simple.vendor_id(handle)


def test_ids_depend_on_the_key() -> None:
    assert Pseudonymizer(KEY).vendor_id("a") != Pseudonymizer(bytes(32)).vendor_id("a")
    with pytest.raises(KeyFileError):
        Pseudonymizer(b"short")


def test_export_keys_are_unlinkable_between_releases(tmp_path: Path) -> None:
    base = Pseudonymizer(KEY)
    one, two = base.for_export("release-2026-01"), base.for_export("partner-emcdda")
    handles = [f"vendor{i}" for i in range(200)]
    ids_one = {one.vendor_id(h) for h in handles}
    ids_two = {two.vendor_id(h) for h in handles}
    ids_base = {base.vendor_id(h) for h in handles}
    assert not ids_one & ids_two and not ids_one & ids_base
    assert all(i.startswith("x_") for i in ids_one)
    # deterministic: the same label gives the same release key
    assert base.for_export("release-2026-01").vendor_id("vendor1") == one.vendor_id("vendor1")
    assert one.export_id("v_0123456789abcdef") != two.export_id("v_0123456789abcdef")
    assert "key=" in repr(one) and KEY.hex() not in repr(one)


def test_hkdf_matches_rfc5869_structure() -> None:
    """HKDF-Expand output for different infos differs and has the requested length."""
    a, b = hkdf_sha256(KEY, b"export:a"), hkdf_sha256(KEY, b"export:b", 64)
    assert len(a) == 32 and len(b) == 64 and a != b[:32]


def test_derivation_is_logged(tmp_path: Path) -> None:
    ks = _keystore(tmp_path)
    ks.init()
    ks.for_export("partner-x")
    last = list(ks.audit.entries())[-1]
    assert last["action"] == "key_use" and last["details"]["label"] == "partner-x"


def test_rotation_keeps_the_old_key_and_rekeys_the_store(tmp_path: Path) -> None:
    ks = _keystore(tmp_path)
    ks.init()
    old = ks.load("extract")
    handles = ["Alpha", "Bravo", "Charlie"]
    with Store.open(ks.data_dir) as store:
        store.insert_rows(
            "sales",
            [{"market": "m", "vendor_id": old.vendor_id(h), "day": "2026-01-02"} for h in handles]
            + [{"market": "m", "vendor_id": "v_ffffffffffffffff", "day": "2026-01-02"}],
        )
        store.insert_rows(
            "vendors", [{"market": "m", "vendor_id": old.vendor_id(h)} for h in handles]
        )
        old_path, old_fp, new_fp = ks.rotate(today=datetime(2026, 3, 1, tzinfo=UTC))
        assert old_path.name == "k.key.old-2026-03-01" and old_fp != new_fp
        assert oct(old_path.stat().st_mode & 0o777) == "0o600"
        assert read_key(old_path) != read_key(ks.path)
        new = ks.load("rekey")
        mapping = rekey_map(Pseudonymizer(read_key(old_path)), new, handles)
        counts = apply_rekey(store.connection, mapping)
        assert counts["sales"] == 3 and counts["vendors"] == 3 and counts["unmapped"] == 1
        got = {r[0] for r in store.fetchall("SELECT vendor_id FROM vendors")}
        assert got == {new.vendor_id(h) for h in handles}
    # a second rotation on the same day does not clobber the first old key
    second, _, _ = ks.rotate(today=datetime(2026, 3, 1, tzinfo=UTC))
    assert second.name == "k.key.old-2026-03-01.2" and old_path.exists()
    assert "key_rotate" in _actions(ks) and ks.audit.verify().ok
