"""A large import records its batches in a second process: the same events in the same log
order as recording them itself, its errors reach the import, and it dies with the import (a
killed import run again ends as a clean run, never racing a batch of the killed one)."""

from __future__ import annotations

import contextlib
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from bench.bench_import import write_generic_export
from practice_es.audit.verify import verify_chain
from practice_es.infrastructure.chain import as_chained
from practice_es.migration.mapping import load_preset
from practice_es.migration.recorder_process import RecorderProcess, Row
from tests.conftest import count_events, opened
from tests.integration.migration_support import run_import, stored_states

BATCH = 300
PATIENCE = 60.0  # seconds to wait for a condition before the test fails (not a measurement)
GENERIC = load_preset("generic")


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    write_generic_export(folder, clients=200, appointments=3000, seed=5)
    return folder


def test_the_second_process_records_what_the_import_itself_would(
        db_url: str, tmp_path: Path, export: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    itself = f"sqlite:///{tmp_path / 'itself.db'}"
    run_import(itself, export, tmp_path, GENERIC, recorder_process=False, batch_events=BATCH)
    sent: list[int] = []
    real_insert = RecorderProcess.insert

    def insert(self: RecorderProcess, rows: Sequence[Row]) -> None:
        sent.append(len(rows))
        real_insert(self, rows)

    monkeypatch.setattr(RecorderProcess, "insert", insert)

    summary = run_import(db_url, export, tmp_path, GENERIC, recorder_process=True,
                         batch_events=BATCH)

    assert summary.events > 10 * BATCH and sum(sent) > summary.events / 2
    assert stored_states(db_url) == stored_states(itself)  # the same log, in the same order
    for url in (db_url, itself):  # and each chained as the audit expects
        with opened(url) as ledger:
            verification = verify_chain(as_chained(ledger.recorder))
        assert verification.ok and verification.events == summary.events


def test_a_batch_the_second_process_cannot_record_is_the_import_s_error(db_url: str) -> None:
    with opened(db_url) as ledger:
        ident = uuid4()
        event = StoredEvent(originator_id=ident, originator_version=1,
                            topic="practice:Nothing", state=b"{}")
        ledger.recorder.insert_events([event])
        process = RecorderProcess(ledger.settings)
        try:
            assert process.ready(wait=True)
            process.insert([(ident.bytes, 1, event.topic, event.state)])  # the same id, version
            with pytest.raises(IntegrityError):
                process.wait()
        finally:
            process.close()
        assert count_events(db_url) == 1


WORKER = """
import sys
from pathlib import Path
from practice_es.application import PracticeLedger
from practice_es.infrastructure.settings import Settings
from practice_es.migration.importer import ImportRequest, import_export
from practice_es.migration.mapping import load_preset

url, export, rejects = sys.argv[1:]
ledger = PracticeLedger(Settings(db_url=url, actor="process-test"))
import_export(ledger, ImportRequest(paths=(Path(export),), mapping=load_preset("generic"),
                                    rejects=Path(rejects), batch_events=300,
                                    recorder_process=True))
"""


def children_of(pid: int) -> list[int]:
    """The processes `pid` started (Linux: read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Whether the process runs (a zombie, dead but not yet reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def wait_until(condition: Callable[[], bool]) -> None:
    """Wait for the condition, failing after `PATIENCE` seconds (a bound, not a timing)."""
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.01)


@pytest.mark.parametrize("seed", [21, 22])
def test_an_import_killed_with_its_second_process_then_run_again_equals_a_clean_run(
        db_url: str, tmp_path: Path, export: Path, seed: int) -> None:
    clean = f"sqlite:///{tmp_path / 'clean.db'}"
    run_import(clean, export, tmp_path, GENERIC, recorder_process=False)
    total = count_events(clean)
    chance = random.Random(seed)
    with opened(db_url) as ledger:  # a quick look at the log while the worker imports
        worker = subprocess.Popen([sys.executable, "-c", WORKER, db_url, str(export),
                                   str(tmp_path / "r.csv")], stderr=subprocess.DEVNULL)
        moment = chance.uniform(0.2, 0.7) * total
        while worker.poll() is None and (ledger.recorder.max_notification_id() or 0) < moment:
            time.sleep(0.005)
        recorders = children_of(worker.pid)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert recorders  # the import had started its second process
    wait_until(lambda: not any(map(alive, recorders)))  # which died with it, recording no more
    partial = count_events(db_url)

    run_import(db_url, export, tmp_path, GENERIC, recorder_process=True, batch_events=BATCH)

    assert 0 < partial < total
    assert set(stored_states(db_url)) == set(stored_states(clean))


def test_streams_dropped_while_batches_are_in_flight_are_read_back_right(
        db_url: str, tmp_path: Path) -> None:
    """Synthea's encounters are not sorted by patient: with room for 30 facts, clients are
    dropped and read back while the second process still records earlier batches; none of
    a batch in flight is dropped, so the events are those of a clean run."""
    clean = f"sqlite:///{tmp_path / 'clean.db'}"
    run_import(clean, "synthea", tmp_path, recorder_process=False)

    run_import(db_url, "synthea", tmp_path, recorder_process=True, facts_in_memory=30,
               batch_events=50)

    assert set(stored_states(db_url)) == set(stored_states(clean))


@pytest.mark.parametrize("second_process", [False, True])
def test_after_an_import_every_commit_is_synced_again_and_the_log_checkpointed(
        tmp_path: Path, export: Path, second_process: bool) -> None:
    """A bulk insert's commits are not synced one by one (a re-run restores what a machine
    crash would lose); once the import ends, the ledger is durable, and each connection of
    its pool syncs and checkpoints as SQLite does by default."""
    from practice_es.migration.importer import ImportRequest, import_export

    with opened(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        import_export(ledger, ImportRequest(
            paths=(export,), mapping=GENERIC, rejects=tmp_path / "rejects.csv",
            batch_events=BATCH, recorder_process=second_process))
        datastore = ledger.recorder.datastore  # type: ignore[attr-defined]
        for _ in range(6):  # the pool hands its idle connections out in turn
            with datastore.get_connection(commit=True) as conn:
                cursor = conn.cursor()
                cursor.execute("PRAGMA synchronous")
                assert cursor.fetchone()[0] == 2  # FULL
                cursor.execute("PRAGMA wal_autocheckpoint")
                assert cursor.fetchone()[0] == 1000
        with datastore.get_connection(commit=True) as conn:
            cursor = conn.cursor()
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
            busy, logged, copied = cursor.fetchone()
    assert (busy, logged - copied) == (0, 0)  # nothing of the import left uncheckpointed
