"""The single writer's side of extraction: bounded DuckDB memory, loading spooled Parquet
partitions, and quarantining inputs whose task failed.

Why bound DuckDB's memory: by default a DuckDB database may cache up to 80% of the machine's
RAM in its buffer pool, and an extraction writes hundreds of MB of rows: the writer's RSS grew
with the archive (349 MB on a 2 GB WARC set) although nothing needs those blocks again. The
writer only appends and deletes by source, so a small pool and one thread cost little speed;
:func:`writer_limits` sets them for the run and restores the previous values after, because
the same connection goes on to serve ``build`` in ``demo``.

Why quarantine rather than abort: on terabytes of archives one poison file (a reader bug, a
file that kills its worker) must not stop a week-long run. Its task's rows are not loaded; a
``rejections`` row of reason ``quarantined`` says which file and why, and
``<data dir>/quarantine/quarantine.jsonl`` lists it for a re-run after the fix. Inputs are not
moved: archives are often read-only or shared with other researchers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from dnmwatch.sources.rows import SCHEMAS, TABLES, utc_naive
from dnmwatch.sources.source_path import stored_source, stored_source_sql, stored_text
from dnmwatch.sources.worker import TaskResult
from dnmwatch.store import Store

WRITER_MEMORY_MB = 64
"""DuckDB buffer pool of the writer during extraction (``SET memory_limit``)."""
WRITER_THREADS = 1
"""One thread: inserts of one task are small, and each thread keeps its own buffers."""
QUARANTINE_DIR = "quarantine"
QUARANTINE_REASON = "quarantined"


@contextmanager
def writer_limits(store: Store, memory_mb: int | None = WRITER_MEMORY_MB,
                  threads: int | None = WRITER_THREADS) -> Iterator[None]:
    """DuckDB ``memory_limit`` / ``threads`` of ``store`` bounded inside the block (``None``
    leaves a setting alone); ``preserve_insertion_order`` off, which lets inserts stream."""
    wanted: dict[str, str] = {"preserve_insertion_order": "false"}
    if memory_mb is not None:
        wanted["memory_limit"] = f"{int(memory_mb)}MB"
    if threads is not None:
        wanted["threads"] = str(int(threads))
    old = {name: str(store.fetchall("SELECT current_setting(?)", [name])[0][0])
           for name in wanted}
    try:
        for name, value in wanted.items():
            store.execute(f"SET {name} = '{value}'")
        yield
    finally:  # the default exactly when it was the default (the shown value is rounded)
        for name, value in old.items():
            store.execute(f"RESET {name}")
            if str(store.fetchall("SELECT current_setting(?)", [name])[0][0]) != value:
                store.execute(f"SET {name} = '{value}'")


def load_result(store: Store, result: TaskResult) -> None:
    """Replace the rows of the task's sources by its spooled partitions, atomically (DuckDB
    reads each Parquet file in place), then delete the partitions."""
    given = list(result.task.sources)  # stored relative (source_path); old stores: absolute
    sources = sorted({*given, *(stored_source(s, store.data_dir) for s in given)})
    with store.transaction():
        for table in TABLES:
            store.execute(f"DELETE FROM {table} WHERE list_contains(?, source)",  # noqa: S608
                          [sources])
        for table, spool in result.spools:
            names = ", ".join(f'"{c}"' for c in SCHEMAS[table].names)
            source, params = stored_source_sql("source", store.data_dir)
            select = ", ".join(f'{source} AS "source"' if c == "source" else f'"{c}"'
                               for c in SCHEMAS[table].names)
            store.execute(f"INSERT INTO {table} ({names}) SELECT {select} "  # noqa: S608
                          "FROM read_parquet(?)", [*params, spool])
    for _table, spool in result.spools:
        Path(spool).unlink(missing_ok=True)


def quarantine(store: Store, result: TaskResult, recorded_at: datetime) -> None:
    """Record the inputs of a failed task: a ``rejections`` row per source (reason
    ``quarantined``, detail = the error) and a line in ``quarantine/quarantine.jsonl``."""
    error = result.error or "unknown error"
    error = stored_text(error, store.data_dir)  # errors may quote the input's path
    rows = [{"stage": "extract", "reason": QUARANTINE_REASON, "detail": error[:300],
             "market": None, "source": stored_source(source, store.data_dir),
             "source_offset": None, "recorded_at": utc_naive(recorded_at)}
            for source in result.task.sources]
    store.insert_rows("rejections", rows)
    folder = store.data_dir / QUARANTINE_DIR
    folder.mkdir(exist_ok=True)
    with (folder / "quarantine.jsonl").open("a", encoding="utf-8") as out:
        for source in result.task.sources:
            out.write(json.dumps({"source": stored_source(source, store.data_dir),
                                  "kind": result.task.kind,
                                  "reason": error, "at": recorded_at.isoformat()},
                                 ensure_ascii=False) + "\n")
