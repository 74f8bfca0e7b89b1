"""A lapse sweep is one transaction: it records every lapse it prints, or none and says so
(exit 3); a conflict with a visit completed meanwhile is retried, reading the clients again
(issue 14, item 3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from practice_es.application import PracticeLedger
from practice_es.infrastructure.settings import Settings

FIRST = datetime(2025, 1, 6, 9, tzinfo=UTC)
AS_OF = (FIRST + timedelta(days=200)).date()
CLIENTS = 520  # more than one batch of the old sweep (500)


def _lapsed_in_store(db_url: str) -> list[UUID]:
    ledger = PracticeLedger(Settings(db_url=db_url, actor="check"))
    try:
        found = []
        for stored in ledger.recorder.select_notifications(start=1, limit=10**9):
            if stored.topic.endswith("Lapsed"):
                found.append(stored.originator_id)
        return found
    finally:
        ledger.close()


def _intakes(ledger: PracticeLedger, count: int) -> list[UUID]:
    return [ledger.record_intake(name=f"Client {n}", on=FIRST) for n in range(count)]


def test_a_visit_completed_during_the_sweep_is_retried_not_half_recorded(db_url: str) -> None:
    settings = Settings(db_url=db_url, actor="sweeper")
    ledger, racer = PracticeLedger(settings), PracticeLedger(settings)
    try:
        ids = _intakes(ledger, CLIENTS)
        came_back = ids[-1]
        save = ledger.save
        raced: list[UUID] = []

        def save_after_a_visit(*objs: Any, **kwargs: Any) -> Any:
            if not raced:  # between the sweep's reading and its commit
                raced.append(racer.complete_visit(came_back, on=FIRST + timedelta(days=150)))
            return save(*objs, **kwargs)

        ledger.save = save_after_a_visit  # type: ignore[method-assign]

        lapsed = ledger.sweep_lapses(ids, as_of=AS_OF, after_days=90)

        assert raced
        assert came_back not in lapsed
        assert sorted(lapsed) == sorted(ids[:-1])
        assert sorted(_lapsed_in_store(db_url)) == sorted(lapsed)
    finally:
        ledger.close()
        racer.close()


# Completes one visit for each client given, as its own process, each a separate command.
VISITS = r"""
import sys
from datetime import datetime
from uuid import UUID
from practice_es.application import PracticeLedger
from practice_es.domain.errors import ConcurrentChange
from practice_es.infrastructure.settings import Settings

ledger = PracticeLedger(Settings(db_url=sys.argv[1], actor="desk"))
on = datetime.fromisoformat(sys.argv[2])
for ident in sys.argv[3:]:
    try:
        ledger.complete_visit(UUID(ident), on=on)
    except ConcurrentChange:
        print("conflict", ident)
"""


def test_sweeps_racing_visits_in_other_processes_print_exactly_what_they_recorded(
        db_url: str, tmp_path: Path) -> None:
    with_ledger = PracticeLedger(Settings(db_url=db_url, actor="setup"))
    try:
        ids = _intakes(with_ledger, 120)
    finally:
        with_ledger.close()
    env = {**os.environ, "PRACTICE_TZ": "UTC", "PRACTICE_CATCH_UP": "inline"}
    visit_on = (FIRST + timedelta(days=150)).isoformat()
    desks = [subprocess.Popen([sys.executable, "-c", VISITS, db_url, visit_on,
                               *map(str, ids[n::3])], env=env, stdout=subprocess.PIPE,
                              text=True) for n in range(2)]
    sweeps = [subprocess.run([sys.executable, "-m", "practice_es", "--db", db_url, "client",
                              "lapse-sweep", "--as-of", AS_OF.isoformat(), "--json"],
                             env=env, capture_output=True, text=True, check=False)
              for _ in range(2)]
    for desk in desks:
        desk.communicate()

    printed: list[str] = []
    for sweep in sweeps:
        assert sweep.returncode in (0, 3), sweep.stderr
        if sweep.returncode == 0:
            printed += json.loads(sweep.stdout)["lapsed"]
        else:
            assert "try again" in sweep.stderr
    assert sorted(map(str, _lapsed_in_store(db_url))) == sorted(printed)
    assert len(set(printed)) == len(printed)  # each client lapsed once
