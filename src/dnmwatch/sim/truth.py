"""Writing and reading the ground truth: one Parquet file per table plus ``manifest.json``.

Same seed => byte-identical files: Parquet is written with fixed options (zstd, fixed level,
dictionary encoding, the Arrow schema embedded) and no timestamps, and the manifest is JSON with
sorted keys and no time of writing. The manifest holds the full :class:`SimConfig`, so
:func:`read_truth` rebuilds the world exactly, and researchers can see what produced the files.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from dnmwatch.errors import SimulationError
from dnmwatch.sim.model import (
    TRUTH_SCHEMAS,
    TRUTH_TABLES,
    DemandShock,
    MarketSpec,
    PriceBand,
    SimConfig,
    World,
)

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


def _package_version() -> str:
    try:
        return metadata.version("dnmwatch")
    except metadata.PackageNotFoundError:
        return "unknown"


def config_to_dict(config: SimConfig) -> dict[str, Any]:
    """The config as JSON-ready values (dates as ISO strings, tuples as lists)."""
    raw = dataclasses.asdict(config)
    raw["start"] = config.start.isoformat()
    return raw


def config_from_dict(raw: dict[str, Any]) -> SimConfig:
    """Inverse of :func:`config_to_dict`; unknown keys are an error (a newer writer)."""
    known = {f.name for f in dataclasses.fields(SimConfig)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise SimulationError("manifest config has unknown fields: " + ", ".join(unknown))
    values = dict(raw)
    values["start"] = date.fromisoformat(raw["start"])
    values["markets"] = tuple(MarketSpec(**m) for m in raw.get("markets", []))
    values["shocks"] = tuple(DemandShock(**s) for s in raw.get("shocks", []))
    values["price_bands"] = tuple(PriceBand(**b) for b in raw.get("price_bands", []))
    config = SimConfig(**values)
    config.validate()
    return config


def write_truth(world: World, out_dir: Path) -> dict[str, int]:
    """Write every truth table and the manifest into ``out_dir``; returns row counts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name in TRUTH_TABLES:
        table = world.table(name)
        if not table.schema.equals(TRUTH_SCHEMAS[name]):
            raise SimulationError(f"table {name} does not match the truth schema")
        try:
            pq.write_table(table, out_dir / f"{name}.parquet", compression="zstd",
                           compression_level=3, use_dictionary=True, write_statistics=True,
                           row_group_size=1_000_000)
        except (OSError, pa.ArrowException) as exc:
            raise SimulationError(f"cannot write truth table {name} to {out_dir}: {exc}") from exc
        counts[name] = table.num_rows
    manifest = {
        "format_version": FORMAT_VERSION,
        "package": "dnmwatch",
        "package_version": _package_version(),
        "seed": world.config.seed,
        "scale": world.config.scale,
        "config": config_to_dict(world.config),
        "row_counts": counts,
        "tables": {name: f"{name}.parquet" for name in TRUTH_TABLES},
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, sort_keys=True, indent=2,
                                               ensure_ascii=False) + "\n", encoding="utf-8")
    return counts


def read_truth(directory: Path) -> World:
    """Read a truth folder written by :func:`write_truth` back into a :class:`World`."""
    path = directory / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SimulationError(f"cannot read truth manifest {path}: {exc}") from exc
    config = config_from_dict(manifest["config"])
    tables: dict[str, pa.Table] = {}
    for name in TRUTH_TABLES:
        try:
            table = pq.read_table(directory / f"{name}.parquet")
        except (OSError, pa.ArrowException) as exc:
            raise SimulationError(f"cannot read truth table {name} in {directory}: {exc}") from exc
        tables[name] = table.replace_schema_metadata(None).cast(TRUTH_SCHEMAS[name])
    return World(config=config, tables=tables)
