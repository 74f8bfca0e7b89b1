"""One line of plain words per event, as the progress timeline shows it (no health details
beyond what the practitioner wrote as findings and notes)."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from practice_es.domain.events import DomainEvent
from practice_es.projections.bulk import local_time


def _when(value: Any) -> str:
    """`2026-01-05 09:00` (isoformat runs in C where strftime formats in Python, with the same
    text from year 1000 on; of the time without its zone, whose offset it would otherwise
    work out only to cut it off)."""
    if value.year >= 1000:
        return str(local_time(value).isoformat(" ", "minutes"))
    return str(value.strftime("%Y-%m-%d %H:%M"))


def _reason(event: Any) -> str:
    reason = getattr(event, "reason", None)
    return f" ({reason})" if reason else ""


def _intake(e: Any) -> str:
    source = f"; source {e.referral_source}" if e.referral_source else ""
    referrer = f" {e.referrer}" if e.referral_source and e.referrer else ""
    reasons = f": {', '.join(e.reasons)}" if e.reasons else ""
    return f"intake{reasons}{source}{referrer}"


def _reactivated(e: Any) -> str:
    return "reactivated after a recall" if e.recall_id else "reactivated"


def _program(e: Any) -> str:
    return (f"{e.phase} program recommended: {e.visits} visits at {e.per_week:g}/week, "
            f"re-evaluate after {e.reevaluate_after}")


_SUMMARIES: dict[str, Callable[[Any], str]] = {
    "IntakeRecorded": _intake,
    "ContactUpdated": lambda e: "contact details updated",
    "HealthHistoryUpdated": lambda e: "health history updated",
    "AssessmentRecorded": lambda e: f"assessment: {e.findings}",
    "ContraindicationCleared": lambda e: f"contraindication {e.contraindication!r} cleared "
                                         f"by {e.by}",
    "VisitScheduled": lambda e: f"visit booked for {_when(e.at)}",
    "VisitRescheduled": lambda e: f"visit moved to {_when(e.at)}",
    "VisitCancelled": lambda e: f"visit cancelled{_reason(e)}",
    "VisitMissed": lambda e: f"no-show{_reason(e)}",
    "VisitCompleted": lambda e: "visit completed" + (f": {e.notes}" if e.notes else ""),
    "Lapsed": lambda e: f"lapsed (swept as of {e.as_of}, after {e.after_days} days)",
    "RecallSent": lambda e: f"recall sent by {e.channel}",
    "Reactivated": _reactivated,
    "ProgramRecommended": _program,
    "ProgramAccepted": lambda e: f"program accepted{_reason(e)}",
    "ProgramDeclined": lambda e: f"program declined{_reason(e)}",
    "ProgramWithdrawn": lambda e: f"recommendation withdrawn{_reason(e)}",
    "ProgramReevaluated": lambda e: f"re-evaluated ({e.outcome}): {e.findings}",
    "ProgramCompleted": lambda e: f"program completed{_reason(e)}",
    "ProgramDiscontinued": lambda e: f"program discontinued{_reason(e)}",
    "ReferralMade": lambda e: f"referred out to {e.provider}: {e.reason}",
    "ReferralOutcomeRecorded": lambda e: "provider cleared the client" if e.cleared
    else "provider did not clear the client",
    "CareReportSent": lambda e: f"care report sent: {e.summary}",
    "EntryCorrected": lambda e: _corrected(e),
}


def _corrected(e: Any) -> str:
    fields = ", ".join(sorted(e.changes))
    return f"corrected the {e.corrected_event} entry ({fields}): {e.reason}"


def corrected_summary(corrected_event: str, changes: dict[str, Any]) -> str | None:
    """The corrected entry's new summary, when the correction changes what it shows."""
    if corrected_event == "VisitCompleted" and "notes" in changes:
        return _SUMMARIES[corrected_event](SimpleNamespace(notes=changes["notes"]))
    if corrected_event == "AssessmentRecorded" and "findings" in changes:
        return _SUMMARIES[corrected_event](SimpleNamespace(findings=changes["findings"]))
    return None


def summarise(event: DomainEvent) -> str:
    return summarise_as(type(event).__name__, event)


def summarise_as(name: str, fields: Any) -> str:
    """The summary of an event of class `name` whose fields read as `fields`' attributes."""
    summary = _SUMMARIES.get(name)
    return summary(fields) if summary is not None else name
