"""Imports run one way (ARCHITECTURE.md). Checked statically, so a violation fails at once.

* ``sim`` imports nothing from the pipeline, and the pipeline never imports ``sim``: the
  simulator is an independent yardstick.
* ``store`` is used by the stages but imports none of them.
* records/errors/settings import no stage.
* Importing any module does no I/O: a fresh interpreter imports every module without touching
  the working directory.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "dnmwatch"
PIPELINE = ("collect", "adapters", "sources", "normalise", "consolidate", "estimate")
STAGES = (*PIPELINE, "report", "web", "scale", "privacy", "sim", "cli")


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {name for name in found if name.startswith("dnmwatch")}


def _modules() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in PKG.rglob("*.py")}


def _top(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_sim_is_independent_of_the_pipeline() -> None:
    bad = [
        (mod, imp)
        for mod, imps in _modules().items()
        for imp in imps
        if (_top(mod) == "sim" and _top(imp) in PIPELINE)
        or (_top(mod) in PIPELINE and _top(imp) == "sim")
    ]
    assert not bad, f"sim <-> pipeline imports: {bad}"


def test_store_and_base_modules_import_no_stage() -> None:
    base = ("store", "records", "errors", "settings")
    bad = [
        (mod, imp)
        for mod, imps in _modules().items()
        if _top(mod) in base
        for imp in imps
        if _top(imp) in STAGES
    ]
    assert not bad, f"base modules importing stages: {bad}"


def test_importing_every_module_does_no_io(tmp_path: Path) -> None:
    names = sorted(n for n in _modules() if n != "dnmwatch.__main__")
    code = "import importlib\n" + "".join(f"importlib.import_module({n!r})\n" for n in names)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == [], "importing dnmwatch created files"
