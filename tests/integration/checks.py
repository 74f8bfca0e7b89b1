"""Checks shared by the crash, concurrency and follower tests: the log as events, the read
models as rows, read models resumed after a crash equal to a rebuild, the chain verified."""

from __future__ import annotations

import os
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from practice_es.application import PracticeLedger
from practice_es.commands.main import cli
from practice_es.infrastructure.settings import Settings
from practice_es.projections.registry import all_projections
from practice_es.projections.runner import ProjectionRunner


def events(ledger: PracticeLedger) -> list[Any]:
    return [ledger.mapper.to_domain_event(n)
            for n in ledger.recorder.select_notifications(start=None, limit=10**7)]


def read_models(runner: ProjectionRunner) -> dict[str, list[tuple[str, ...]]]:
    """Every read-model table's rows, as text, in a stable order."""
    with runner.engine.connect() as conn:
        return {t.name: sorted(tuple(map(str, row)) for row in conn.execute(select(t)))
                for p in runner.projections.values() for t in p.tables}


def check_resume_equals_rebuild(db_url: str) -> list[Any]:
    ledger = PracticeLedger(Settings(db_url=db_url, actor="check"))
    runner = ProjectionRunner(ledger, all_projections())
    try:
        runner.catch_up()
        resumed = read_models(runner)
        runner.rebuild()
        assert read_models(runner) == resumed
        return events(ledger)
    finally:
        runner.close()
        ledger.close()


def check_chain(db_url: str) -> None:
    """`practice audit verify` passes on the ledger at `db_url`."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PRACTICE_")},
           "PRACTICE_ACTOR": "check", "PRACTICE_TZ": "UTC", "PRACTICE_DB": db_url}
    verified = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert verified.exit_code == 0, verified.output
