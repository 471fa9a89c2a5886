"""The truth files: byte-identical for the same seed, complete manifest, exact round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dnmwatch.errors import SimulationError
from dnmwatch.sim.generate import generate_world
from dnmwatch.sim.model import TRUTH_SCHEMAS, TRUTH_TABLES, preset
from dnmwatch.sim.truth import MANIFEST, read_truth, write_truth


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    first = write_truth(generate_world(preset("tiny", seed=7)), tmp_path / "a")
    second = write_truth(generate_world(preset("tiny", seed=7)), tmp_path / "b")
    assert first == second
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert set(a) == {f"{t}.parquet" for t in TRUTH_TABLES} | {MANIFEST}
    assert a == b


def test_different_seed_gives_different_files(tmp_path: Path) -> None:
    write_truth(generate_world(preset("tiny", seed=1)), tmp_path / "a")
    write_truth(generate_world(preset("tiny", seed=2)), tmp_path / "b")
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    for table in ("listings", "transactions", "feedback", "vendors", "rates"):
        assert a[f"{table}.parquet"] != b[f"{table}.parquet"], table


def test_round_trip_restores_tables_and_config(tmp_path: Path) -> None:
    world = generate_world(preset("small"))
    counts = write_truth(world, tmp_path)
    back = read_truth(tmp_path)
    assert back.config == world.config
    for name in TRUTH_TABLES:
        assert back.table(name).schema.equals(TRUTH_SCHEMAS[name])
        assert back.table(name).equals(world.table(name)), name
        assert counts[name] == world.table(name).num_rows


def test_manifest_has_config_counts_and_no_timestamp(tmp_path: Path) -> None:
    world = generate_world(preset("tiny", seed=3))
    counts = write_truth(world, tmp_path)
    text = (tmp_path / MANIFEST).read_text(encoding="utf-8")
    manifest = json.loads(text)
    assert manifest["seed"] == 3 and manifest["scale"] == "tiny"
    assert manifest["row_counts"] == counts
    assert manifest["package_version"]
    config = manifest["config"]
    assert [m["name"] for m in config["markets"]] == [m.name for m in world.config.markets]
    assert config["shocks"][0]["substance"] == "cannabis"
    assert len(config["price_bands"]) == len(world.config.price_bands)
    assert text == json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert "created" not in text and "generated_at" not in text


def test_reading_a_broken_folder_raises_simulation_error(tmp_path: Path) -> None:
    with pytest.raises(SimulationError, match="manifest"):
        read_truth(tmp_path)
    write_truth(generate_world(preset("tiny")), tmp_path)
    (tmp_path / "feedback.parquet").write_bytes(b"not parquet")
    with pytest.raises(SimulationError, match="feedback"):
        read_truth(tmp_path)
