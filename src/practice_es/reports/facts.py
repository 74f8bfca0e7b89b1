"""The facts analysts need, as rows read from the log (SPEC §11's export): visits, measures,
programs, referrals and lapses, one row per event with its log position.

No personal text: ids, dates, kinds, counts and measures only (no name, note, finding, reason
or summary), so erasing a client never forces an exported file to be rewritten. Rows are
append-only, like the log they come from: a second export adds the events after the first."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from practice_es.domain.events import DomainEvent
from practice_es.projections.base import local_time

Row = dict[str, Any]
Rows = dict[str, list[Row]]

# Each dataset's columns (besides `practice` and `month`, its partitions) and their types.
DATASETS: dict[str, tuple[tuple[str, str], ...]] = {
    "visits": (("position", "int64"), ("visit_id", "string"), ("client_id", "string"),
               ("event", "string"), ("occurred_on", "timestamp"), ("at", "timestamp"),
               ("program_id", "string"), ("practitioner", "string")),
    "measures": (("position", "int64"), ("client_id", "string"), ("source", "string"),
                 ("entry_id", "string"), ("measure", "string"), ("value", "float64"),
                 ("occurred_on", "timestamp")),
    "programs": (("position", "int64"), ("program_id", "string"), ("client_id", "string"),
                 ("event", "string"), ("occurred_on", "timestamp"), ("phase", "string"),
                 ("visits", "int64"), ("per_week", "float64"), ("outcome", "string")),
    "referrals": (("position", "int64"), ("referral_id", "string"), ("event", "string"),
                  ("occurred_on", "timestamp"), ("source_kind", "string"),
                  ("referrer", "string"), ("provider", "string"), ("client_id", "string"),
                  ("cleared", "bool")),
    "lapses": (("position", "int64"), ("client_id", "string"), ("event", "string"),
               ("occurred_on", "timestamp"), ("channel", "string")),
}


def _id(value: Any) -> str | None:
    return None if value is None else str(value)


def _base(position: int, event: DomainEvent, name: str) -> Row:
    return {"position": position, "event": name, "occurred_on": local_time(event.occurred_on)}


def _visit(name: str) -> Callable[[int, Any], Rows]:
    def rows(position: int, e: Any) -> Rows:
        row = {**_base(position, e, name), "visit_id": _id(e.visit_id),
               "client_id": _id(e.originator_id), "at": _local(getattr(e, "at", None)),
               "program_id": _id(getattr(e, "program_id", None)),
               "practitioner": getattr(e, "practitioner", None)}
        found: Rows = {"visits": [row]}
        if name == "completed":
            found["measures"] = _measures(position, e, "visit", e.visit_id)
        return found
    return rows


def _local(moment: datetime | None) -> datetime | None:
    return None if moment is None else local_time(moment)


def _measures(position: int, e: Any, source: str, entry: Any,
              client: Any = None) -> list[Row]:
    return [{"position": position, "client_id": _id(client or e.originator_id),
             "source": source, "entry_id": _id(entry), "measure": name, "value": float(value),
             "occurred_on": local_time(e.occurred_on)} for name, value in e.measures.items()]


def _corrected(position: int, e: Any) -> Rows:
    """A completed visit's corrected date: a `corrected` row carrying the date to use."""
    moved = e.changes.get("occurred_on")
    if e.corrected_event != "VisitCompleted" or moved is None:
        return {}
    row = {**_base(position, e, "corrected"), "visit_id": _id(e.entry_id),
           "client_id": _id(e.originator_id), "at": local_time(datetime.fromisoformat(moved)),
           "program_id": None, "practitioner": None}
    return {"visits": [row]}


def _mark(name: str) -> Callable[[int, Any], Rows]:
    def rows(position: int, e: Any) -> Rows:
        return {"lapses": [{**_base(position, e, name), "client_id": _id(e.originator_id),
                            "channel": getattr(e, "channel", None)}]}
    return rows


def _program(name: str) -> Callable[[int, Any], Rows]:
    def rows(position: int, e: Any) -> Rows:
        row = {**_base(position, e, name), "program_id": _id(e.originator_id),
               "client_id": _id(getattr(e, "client_id", None)),
               "phase": getattr(e, "phase", None), "visits": getattr(e, "visits", None),
               "per_week": getattr(e, "per_week", None), "outcome": getattr(e, "outcome", None)}
        found: Rows = {"programs": [row]}
        if name == "reevaluated":
            found["measures"] = _measures(position, e, "reevaluation", e.originator_id)
        return found
    return rows


def _referral(name: str) -> Callable[[int, Any], Rows]:
    def rows(position: int, e: Any) -> Rows:
        return {"referrals": [{
            **_base(position, e, name), "referral_id": _id(e.originator_id),
            "source_kind": getattr(e, "source_kind", None),
            "referrer": getattr(e, "referrer", None), "provider": getattr(e, "provider", None),
            "client_id": _id(getattr(e, "client_id", None)),
            "cleared": getattr(e, "cleared", None)}]}
    return rows


def _assessed(position: int, e: Any) -> Rows:
    return {"measures": _measures(position, e, "assessment", e.assessment_id)}


FACTS: dict[str, Callable[[int, Any], Rows]] = {
    "VisitScheduled": _visit("scheduled"), "VisitRescheduled": _visit("rescheduled"),
    "VisitCancelled": _visit("cancelled"), "VisitMissed": _visit("missed"),
    "VisitCompleted": _visit("completed"), "EntryCorrected": _corrected,
    "AssessmentRecorded": _assessed,
    "Lapsed": _mark("lapsed"), "RecallSent": _mark("recall"), "Reactivated": _mark("reactivated"),
    "ProgramRecommended": _program("recommended"), "ProgramAccepted": _program("accepted"),
    "ProgramDeclined": _program("declined"), "ProgramReevaluated": _program("reevaluated"),
    "ProgramCompleted": _program("completed"), "ProgramDiscontinued": _program("discontinued"),
    "ProgramWithdrawn": _program("withdrawn"),
    "ReferralReceived": _referral("received"), "ReferralConverted": _referral("converted"),
    "ReferralMade": _referral("made"), "ReferralOutcomeRecorded": _referral("outcome"),
    "CareReportSent": _referral("care_report"),
}


def fact_rows(events: Iterator[tuple[int, DomainEvent]]) -> Rows:
    """The rows of every dataset the events make."""
    found: Rows = {name: [] for name in DATASETS}
    for position, event in events:
        make = FACTS.get(type(event).__name__)
        if make is None:
            continue
        for dataset, rows in make(position, event).items():
            found[dataset].extend(rows)
    return found
