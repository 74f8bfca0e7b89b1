"""The fast replay (projections/decoding.py, parallel.py, indexes.py): the events it decodes are
exactly the mapper's, and a rebuild in two processes, with its indexes left out until the end,
gives exactly the rows of a rebuild in one, whatever happens to the second process."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest

from practice_es.application import PracticeLedger
from practice_es.demo import record_demo
from practice_es.domain.client import Client
from practice_es.infrastructure.settings import Settings
from practice_es.projections import decoding, indexes, parallel
from practice_es.projections.registry import all_projections
from practice_es.projections.runner import ProjectionRunner
from tests.integration.checks import read_models

ON = datetime.fromisoformat("2026-11-27T12:00+00:00")


@contextmanager
def runner_of(ledger: PracticeLedger) -> Iterator[ProjectionRunner]:
    runner = ProjectionRunner(ledger, all_projections())
    try:
        yield runner
    finally:
        runner.close()


def practice(db_url: str, key: str | None = None) -> PracticeLedger:
    """A small demo practice (every kind of event), one entry corrected, then its client
    erased; read models kept up as it went."""
    ledger = PracticeLedger(Settings(db_url=db_url, actor="t", cipher_key=key))
    with runner_of(ledger) as runner:
        record_demo(ledger, runner, clients=12, seed=3)
        completed = next(n for n in ledger.recorder.select_notifications(1, 10**6)
                         if n.topic == Client.VisitCompleted.TOPIC)
        ledger.correct_entry(completed.originator_id, version=completed.originator_version,
                             changes={"notes": "corrected", "measures.pain": "1"},
                             reason="typo", on=ON)
        runner.catch_up()  # the entry kept up shows the correction before the erasure
        ledger.erase_client(completed.originator_id, reason="asked", on=ON)
        runner.catch_up()
    return ledger


@pytest.fixture
def ledger(request: pytest.FixtureRequest, db_url: str) -> Iterator[PracticeLedger]:
    """The practice, in clear or encrypted at rest (`indirect` parametrisation)."""
    encrypted = getattr(request, "param", "plain") == "encrypted"
    key = base64.b64encode(os.urandom(32)).decode() if encrypted else None
    app = practice(db_url, key)
    try:
        yield app
    finally:
        app.close()


def visit_notes(runner: ProjectionRunner) -> list[str | None]:
    """The notes of every completed visit, as the runner's decoder makes the events (none
    where they were left shut: reading them fails)."""
    head = runner.ledger.recorder.max_notification_id()
    events = runner.decoder.decode_page(runner.reader.page(0, head, head))
    return [vars(e).get("notes") for e in events if isinstance(e, Client.VisitCompleted)]


def index_names(runner: ProjectionRunner) -> set[str]:
    with runner.engine.connect() as conn:
        return indexes._index_names(conn)


def every_index(runner: ProjectionRunner) -> set[str]:
    return {str(i.name) for p in runner.projections.values() for t in p.tables
            for i in t.indexes}


def two_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rebuild in two processes, even for a few events and on a busy machine."""
    monkeypatch.setenv(parallel.PROCESSES, "2")
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 0)
    monkeypatch.setattr(parallel, "_idle_core", lambda: True)


BOTH = pytest.mark.parametrize("ledger", ["plain", "encrypted"], indirect=True)


@BOTH
@pytest.mark.parametrize("replay_models", [False, True], ids=["short page", "long page"])
def test_fast_decoding_makes_exactly_the_mappers_events(
        ledger: PracticeLedger, replay_models: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if replay_models:  # every page long enough for replay models (decoding.py)
        monkeypatch.setattr(decoding, "REPLAY_MODELS_FROM", 0)
    with runner_of(ledger) as runner:
        head = ledger.recorder.max_notification_id()
        raw = runner.reader.page(0, head, head)
        fast = runner.decoder.decode_page(raw)
        slow = [ledger.mapper.to_domain_event(n)
                for n in ledger.recorder.select_notifications(1, head)]
        assert len(fast) == len(slow) == head
        for mine, theirs in zip(fast, slow, strict=True):
            assert type(mine) is type(theirs)
            assert mine == theirs
            assert mine.model_fields_set == theirs.model_fields_set
            assert {k: type(v) for k, v in vars(mine).items()} == {
                k: type(v) for k, v in vars(theirs).items()}


@BOTH
def test_a_rebuild_decoding_long_pages_gives_the_rows_kept_up(
        ledger: PracticeLedger, monkeypatch: pytest.MonkeyPatch) -> None:
    """Twins and the plain opening of sealed fields (decoding.py), and the erasure and the
    correction written while the timeline's client_id index is left out (it is built then)."""
    monkeypatch.setattr(decoding, "REPLAY_MODELS_FROM", 0)
    with runner_of(ledger) as runner:
        kept_up = read_models(runner)
        runner.rebuild()
        assert read_models(runner) == kept_up
        assert every_index(runner) <= index_names(runner)


@BOTH
def test_projections_that_read_no_personal_field_rebuild_the_rows_kept_up(
        ledger: PracticeLedger, monkeypatch: pytest.MonkeyPatch) -> None:
    """A replay of only projections that name the topics whose personal fields they read
    (`Projection.reads_personal_of`: all but the timeline) leaves the others' sealed fields shut, as
    the second process of a rebuild does, and still gives the rows kept up."""
    monkeypatch.setattr(decoding, "REPLAY_MODELS_FROM", 0)
    with runner_of(ledger) as every:  # a visit with notes, sealed, to leave shut
        client = next(n.originator_id for n in reversed(
            ledger.recorder.select_notifications(1, 10**6))
            if n.topic == Client.IntakeRecorded.TOPIC)
        ledger.complete_visit(client, on=ON, notes="felt better")
        every.catch_up()
        assert "felt better" in visit_notes(every)  # (the timeline reads them: opened)
    named = [p for p in all_projections() if p.reads_personal_of is not None]
    assert len(named) == len(all_projections()) - 1
    runner = ProjectionRunner(ledger, named)
    try:
        kept_up = read_models(runner)
        runner.rebuild()
        assert read_models(runner) == kept_up
        assert not any(visit_notes(runner))  # shut, never opened
    finally:
        runner.close()


@BOTH
def test_a_rebuild_in_two_processes_gives_the_rows_kept_up(
        ledger: PracticeLedger, monkeypatch: pytest.MonkeyPatch) -> None:
    with runner_of(ledger) as runner:
        kept_up = read_models(runner)
        two_processes(monkeypatch)
        started = []
        start = parallel.start_child
        monkeypatch.setattr(parallel, "start_child", lambda *args: started.append(start(*args))
                            or started[-1])
        replayed = runner.rebuild()
        assert [child.returncode for child in started] == [0]  # it did its half
        assert replayed == ledger.recorder.max_notification_id()
        assert read_models(runner) == kept_up
        assert every_index(runner) <= index_names(runner)


@pytest.mark.parametrize(("told", "load", "processes"), [
    (None, 0.0, 2), ("2", 0.0, 2), ("1", 0.0, 1), (None, 9.0, 1),
], ids=["idle", "told-two", "told-one", "busy"])
def test_a_long_rebuild_takes_a_second_process_when_a_core_is_idle_unless_told_one(
        ledger: PracticeLedger, monkeypatch: pytest.MonkeyPatch, told: str | None,
        load: float, processes: int) -> None:
    with runner_of(ledger) as runner:
        kept_up = read_models(runner)
        if told is None:
            monkeypatch.delenv(parallel.PROCESSES, raising=False)
        else:
            monkeypatch.setenv(parallel.PROCESSES, told)
        monkeypatch.setattr(parallel, "PARALLEL_FROM", 0)  # "long": this practice will do
        monkeypatch.setattr(os, "cpu_count", lambda: 2)
        monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
        started = []
        start = parallel.start_child
        monkeypatch.setattr(parallel, "start_child", lambda *args: started.append(start(*args))
                            or started[-1])
        runner.rebuild()
        assert 1 + len(started) == processes
        assert read_models(runner) == kept_up


def test_the_rebuild_finishes_what_a_dead_second_process_left(
        ledger: PracticeLedger, monkeypatch: pytest.MonkeyPatch) -> None:
    with runner_of(ledger) as runner:
        kept_up = read_models(runner)
        two_processes(monkeypatch)
        monkeypatch.setattr(parallel, "start_child", lambda settings, projections: subprocess.Popen(
            [sys.executable, "-c", "raise SystemExit(1)"]))  # dies before doing anything
        runner.rebuild()
        assert read_models(runner) == kept_up


def test_indexes_a_dead_rebuild_left_out_are_built_by_the_next_runner(
        ledger: PracticeLedger) -> None:
    with runner_of(ledger) as runner:
        kept_up = read_models(runner)
        left_out = indexes.deferrable(list(runner.projections.values()))
        # (the timeline's client_id index too: an erasure or a correction builds it first)
        assert {str(i.name) for i in left_out} == every_index(runner)
        with runner.transaction() as conn:  # as a rebuild killed half-way leaves them
            indexes.drop(conn, left_out)
        assert not {str(i.name) for i in left_out} & index_names(runner)
    with runner_of(ledger) as again:
        again.catch_up()
        assert every_index(again) <= index_names(again)
        assert read_models(again) == kept_up


def test_a_page_worked_out_while_another_process_applied_it_is_worked_out_again(
        ledger: PracticeLedger) -> None:
    reference = ProjectionRunner(ledger, all_projections())
    kept_up = read_models(reference)
    reference.rebuild()  # empty → full: the rows to expect
    assert read_models(reference) == kept_up
    with reference.transaction() as conn:
        for projection in reference.projections.values():
            reference._reset(conn, projection)
    other = ProjectionRunner(ledger, all_projections())
    runner = ProjectionRunner(ledger, all_projections())
    real = runner._work_out
    raced = []

    def work_out(conn: Any, known: Any, head: int) -> Any:
        page = real(conn, known, head)
        if not raced:  # between our read and our write, another process applies the page
            raced.append(other.catch_up())
        return page

    runner._work_out = work_out  # type: ignore[method-assign]
    try:
        runner.catch_up(optimistic=True)
        assert raced and raced[0] > 0
        assert read_models(runner) == kept_up  # nothing applied twice, nothing lost
    finally:
        for each in (reference, other, runner):
            each.close()
