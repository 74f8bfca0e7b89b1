"""Where a report reads from: the live read models, caught up first, or — for a report as
the ledger knew it at a past moment — the same projections run into a scratch in-memory
database over only the events recorded (not occurred) by then."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Connection

if TYPE_CHECKING:
    from practice_es.application import PracticeLedger
    from practice_es.projections.runner import ProjectionRunner

T = TypeVar("T")


def recorded_by(moment: datetime) -> Callable[[object], bool]:
    """Keep the events whose record time (the library's timestamp) is not after `moment`."""
    def keep(event: object) -> bool:
        return bool(event.timestamp <= moment)  # type: ignore[attr-defined]

    return keep


def known_at_runner(ledger: PracticeLedger, moment: datetime) -> ProjectionRunner:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    from practice_es.projections.registry import all_projections
    from practice_es.projections.runner import ProjectionRunner

    engine = create_engine("sqlite://", poolclass=StaticPool)  # one private connection
    return ProjectionRunner(ledger, all_projections(), engine=engine, keep=recorded_by(moment))


@contextmanager
def read_models(ledger: PracticeLedger, live: Callable[[], ProjectionRunner],
                known_at: datetime | None = None) -> Iterator[Connection]:
    """A connection to read models that reflect every event recorded (by `known_at`)."""
    runner = live() if known_at is None else known_at_runner(ledger, aware(ledger, known_at))
    try:
        runner.catch_up()
        with runner.engine.connect() as conn:
            yield conn
    finally:
        if known_at is not None:
            runner.close()


def aware(ledger: PracticeLedger, moment: datetime) -> datetime:
    """A time with no offset is the practice's local time (SPEC §3)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=ledger.settings.zone)


def report_day(ledger: PracticeLedger, given: date | None, known_at: datetime | None) -> date:
    """The day a report is as of: the one given, else the known-at moment's, else today."""
    if given is not None:
        return given
    moment = aware(ledger, known_at) if known_at else datetime.now(ledger.settings.zone)
    return moment.astimezone(ledger.settings.zone).date()


def build(ledger: PracticeLedger, live: Callable[[], ProjectionRunner],
          known_at: datetime | None, make: Callable[[Connection], T]) -> T:
    with read_models(ledger, live, known_at) as conn:
        return make(conn)
