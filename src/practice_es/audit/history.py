"""A client's history: every event of the client, their programs of care and the referrals
that concern them, in log order, and the client as the ledger knew them at a moment.

Found by id, never by scanning the log: programs and referrals out have derived ids
(`program_id(client, n)`, `outbound_referral_id(client, n)` for n = 1 … until one is absent),
the referral that brought the client is named by the intake, and the referrals the client made
come from the `referrers` index. `--as-of T` keeps what had been *recorded* by T (record time,
the event's `timestamp`), whatever its business date.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, Notification

from practice_es.audit.state import known_state
from practice_es.domain.client import Client
from practice_es.domain.errors import NotFound
from practice_es.domain.events import DomainEvent
from practice_es.domain.keys import outbound_referral_id, program_id
from practice_es.infrastructure.chain import ChainedRecorder

BATCH = 8  # derived ids asked for per query; a client rarely has more programs than this
NUMBERED: tuple[Callable[[UUID, int], UUID], ...] = (program_id, outbound_referral_id)
ENVELOPE = {"originator_id", "originator_version", "originator_topic", "timestamp",
            "occurred_on", "actor"}


def in_zone(moment: datetime, zone: tzinfo | None) -> datetime:
    return moment.astimezone(zone) if zone is not None else moment


@dataclass(frozen=True)
class Entry:
    """One event of the history, with its position in the log."""

    position: int
    event: DomainEvent

    @property
    def aggregate(self) -> str:
        return type(self.event).__qualname__.split(".")[0]

    @property
    def name(self) -> str:
        return type(self.event).__name__

    def data(self) -> dict[str, Any]:
        return self.event.model_dump(mode="json", exclude=ENVELOPE)

    def as_json(self, zone: tzinfo | None = None) -> dict[str, Any]:
        """With `zone` (the practice's), both times are given in it: the same instants."""
        event = self.event
        return {
            "position": self.position,
            "recorded_at": in_zone(event.timestamp, zone).isoformat(),
            "occurred_on": in_zone(event.occurred_on, zone).isoformat(),
            "actor": event.actor,
            "aggregate": self.aggregate,
            "aggregate_id": str(event.originator_id),
            "version": event.originator_version,
            "event": self.name,
            "data": self.data(),
        }


@dataclass(frozen=True)
class History:
    client_id: UUID
    as_of: datetime | None
    entries: list[Entry]
    state: dict[str, Any] | None  # None: the client was not yet known at `as_of`

    def as_json(self, zone: tzinfo | None = None) -> dict[str, Any]:
        return {
            "client_id": str(self.client_id),
            "as_of": in_zone(self.as_of, zone).isoformat() if self.as_of else None,
            "events": [entry.as_json(zone) for entry in self.entries],
            "state": self.state,
        }


def client_history(recorder: ChainedRecorder, mapper: Mapper[UUID], client_id: UUID, *,
                   as_of: datetime | None = None,
                   referrals_made: Sequence[UUID] = ()) -> History:
    """The history of one client; `referrals_made`: the inbound referrals naming them."""
    found = _gather(recorder, client_id, referrals_made)
    mine = found[client_id]
    if not mine or mine[0].topic != Client.IntakeRecorded.TOPIC:  # none, or not a client's
        raise NotFound("client", client_id)
    intake = mapper.to_domain_event(found[client_id][0])
    brought_by = getattr(intake, "referral_id", None)
    if brought_by is not None and brought_by not in found:
        found[brought_by] = list(recorder.select_positioned([brought_by]))
    rows = sorted((row for rows in found.values() for row in rows), key=lambda row: row.id)
    entries = [Entry(row.id, mapper.to_domain_event(row)) for row in rows]  # type: ignore[arg-type]
    if as_of is not None:
        entries = [entry for entry in entries if entry.event.timestamp <= as_of]
    return History(client_id, as_of, entries, known_state(client_id, [e.event for e in entries]))


def _gather(recorder: ChainedRecorder, client_id: UUID,
            referrals_made: Sequence[UUID]) -> dict[UUID, list[Notification]]:
    """The stored events of the client, their programs, referrals out and referrals made,
    by aggregate id (each aggregate's events in version order)."""
    found: dict[UUID, list[Notification]] = {}

    def fetch(ids: Sequence[UUID]) -> None:
        wanted = [ident for ident in dict.fromkeys(ids) if ident not in found]
        for ident in wanted:
            found[ident] = []
        for row in recorder.select_positioned(wanted):
            found[row.originator_id].append(row)  # type: ignore[index]

    fetch([client_id, *referrals_made, *_numbered(client_id, 1)])
    start = 1
    # Numbers are given in sequence, so a batch whose last number exists may have a next one.
    while any(found[make(client_id, start + BATCH - 1)] for make in NUMBERED):
        start += BATCH
        fetch(_numbered(client_id, start))
    for rows in found.values():
        rows.sort(key=lambda row: row.originator_version)
    return found


def _numbered(client_id: UUID, start: int) -> list[UUID]:
    return [make(client_id, n) for make in NUMBERED for n in range(start, start + BATCH)]


BACK_DATED_AFTER = timedelta(days=1)


def notes(history: History) -> dict[int, list[str]]:
    """What an auditor should notice, by position: entries recorded well after they occurred
    (back-dated), imported ones, and which entries corrections point at."""
    found: dict[int, list[str]] = {}
    by_version = {(e.event.originator_id, e.event.originator_version): e.position
                  for e in history.entries}
    for entry in history.entries:
        event, mine = entry.event, found.setdefault(entry.position, [])
        late = event.timestamp - event.occurred_on
        if late > BACK_DATED_AFTER:
            mine.append(f"back-dated {late.days} d")
        if event.actor.startswith("migration:"):
            mine.append("migrated")
        corrected = getattr(event, "corrected_version", None)
        if corrected is not None:
            target = by_version.get((event.originator_id, corrected))
            mine.append(f"corrects #{target}" if target else f"corrects v{corrected}")
            if target is not None:
                found.setdefault(target, []).append(f"corrected by #{entry.position}")
    return found
