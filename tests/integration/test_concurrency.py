"""Two real processes completing visits for the same client at the same moment (SPEC §8):
one wins, the other exits 3 with a conflict message; no event is lost or duplicated."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.sqlite import SQLiteDatastore

from practice_es.application import PracticeLedger
from practice_es.domain.client import Client
from practice_es.infrastructure.settings import Settings
from practice_es.infrastructure.store import prepare_sqlite_file
from tests.conftest import count_events

# The worker imports everything first, says it is ready, and waits for the start signal, so
# the processes really act at the same moment. With `forced`, each also waits, after loading
# the client and before saving, until every worker has loaded it: a guaranteed collision.
WORKER = r"""
import sys, time
from pathlib import Path
from typing import Any
import practice_es.application as application
from practice_es.commands.main import cli

signals, me, forced, parties, args = Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "1", \
    int(sys.argv[4]), sys.argv[5:]

def wait_until(done, seconds=30.0):
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        time.sleep(0.001)

if forced:
    save = application.PracticeLedger.save
    def save_together(self, *objs, **kwargs):
        (signals / f"loaded-{me}").touch()
        wait_until(lambda: len(list(signals.glob("loaded-*"))) >= parties)
        return save(self, *objs, **kwargs)
    application.PracticeLedger.save = save_together

(signals / f"ready-{me}").touch()
wait_until(lambda: (signals / "go").exists())
cli.main(args=args, prog_name="practice")
"""


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str


def race(db_url: str, signals: Path, args: list[str], parties: int,
         forced: bool) -> list[Outcome]:
    """Start `parties` processes running `practice ARGS`, release them at once, collect."""
    signals.mkdir()
    env = {**os.environ, "PRACTICE_DB": db_url, "PRACTICE_TZ": "UTC",
           "PRACTICE_ACTOR": "racer"}
    env.pop("PRACTICE_DEBUG", None)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(signals), str(n), "1" if forced else "0",
             str(parties), *args],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n in range(parties)
    ]
    wait_for(lambda: len(list(signals.glob("ready-*"))) == parties)
    (signals / "go").touch()
    outcomes = []
    for proc in procs:
        out, err = proc.communicate(timeout=90)
        outcomes.append(Outcome(proc.returncode, out, err))
    return outcomes


def wait_for(done: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.01)


def check_each(outcomes: list[Outcome]) -> list[str]:
    """Each process either recorded its visit (printing its id) or lost with exit 3."""
    won = []
    for outcome in outcomes:
        assert "Traceback" not in outcome.stderr
        if outcome.code == 0:
            won.append(str(UUID(outcome.stdout.strip())))
        else:
            assert outcome.code == 3, outcome.stderr
            assert "conflict" in outcome.stderr
            assert outcome.stdout == ""
    return won


def stored_history(db_url: str, client: UUID) -> tuple[int, list[Any]]:
    ledger = PracticeLedger(Settings(db_url=db_url, actor="auditor"))
    try:
        return ledger.client(client).version, list(ledger.events.get(client))
    finally:
        ledger.close()


def test_two_processes_completing_visits_for_one_client(db_url: str, tmp_path: Path) -> None:
    ledger = PracticeLedger(Settings(db_url=db_url, actor="front-desk"))
    try:
        client = ledger.record_intake(name="Ann Smith")
    finally:
        ledger.close()
    args = ["visit", "complete", str(client), "--measure", "pain=3"]
    won: list[str] = []
    rounds = [(2, True)] * 3 + [(3, False)]  # forced collisions, then a free race
    for number, (parties, forced) in enumerate(rounds):
        outcomes = race(db_url, tmp_path / f"round-{number}", args, parties, forced)
        winners = check_each(outcomes)
        if forced:
            assert len(winners) == 1, outcomes  # both had loaded the same version
        assert winners, outcomes
        won += winners

    version, events = stored_history(db_url, client)
    completed = [e for e in events if isinstance(e, Client.VisitCompleted)]
    assert sorted(str(e.visit_id) for e in completed) == sorted(won)  # none lost, none twice
    assert version == len(events) == 1 + len(won)
    assert [e.originator_version for e in events] == list(range(1, version + 1))



def test_processes_opening_a_new_store_at_once_all_succeed(db_url: str, tmp_path: Path) -> None:
    """`practice init` run at once on an empty database (a fresh PostgreSQL schema): all
    create the store at the same moment, none may fail because another created a table or
    type first; then actions at once all succeed (only init creates a ledger, SPEC §9)."""
    parties = 6
    outcomes = race(db_url, tmp_path / "signals", ["init"], parties, False)
    assert [o.code for o in outcomes] == [0] * parties, [o.stderr for o in outcomes]
    outcomes = race(db_url, tmp_path / "again", ["client", "intake", "--name", "Racer"],
                    parties, False)
    assert [o.code for o in outcomes] == [0] * parties, [o.stderr for o in outcomes]
    assert count_events(db_url) == parties


def test_a_new_sqlite_ledger_opens_while_another_process_is_writing(tmp_path: Path) -> None:
    """SQLite switches a file to WAL without waiting on the busy timeout: a ledger file must be
    born in WAL mode, or `practice init` racing another init fails with 'database is locked'."""
    path = tmp_path / "new.db"
    prepare_sqlite_file(path)
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as writer:
        writer.execute("BEGIN IMMEDIATE")  # another process is creating the tables
        store = SQLiteDatastore(str(path), lock_timeout=1)
        with store.transaction(commit=False) as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone()[0] == 1
        store.close()
        writer.execute("ROLLBACK")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir()] == ["new.db"]  # no draft left behind
