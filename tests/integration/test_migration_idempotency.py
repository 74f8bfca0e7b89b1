"""Idempotent and resumable: a re-run records nothing, an interrupted import run again ends
with exactly the events of a clean run, and the fast path records what the domain would."""

from __future__ import annotations

from pathlib import Path

import pytest

from practice_es.migration.recording import DomainWriter, FastWriter
from tests.conftest import count_events
from tests.integration.migration_support import (
    run_import,
    stored_events,
    stored_states,
)


def _sibling(tmp_path: Path, name: str) -> str:
    """A second fresh ledger, for reference: an SQLite file (decoded events compare across
    backends, so it is the reference for the PostgreSQL run too)."""
    return f"sqlite:///{tmp_path / name}"


def test_a_rerun_records_nothing_new(db_url: str, tmp_path: Path) -> None:
    first = run_import(db_url, "generic", tmp_path)
    before = stored_events(db_url)

    again = run_import(db_url, "generic", tmp_path)

    assert stored_events(db_url) == before
    assert (again.imported, again.already_present) == (0, first.imported)
    assert (again.clients, again.visits) == (first.clients, first.visits)


def test_a_dry_run_records_nothing_and_counts_what_a_run_would(
        db_url: str, tmp_path: Path) -> None:
    dry = run_import(db_url, "synthea", tmp_path, dry_run=True)

    assert count_events(db_url) == 0
    real = run_import(db_url, "synthea", tmp_path)
    assert dry.as_json() | {"dry_run": False} == real.as_json()


class Killed(Exception):
    """Stands for the process dying between two batches."""


@pytest.mark.parametrize("batches_done", [0, 3, 11])
def test_an_interrupted_import_run_again_ends_as_a_clean_run(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        batches_done: int) -> None:
    calls = {"n": 0}
    real_flush = FastWriter.flush

    def dying_flush(self: FastWriter) -> None:
        if calls["n"] == batches_done and self.pending:
            raise Killed
        calls["n"] += 1
        real_flush(self)

    monkeypatch.setattr(FastWriter, "flush", dying_flush)
    with pytest.raises(Killed):
        run_import(db_url, "synthea", tmp_path, batch_events=400)
    monkeypatch.setattr(FastWriter, "flush", real_flush)

    resumed = run_import(db_url, "synthea", tmp_path, batch_events=400)

    clean = _sibling(tmp_path, "clean.db")  # the reference: one uninterrupted run
    run_import(clean, "synthea", tmp_path)
    assert set(stored_events(db_url)) == set(stored_events(clean))
    assert resumed.already_present > 0 or batches_done == 0


def test_the_fast_path_stores_exactly_the_events_the_domain_path_does(
        db_url: str, tmp_path: Path) -> None:
    """Same states, key for key in the same order, sealed alike (only the nonces and the
    record times differ)."""
    through_domain = _sibling(tmp_path, "domain.db")
    for layout in ("synthea", "openemr", "generic"):
        run_import(db_url, layout, tmp_path, fast=True)
        run_import(through_domain, layout, tmp_path, fast=False)

    fast, domain = stored_states(db_url), stored_states(through_domain)
    assert len(fast) == len(domain) > 8000
    assert set(fast) == set(domain)
    for events in (fast, domain):  # and each aggregate's events in the same order
        by_aggregate: dict[object, list[int]] = {}
        for originator, version, *_ in events:
            by_aggregate.setdefault(originator, []).append(version)
        assert all(v == sorted(v) for v in by_aggregate.values())


def test_the_writers_are_chosen_by_the_flag(db_url: str, tmp_path: Path) -> None:
    from practice_es.migration.recording import writer_for
    from tests.conftest import opened

    with opened(db_url) as ledger:
        assert isinstance(writer_for(ledger), FastWriter)
        assert isinstance(writer_for(ledger, fast=False), DomainWriter)


@pytest.mark.parametrize("layout", ["synthea", "generic"])
def test_aggregates_dropped_from_memory_are_read_back_from_the_store(
        db_url: str, tmp_path: Path, layout: str) -> None:
    """Synthea's encounters are not sorted by patient: with room for 30 facts only, clients
    are dropped and read back many times, and the events are still those of a clean run.
    (In the generic layout, the clients dropped are mostly those known only by their intake,
    kept as their version.)"""
    clean = _sibling(tmp_path, "clean.db")
    run_import(clean, layout, tmp_path)

    first = run_import(db_url, layout, tmp_path, facts_in_memory=30, batch_events=20)
    again = run_import(db_url, layout, tmp_path, facts_in_memory=30, batch_events=20)

    assert set(stored_events(db_url)) == set(stored_events(clean))
    assert (again.imported, again.already_present) == (0, first.imported)
