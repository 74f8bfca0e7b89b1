"""The client as the ledger knew them: their aggregates replayed from the given events only.

Replays the events themselves, never a snapshot: a snapshot is a cache the hash chain does not
cover, and it holds the state at its own version, not at an earlier moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from practice_es.domain.client import Client
from practice_es.domain.events import DomainEvent, PracticeAggregate
from practice_es.domain.program import ProgramOfCare


def replay(events: Sequence[DomainEvent]) -> dict[UUID, PracticeAggregate]:
    """Every aggregate the events make, by id (events in version order per aggregate)."""
    aggregates: dict[UUID, Any] = {}
    for event in events:
        ident = event.originator_id
        aggregates[ident] = event.mutate(aggregates.get(ident))  # type: ignore[attr-defined]
    return aggregates


def known_state(client_id: UUID, events: Sequence[DomainEvent]) -> dict[str, Any] | None:
    """The client's state after these events; None if they hold no intake yet."""
    aggregates = replay(events)
    client = aggregates.get(client_id)
    if not isinstance(client, Client):
        return None
    programs = [a for a in aggregates.values()
                if isinstance(a, ProgramOfCare) and a.client_id == client_id]
    return client_state(client, sorted(programs, key=lambda p: p.number))


def client_state(client: Client, programs: Sequence[ProgramOfCare]) -> dict[str, Any]:
    on = _iso
    return {
        "name": client.name,
        "date_of_birth": on(client.date_of_birth),
        "contact": {"email": client.email, "phone": client.phone},
        "status": client.status,
        "intake_on": on(client.intake_on),
        "reasons": list(client.reasons),
        "goals": list(client.goals),
        "conditions": list(client.conditions),
        "medications": list(client.medications),
        "open_contraindications": sorted(client.open_contraindications.values()),
        "referral_source": client.referral_source,
        "referrer": client.referrer,
        "referral_id": on(client.referral_id),
        "legacy_id": client.legacy_id,
        "completed_visits": client.completed_visits,
        "last_completed_on": on(client.last_completed_on),
        "lapsed_on": on(client.lapsed_on),
        "scheduled_visits": [
            {"visit_id": str(v.visit_id), "at": v.at.isoformat(), "program_id": on(v.program_id)}
            for v in sorted(client.scheduled.values(), key=lambda v: v.at)
        ],
        "programs": [program_state(p) for p in programs],
    }


def program_state(program: ProgramOfCare) -> dict[str, Any]:
    return {
        "program_id": str(program.id),
        "number": program.number,
        "phase": program.phase,
        "visits": program.visits,
        "per_week": program.per_week,
        "goals": list(program.goals),
        "expected_end": program.expected_end.isoformat(),
        "status": program.status,
    }


def _iso(value: Any) -> Any:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
