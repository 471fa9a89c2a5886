"""The test command also checks the code: ruff and mypy (strict) must be clean.

Running them from the suite means the README's one test command is the whole gate, as CI runs it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=280
    )


def test_ruff_clean() -> None:
    result = _run("ruff", "check", "src", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_strict_clean() -> None:
    result = _run("mypy", "--cache-dir=.mypy_cache")
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_lines = [
        line.strip()
        for line in readme.splitlines()
        if "pytest" in line and line.strip().startswith("python3 -m venv")
    ]
    assert len(test_lines) == 1, "README must show exactly one test command"
    ci_commands = [line.strip() for line in ci.splitlines() if "pytest" in line]
    normalised_ci = [c.replace(" -q", "") for c in ci_commands]
    assert test_lines[0] in normalised_ci


def test_modules_stay_small() -> None:
    too_long = {
        str(path.relative_to(ROOT)): n
        for path in (ROOT / "src").rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert not too_long, f"modules over 600 lines: {too_long}"
