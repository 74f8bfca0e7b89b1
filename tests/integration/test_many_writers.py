"""Many writers (SPEC §8): 4 real processes, each running `practice` actions one after the
other on a few shared clients, on both backends. Afterwards: every action either succeeded or
exited 3 (a conflict); the log holds exactly one event per success, with exactly the ids the
successes printed; read models caught up from the log equal a rebuild; `audit verify` passes.

Quick by default (4 × 60 actions); `make soak` runs 4 × 250.
"""

from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any
from uuid import UUID

import pytest
from click.testing import CliRunner

from practice_es.application import PracticeLedger
from practice_es.infrastructure.settings import Settings
from practice_es.projections.registry import all_projections
from practice_es.projections.runner import ProjectionRunner
from tests.integration.checks import read_models
from tests.soak import quick_and_soak

WRITERS, CLIENTS = 4, 5
ACTIONS = quick_and_soak(60, 250)  # per writer
# Each action records exactly one event when it succeeds; the id it prints names that event.
KINDS = {"complete": "VisitCompleted", "schedule": "VisitScheduled", "recall": "RecallSent",
         "assess": "AssessmentRecorded", "update": "ContactUpdated"}


def action(kind: str, client: str, rng: random.Random) -> list[str]:
    day = f"2026-{rng.randint(4, 9):02d}-{rng.randint(1, 28):02d}"
    return {
        "complete": ["visit", "complete", client, "--measure", f"pain={rng.randint(0, 10)}",
                     "--on", day],
        # (a minute of its own: two bookings of a client at one time are refused, V2)
        "schedule": ["visit", "schedule", client, "--at",
                     f"{day}T{rng.randint(8, 17):02d}:{rng.randint(0, 59):02d}", "--on", day],
        "recall": ["client", "recall", client, "--channel", rng.choice(["sms", "email"])],
        "assess": ["client", "assess", client, "--findings", "stiff", "--on", day],
        "update": ["client", "update", client, "--phone", f"0{rng.randint(10**8, 10**9)}"],
    }[kind]


def write(db_url: str, clients: list[str], seed: int, count: int) -> list[tuple[str, int, str]]:
    """One writer process: `count` actions on random shared clients, each a fresh `practice`
    invocation (it opens the ledger, acts, catches the read models up, exits)."""
    from practice_es.commands.main import cli

    rng, runner, done = random.Random(seed), CliRunner(), []
    env = {"PRACTICE_DB": db_url, "PRACTICE_ACTOR": f"writer-{seed}", "PRACTICE_TZ": "UTC",
           "PRACTICE_CIPHER_KEY": None}
    for _ in range(count):
        kind = rng.choice(list(KINDS))
        result = runner.invoke(cli, action(kind, rng.choice(clients), rng), env=env)
        done.append((kind, result.exit_code, result.stdout.strip() or result.stderr[-300:]))
    return done


def setup(db_url: str) -> tuple[list[str], int]:
    ledger = PracticeLedger(Settings(db_url=db_url, actor="setup"))
    try:
        clients = [str(ledger.record_intake(name=f"Client {n}", on=_day("2026-03-01")))
                   for n in range(CLIENTS)]
        return clients, len(ledger.recorder.select_notifications(start=None, limit=100))
    finally:
        ledger.close()


def _day(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)


def logged_ids(ledger: PracticeLedger) -> Counter[tuple[str, str]]:
    """(event name, the id an action would print) for every event in the log."""
    found: Counter[tuple[str, str]] = Counter()
    for note in ledger.recorder.select_notifications(start=None, limit=10**6):
        event: Any = ledger.mapper.to_domain_event(note)
        name = type(event).__name__
        ident = (getattr(event, "visit_id", None) or getattr(event, "recall_id", None)
                 or getattr(event, "assessment_id", None) or event.originator_id)
        found[name, str(ident)] += 1
    return found


@pytest.mark.parametrize("per_writer", ACTIONS)
def test_many_writers_lose_nothing_and_double_nothing(db_url: str, per_writer: int) -> None:
    clients, before = setup(db_url)
    with ProcessPoolExecutor(WRITERS, mp_context=get_context("spawn")) as pool:
        jobs = [pool.submit(write, db_url, clients, seed, per_writer) for seed in range(WRITERS)]
        done = [outcome for job in jobs for outcome in job.result()]

    done = [d for d in done if not (d[1] == 1 and "rule V2" in d[2])]  # a rare same minute
    codes = Counter(code for _, code, _ in done)
    assert set(codes) <= {0, 3}, [d for d in done if d[1] not in (0, 3)][:3]
    succeeded = [(KINDS[kind], printed) for kind, code, printed in done if code == 0]
    print(f"\n{db_url.split(':')[0]}: {len(done)} actions by {WRITERS} processes, "
          f"{codes[0]} recorded, {codes[3]} conflicts (exit 3)")

    ledger = PracticeLedger(Settings(db_url=db_url, actor="check"))
    runner = ProjectionRunner(ledger, all_projections())
    try:
        logged = logged_ids(ledger)  # counted, not the last position: PostgreSQL's sequence
        assert sum(logged.values()) == before + len(succeeded)  # skips a conflict's number
        for name, printed in succeeded:
            if name != "ContactUpdated":  # an update prints the client's id
                assert logged[name, str(UUID(printed))] == 1, (name, printed)
        assert sum(n for (name, _), n in logged.items() if name in KINDS.values()) == len(
            succeeded)
        runner.catch_up()
        caught_up = read_models(runner)
        runner.rebuild()
        assert read_models(runner) == caught_up
        verified = CliRunner().invoke(
            _cli(), ["audit", "verify"], env={"PRACTICE_DB": db_url, "PRACTICE_CIPHER_KEY": None})
        assert verified.exit_code == 0, verified.output
        assert f"chain intact: {before + len(succeeded)} events" in verified.stderr
    finally:
        runner.close()
        ledger.close()


def _cli() -> Any:
    from practice_es.commands.main import cli

    return cli
