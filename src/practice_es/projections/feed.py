"""Feeding the read models an import's events as it records them (ADR 34).

The import hands over each batch once committed: its log positions, and each event's topic
and state as encoded before sealing. The runner's decoder takes those states instead of the
log's bytes (`EventDecoder._recorded`: the same events a decoding of the log gives, without
opening each sealed block), and the read models catch up every FED_EVENTS events, so only so
many are held at once. Read models that held nothing when the import began are written as a
rebuild writes them: their secondary indexes left out until the end (indexes.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import select

from practice_es.projections import indexes
from practice_es.projections.engine import fold_wal
from practice_es.projections.runner import PAGE_SIZE, PAGES_PER_TRANSACTION, ProjectionRunner
from practice_es.projections.runner import positions as positions_table

FED_EVENTS = PAGE_SIZE * PAGES_PER_TRANSACTION  # recorded events held before catching up
Recorded = Callable[[Sequence[int], list[tuple[str, bytes]]], None]


@contextmanager
def feeding(runner: ProjectionRunner) -> Iterator[Recorded]:
    """What to tell of each committed batch while an import records; on leaving, the read
    models are caught up to the log's head (not if the import failed: the next reader does)."""
    runner.ensure()
    known = runner.decoder.known

    def recorded(positions: Sequence[int], events: list[tuple[str, bytes]]) -> None:
        known.update(zip(positions, events, strict=True))
        if len(known) >= FED_EVENTS:
            runner.catch_up(until=positions[-1])
            known.clear()  # (any left belong to no projection's topics)

    deferred = _defer_indexes(runner)
    try:
        yield recorded
        runner.catch_up()
    finally:
        known.clear()
        if deferred:
            with runner.transaction() as conn:
                indexes.restore(conn, runner.projections.values())
            fold_wal(runner.engine)


def _defer_indexes(runner: ProjectionRunner) -> bool:
    """Leave out the deferrable indexes of read models that hold nothing yet (every one at
    position 0, as after `practice init`): whether it did."""
    if runner.read_only:
        return False
    with runner.transaction() as conn:
        stored = conn.execute(select(positions_table.c.position)).scalars().all()
        if any(stored):
            return False
        indexes.drop(conn, indexes.deferrable(runner.projections.values()))
    return True
