"""Loading and saving aggregates over the ledger's store: what the service builds on.

A missing aggregate is NotFound, a conflicting save a ConcurrentChange (domain errors the CLI
and the web desk report), and an aggregate numbered per client (its programs, the referrals
made for it) is found by probing its derived ids, with no scan of the log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import count
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, OperationalError, Recording

from practice_es.domain.errors import ConcurrentChange, NotFound
from practice_es.domain.events import PracticeAggregate
from practice_es.infrastructure.ledger_store import LedgerStore
from practice_es.infrastructure.snapshots import project

TAggregate = TypeVar("TAggregate", bound=PracticeAggregate)
MakeId = Callable[[UUID, int], UUID]  # the id numbered `n` of an owner's (domain/keys.py)


class AggregateStore(LedgerStore):
    def load(self, kind: type[TAggregate], ident: UUID, what: str) -> TAggregate:
        """The aggregate `ident`, or NotFound naming `what` if it is none or not a `kind`."""
        try:
            aggregate: object = self.repository.get(ident, projector_func=project)
        except AggregateNotFoundError:
            raise NotFound(what, ident) from None
        if not isinstance(aggregate, kind):
            raise NotFound(what, ident)
        return aggregate

    def exists(self, ident: UUID) -> bool:
        return bool(self.recorder.select_events(ident, limit=1))

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """Save every pending event in one transaction; a conflict is a ConcurrentChange."""
        try:
            return super().save(*objs, **kwargs)
        except IntegrityError:
            raise ConcurrentChange(
                "someone else changed the same record at the same moment; nothing was "
                "recorded, try again"
            ) from None
        except OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                raise ConcurrentChange(f"the ledger is busy ({error}); try again") from None
            raise

    def recorded_ids(self, make_id: MakeId, owner: UUID) -> Iterator[UUID]:
        """The owner's ids numbered 1, 2, … by `make_id`, up to the first not yet recorded."""
        for number in count(1):
            ident = make_id(owner, number)
            if not self.exists(ident):
                return
            yield ident

    def next_free_id(self, make_id: MakeId, owner: UUID) -> tuple[int, UUID]:
        """The number and id of the owner's first `make_id` id not yet recorded."""
        number = sum(1 for _ in self.recorded_ids(make_id, owner)) + 1
        return number, make_id(owner, number)
