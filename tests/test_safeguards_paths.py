"""Input paths in the store name no one (issue 8, safety of the researcher).

Extraction resolves its inputs to absolute paths, which carry the researcher's account name
(``/home/alice/...``). The ``source`` columns therefore keep a path relative to the data
directory when the input lies under it, ``~/...`` when it lies under the home directory, and the
path as given otherwise; a quarantined input's row and error message follow the same rule. The
Python rule and its SQL twin must agree, and re-extracting an input must still replace the rows
an older store kept under the absolute path.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb
import pytest

from dnmwatch.adapters.registry import load_registry
from dnmwatch.sources.extract import extract, plan
from dnmwatch.sources.source_path import stored_source, stored_source_sql
from dnmwatch.sources.worker import Context, Task, TaskResult
from dnmwatch.store import Store

KEY = bytes(range(32))
PAGE = b"<html><body><p>nothing a market adapter knows</p></body></html>"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home" / "alice"
    folder.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(folder))
    return folder


def test_the_rule_and_its_sql_twin_agree(tmp_path: Path, home: Path) -> None:
    data = home / "dnmwatch" / "data"
    cases = {
        f"{data}/warc/m/c-00000.warc.gz": "warc/m/c-00000.warc.gz",
        f"{home}/archives/agora.csv": "~/archives/agora.csv",
        f"{home}/dnmwatch/datapack/x.html": "~/dnmwatch/datapack/x.html",
        f"{data}x/y.html": "~/dnmwatch/datax/y.html",  # a sibling folder is not inside
        "/srv/archives/ü/agora.csv": "/srv/archives/ü/agora.csv",
        "http://market.onion/listing/1": "http://market.onion/listing/1",
    }
    expression, params = stored_source_sql("source", data)
    sql = duckdb.connect()
    for given, stored in cases.items():
        assert stored_source(given, data) == stored
        got = sql.execute(f"SELECT {expression} FROM (SELECT ? AS source)",
                          [*params, given]).fetchone()
        assert got is not None and got[0] == stored, given


def _sources(store: Store, table: str) -> list[str]:
    return sorted(r[0] for r in store.fetchall(f"SELECT source FROM {table}"))


def test_extracted_rows_name_inputs_relative_to_data_dir_or_home(tmp_path: Path,
                                                                 home: Path) -> None:
    data = home / "data"
    inside = data / "imports" / "page.html"
    outside = home / "mirror" / "page.html"
    for path in (inside, outside):
        path.parent.mkdir(parents=True)
        path.write_bytes(PAGE)
    registry = load_registry(plugins=False)
    with Store.open(data) as store:
        for _ in range(2):  # a re-run replaces its rows instead of doubling them
            extract(store, plan([inside, outside], registry, adapter="sim-cards"), key=KEY,
                    workers=1)
            assert _sources(store, "pages") == ["imports/page.html", "~/mirror/page.html"]
        # an older store kept the absolute path: re-extracting still replaces those rows
        store.execute("UPDATE pages SET source = ? WHERE source = 'imports/page.html'",
                      [str(inside)])
        extract(store, plan([inside], registry, adapter="sim-cards"), key=KEY, workers=1)
        assert _sources(store, "pages") == ["imports/page.html", "~/mirror/page.html"]
        assert str(home) not in json.dumps(store.fetchall("SELECT * FROM rejections"),
                                           default=str)


def test_a_quarantined_input_is_named_relative_too(tmp_path: Path, home: Path) -> None:
    data = home / "data"
    missing = data / "warc" / "m" / "gone.warc.gz"

    def failing(tasks: Sequence[Task], _ctx: Context) -> Iterable[TaskResult]:
        """A worker that died on its input, with an error quoting the path (as OSError's do)."""
        return [TaskResult(t, error=f"OSError: [Errno 5] I/O error: '{t.path}'") for t in tasks]

    with Store.open(data) as store:
        summary = extract(store, [Task("warc", str(missing))], key=KEY, runner=failing)
        assert summary.failed
        rows = store.fetchall("SELECT source, detail FROM rejections "
                              "WHERE reason = 'quarantined'")
    assert [r[0] for r in rows] == ["warc/m/gone.warc.gz"]
    assert str(home) not in rows[0][1] and "gone.warc.gz" in rows[0][1]
    listed = (data / "quarantine" / "quarantine.jsonl").read_text(encoding="utf-8")
    assert str(home) not in listed and "warc/m/gone.warc.gz" in listed
