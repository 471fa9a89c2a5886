"""``dnmwatch normalise``: columns kept and added, formula injection, bad rows counted."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from _normalise_shared import normalise_app as _app
from dnmwatch.normalise.pipeline import CONTRACT_COLUMNS, escape_cell


def test_normalise_csv_end_to_end(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(
        "id,name,cat\n"
        '1,"10x Xanax 2mg",Benzos\n'
        '2,"=HYPERLINK(""http://x"")",Other\n'
        '3,"5g Critical",Drugs/Cannabis/Weed\n'
        '4,"",x\n'
        '5,"Kokain 1g",Drugs,extra-cell\n',
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        _app(),
        ["normalise", str(src), "--column", "name", "--category-column", "cat", "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "5 rows" in result.output and "1 bad rows" in result.output
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["id", "name", "cat", *CONTRACT_COLUMNS]
    assert rows[0]["substance"] == "alprazolam" and rows[0]["count"] == "10"
    assert rows[0]["dose_value"] == "2" and rows[0]["dose_unit"] == "mg"
    assert rows[1]["name"].startswith("'=")  # formula defused
    assert rows[2]["substance"] == "cannabis" and rows[2]["mass_g"] == "5"
    assert rows[4]["substance"] == "cocaine"


def test_missing_column_is_an_error(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("a,b\n1,2\n", encoding="utf-8")
    result = CliRunner().invoke(_app(), ["normalise", str(src), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code != 0
    assert "column 'title' not in input" in str(result.exception)


def test_escape_cell() -> None:
    for bad in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert escape_cell(bad) == "'" + bad
    assert escape_cell("10g weed") == "10g weed"
