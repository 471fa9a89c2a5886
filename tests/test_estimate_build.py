"""`dnmwatch build`: incremental (a second run changes nothing) and its command line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import typer
from typer.testing import CliRunner

from _estimate_rows import feedback, listing, put
from dnmwatch.estimate.build import DERIVED_TABLES, build, table_checksum
from dnmwatch.estimate.cli import register
from dnmwatch.store import Store


def _fill(store: Store) -> None:
    put(store, "listing_observations", [listing("m", "L1", k, price=100.0 - k)
                                        for k in range(3)])
    put(store, "feedback_observations", [
        feedback("m", "L1", k, "Great stuff", f"{2 + 7 * k} days ago") for k in range(3)])


def test_build_twice_changes_nothing(tmp_path: Path) -> None:
    with Store.open(tmp_path / "d") as store:
        _fill(store)
        first = build(store)
        sums = {t: table_checksum(store, t) for t in (*DERIVED_TABLES, "build_state")}
        second = build(store)
        assert not first.skipped and second.skipped
        assert second.rows == first.rows and second.counters == first.counters
        assert {t: table_checksum(store, t) for t in sums} == sums
        forced = build(store, force=True)
        assert not forced.skipped
        assert {t: table_checksum(store, t) for t in DERIVED_TABLES} == \
            {t: sums[t] for t in DERIVED_TABLES}
        assert first.rows["feedback"] == 1 and first.rows["sales"] == 1


def test_new_observations_trigger_a_rebuild(tmp_path: Path) -> None:
    with Store.open(tmp_path / "d") as store:
        _fill(store)
        build(store)
        put(store, "feedback_observations", [feedback("m", "L1", 3, "New one", "yesterday")])
        again = build(store)
        assert not again.skipped and again.rows["feedback"] == 2


def test_build_command_prints_rows_and_exclusions(tmp_path: Path) -> None:
    data = tmp_path / "d"
    with Store.open(data) as store:
        _fill(store)
        put(store, "feedback_observations", [feedback("m", "NONE", 0, "x", "yesterday")])
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:
        """root"""

    runner = CliRunner()
    result = runner.invoke(app, ["build", "--data-dir", str(data), "--feedback-rate", "0.5"])
    assert result.exit_code == 0, result.output
    assert "build complete" in result.output and "no_listing" in result.output
    assert "corrected" in result.output
    again = runner.invoke(app, ["build", "--data-dir", str(data), "--feedback-rate", "0.5"])
    assert again.exit_code == 0 and "nothing changed" in again.output
    from dnmwatch.privacy.audit import AuditLog

    log = AuditLog.for_data_dir(data)
    builds = [e for e in log.entries() if e["action"] == "build"]
    assert [e["details"]["skipped"] for e in builds] == [False, True]
    assert log.verify().ok


def test_build_survives_a_copied_feedback_row_with_a_moved_capture_time(tmp_path: Path) -> None:
    """Regression: such a copy used to fail every build (even ``--force``) with a duplicate
    (market, feedback_id) key."""
    with Store.open(tmp_path / "data") as store:
        row = feedback("m", "L1", 0, "Great stuff", "2 days ago")
        put(store, "listing_observations", [listing("m", "L1", 0)])
        put(store, "feedback_observations",
            [row, {**row, "observed_at": row["observed_at"] + timedelta(days=1)}])
        build(store, force=True)
        ids = [r[0] for r in store.fetchall("SELECT feedback_id FROM feedback ORDER BY 1")]
    assert len(ids) == 2 and ids[1] == ids[0] + "~1"


def test_two_prices_of_one_listing_at_one_moment_build(tmp_path: Path) -> None:
    """Regression (found on demo seeds 2 and 3): a forum price list showing one title on two
    lines at two prices gave two price runs starting at one moment, a duplicate key in
    ``listing_prices`` that failed the build. The lower price of that moment is kept."""
    with Store.open(tmp_path / "data") as store:
        put(store, "listing_observations", [
            listing("m", "L1", 0, price=12.0), listing("m", "L1", 0, price=10.0),
            listing("m", "L1", 1, price=12.0), listing("m", "L1", 1, price=10.0),
            listing("m", "L1", 2, price=9.0)])
        build(store, force=True)
        runs = store.fetchall("SELECT price, observations FROM listing_prices ORDER BY valid_from")
    assert runs == [(10.0, 2), (9.0, 1)]
