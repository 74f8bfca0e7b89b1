"""The appointments pass of an import: which rows are visits (rules T1, the diary's horizon, a
client's death, an open booking with a later outcome), and the facts each one records with
the notes and measures joined to it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from practice_es.domain.moments import BOOKING_HORIZON_YEARS, booking_horizon
from practice_es.migration import facts
from practice_es.migration.clients import ClientEntry
from practice_es.migration.details import Detail, DetailIndex, combine
from practice_es.migration.reading import ExportFile
from practice_es.migration.rows import Appointment, visit_day_key
from practice_es.migration.summary import ImportSummary

Reject = Callable[[ExportFile, int, str, str], None]  # file, row number, legacy id, reason
Record = Callable[[facts.Unit], bool]  # True if the unit was new


class VisitPass:
    """Takes each valid appointment row with its client; records it or rejects it, saying
    why. `now` is the import's today; `last_outcome`, per client, the start of their last
    appointment with an outcome."""

    def __init__(self, source: str, now: datetime, last_outcome: dict[UUID, datetime],
                 details: DetailIndex | None, summary: ImportSummary, reject: Reject,
                 record: Record) -> None:
        self.visit_id = facts.ids_under(source, "appointment")
        self.now = now
        self.last_outcome = last_outcome
        self.details = details
        self.summary = summary
        self.reject = reject
        self.record = record

    def take(self, file: ExportFile, number: int, entry: ClientEntry,
             row: Appointment) -> None:
        status = self._status(file, number, entry, row)
        if status is not None:
            self._record_visit(file, number, entry, row, status)

    def _status(self, file: ExportFile, number: int, entry: ClientEntry,
                row: Appointment) -> str | None:
        day = row.start.date()
        if (problem := self._out_of_time(row)) is not None:
            self.reject(file, number, row.legacy_id, problem)
            return None
        if entry.died_on is not None and day > entry.died_on:
            self.reject(file, number, row.legacy_id, f"start: {day} is after the client's "
                        f"death on {entry.died_on}: not a visit")
            return None
        if row.status != "open":
            return row.status
        later = self.last_outcome.get(entry.client_id)
        if later is not None and later > row.start:
            self.reject(file, number, row.legacy_id, "status: a past appointment with no "
                        "outcome (not cancelled, not arrived, not did-not-arrive; the client "
                        f"came back on {later.date()}): reported, not guessed")
            return None
        return "scheduled"

    def _out_of_time(self, row: Appointment) -> str | None:
        """A fact after the import's now (rule T1), or a booking past the diary's horizon."""
        if row.status in ("completed", "no-show") and row.start > self.now:
            return (f"start: {row.start.date()} is after today ({self.now.date()}): a visit "
                    "is not done before it happens (rule T1)")
        if row.status in ("scheduled", "open") and row.start > booking_horizon(self.now):
            return (f"start: {row.start.date()} is more than {BOOKING_HORIZON_YEARS} years ahead: "
                    "not a booking")
        return None

    def _record_visit(self, file: ExportFile, number: int, entry: ClientEntry,
                      row: Appointment, status: str) -> None:
        visit_id = self.visit_id(row.legacy_id)
        joined = self._details_of(row, entry) if status == "completed" else []
        kind, text = row.kind, row.notes
        own_notes = f"{kind}; {text}" if kind and text else kind or text or None
        notes, measures = combine(joined, own_notes, row.measures)
        unit = facts.visit(entry.client_id, visit_id, row, status,
                           facts.actor(file.name, number), notes, measures)
        self.summary.visits += 1
        new = self.record(unit)
        if new:
            self.summary.imported += len(joined)
        else:
            self.summary.already_present += len(joined)

    def _details_of(self, row: Appointment, entry: ClientEntry) -> list[Detail]:
        if self.details is None:
            return []
        found = self.details.take(row.legacy_id)
        found += self.details.take(visit_day_key(str(entry.client_id), row.start.date()))
        return found
