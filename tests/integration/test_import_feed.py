"""The read models an import feeds from the events it holds in memory (not decoded back from
the log) are exactly the rows a rebuild from the log gives, and those a catch-up of a fresh
read-model database gives: on SQLite and PostgreSQL, sealed at rest or not, in one process or
with the second recording process, whatever the batch and feed sizes."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.pool import StaticPool

from bench.bench_import import write_generic_export
from practice_es.application import PracticeLedger
from practice_es.infrastructure.settings import Settings
from practice_es.migration.importer import ImportRequest, import_export
from practice_es.migration.mapping import load_preset
from practice_es.projections import feed as feed_module
from practice_es.projections.decoding import EventDecoder, RawEvent
from practice_es.projections.feed import feeding
from practice_es.projections.registry import all_projections
from practice_es.projections.runner import ProjectionRunner
from tests.conftest import fixed_clock
from tests.integration.desk_steps import POSTGRES_URL, fresh_ledger
from tests.integration.migration_support import LEGACY

Tables = dict[str, list[tuple[Any, ...]]]


@contextmanager
def ledger_at(db_url: str, sealed: bool) -> Iterator[PracticeLedger]:
    key = base64.b64encode(os.urandom(32)).decode() if sealed else None
    ledger = PracticeLedger(Settings(db_url=db_url, actor="t", cipher_key=key),
                            clock=fixed_clock)
    try:
        yield ledger
    finally:
        ledger.close()


def tables(runner: ProjectionRunner) -> Tables:
    with runner.engine.connect() as conn:
        return {table.name: sorted(tuple(row) for row in conn.execute(select(table)))
                for projection in runner.projections.values() for table in projection.tables}


def every_index_built(runner: ProjectionRunner) -> bool:
    """Whether each read-model index is there (an import into empty read models leaves the
    deferrable ones out while it writes)."""
    with runner.engine.connect() as conn:
        found = inspect(conn)
        built = {i["name"] for t in found.get_table_names() for i in found.get_indexes(t)}
    return {index.name for p in runner.projections.values() for table in p.tables
            for index in table.indexes} <= built


def fed_then_rebuilt(ledger: PracticeLedger, folder: Path, preset: str, tmp_path: Path,
                     **options: Any) -> tuple[Tables, Tables, Tables]:
    """The read models as the import fed them; as a fresh database catches them up from the
    log; as a rebuild from the log leaves them."""
    live = ProjectionRunner(ledger, all_projections())
    once = ProjectionRunner(ledger, all_projections(),
                            engine=create_engine("sqlite://", poolclass=StaticPool))
    try:
        request = ImportRequest(paths=(folder,), mapping=load_preset(preset),
                                rejects=tmp_path / "rejects.csv", **options)
        with feeding(live) as recorded:
            import_export(ledger, request, recorded=recorded)
        assert not live.decoder.known  # every event fed was applied, none is held
        assert every_index_built(live)
        fed = tables(live)
        once.catch_up()
        live.rebuild()
        return fed, tables(once), tables(live)
    finally:
        live.close()
        once.close()


@pytest.mark.parametrize("layout", ["generic", "cliniko", "openemr", "synthea"])
def test_each_layout_imported_and_fed_equals_its_rebuild(
        db_url: str, tmp_path: Path, layout: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feed_module, "FED_EVENTS", 7)  # catch-ups during the import too
    from_the_log: list[int] = []
    decode = EventDecoder.decode

    def counted(self: EventDecoder, raw: RawEvent) -> Any:
        from_the_log.append(raw.position)
        return decode(self, raw)

    monkeypatch.setattr(EventDecoder, "decode", counted)
    with ledger_at(db_url, sealed=True) as ledger:
        request = ImportRequest(paths=(LEGACY / layout,), mapping=load_preset(layout),
                                rejects=tmp_path / "rejects.csv", batch_events=5)
        live = ProjectionRunner(ledger, all_projections())
        try:
            with feeding(live) as recorded:
                import_export(ledger, request, recorded=recorded)
        finally:
            live.close()
        assert from_the_log == []  # every event came from memory
        fed, caught_up, rebuilt = fed_then_rebuilt(ledger, LEGACY / layout, layout, tmp_path)
    assert fed == caught_up == rebuilt
    assert any(fed.values())


def test_fed_from_the_second_recording_process_equals_its_rebuild(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feed_module, "FED_EVENTS", 40)
    export = tmp_path / "export"
    write_generic_export(export, clients=12, appointments=90)
    with ledger_at(db_url, sealed=False) as ledger:
        fed, caught_up, rebuilt = fed_then_rebuilt(ledger, export, "generic", tmp_path,
                                                   batch_events=25, recorder_process=True)
    assert fed == caught_up == rebuilt
    assert len(fed["rm_visits"]) == 90


def test_a_re_run_over_a_partly_fed_import_equals_its_rebuild(
        sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read models left behind the log (an import stopped before its catch-up) are caught
    up from the log, and the re-run's own events from memory."""
    monkeypatch.setattr(feed_module, "FED_EVENTS", 10**9)  # never during the import
    export = tmp_path / "export"
    write_generic_export(export, clients=5, appointments=30)
    with ledger_at(sqlite_url, sealed=True) as ledger:
        request = ImportRequest(paths=(export / "clients.csv",), mapping=load_preset("generic"),
                                rejects=tmp_path / "rejects.csv")
        import_export(ledger, request)  # nothing fed: the read models are behind
        fed, caught_up, rebuilt = fed_then_rebuilt(ledger, export, "generic", tmp_path,
                                                   batch_events=7)
    assert fed == caught_up == rebuilt
    assert len(fed["rm_client_directory"]) == 5


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.skipif(
    not POSTGRES_URL, reason="PRACTICE_TEST_POSTGRES_URL is not set"))]


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=8, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(clients=st.integers(1, 8), appointments=st.integers(0, 60), seed=st.integers(0, 99),
       batch=st.integers(1, 40), feed=st.integers(1, 80), sealed=st.booleans())
def test_any_import_fed_from_memory_equals_its_rebuild(
        backend: str, tmp_path_factory: pytest.TempPathFactory, clients: int,
        appointments: int, seed: int, batch: int, feed: int, sealed: bool) -> None:
    folder = tmp_path_factory.mktemp("feed")
    export = folder / "export"
    write_generic_export(export, clients=clients, appointments=max(appointments, clients),
                         seed=seed)
    saved = feed_module.FED_EVENTS
    feed_module.FED_EVENTS = feed
    try:
        with fresh_ledger(backend, sealed) as ledger:
            fed, caught_up, rebuilt = fed_then_rebuilt(
                ledger, export, "generic", folder, batch_events=batch, date_format="MM/DD/YYYY")
    finally:
        feed_module.FED_EVENTS = saved
    assert fed == caught_up == rebuilt
