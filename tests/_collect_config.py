"""A ``dnmwatch.toml`` for crawling one simulator market on loopback, shared by the collect tests.

Why: the CLI and the terminal tests crawl the same way (no delays, a key file in the test's
folder, direct loopback allowed); only the market, its adapter and the timeout differ.
"""

from __future__ import annotations

from pathlib import Path


def write_config(tmp_path: Path, base: str, market: str, adapter: str, timeout_s: int,
                 seeded: bool = False) -> Path:
    """Write the config into ``tmp_path``; ``seeded`` adds ``base + "/"`` as the seed URL."""
    path = tmp_path / "dnmwatch.toml"
    seeds = f'seeds = ["{base}/"]\n' if seeded else ""
    path.write_text(f"""
allow_direct_loopback = true
[privacy]
key_file = "{tmp_path / 'key'}"
[crawl]
delay_s = 0
jitter_s = 0
backoff_base_s = 0
timeout_s = {timeout_s}
[markets.{market}]
adapter = "{adapter}"
hosts = ["{base.removeprefix('http://')}"]
{seeds}""")
    return path
