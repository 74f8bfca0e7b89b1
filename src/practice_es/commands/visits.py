"""`practice visit …`: schedule, reschedule, complete, cancel, no-show."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

import click

from practice_es.commands.context import action
from practice_es.commands.params import DATETIME, MEASURE, measures_dict
from practice_es.commands.references import CLIENT, PROGRAM, VISIT

if TYPE_CHECKING:
    from practice_es.application import PracticeLedger


@click.group()
def visit() -> None:
    """Visits: scheduled, rescheduled, completed, cancelled or missed."""


@visit.command()
@click.argument("client_id", type=CLIENT, metavar="CLIENT")
@click.option("--at", required=True, type=DATETIME, help="When the visit is booked for.")
@click.option("--program", type=PROGRAM, help="The active program it belongs to (C3).")
@action
def schedule(ledger: PracticeLedger, client_id: UUID, **fields: Any) -> dict[str, Any]:
    """Book a visit (VisitScheduled). Prints the visit id."""
    return {"visit_id": ledger.schedule_visit(client_id, **fields), "client_id": client_id}


@visit.command()
@click.argument("client_id", type=CLIENT, metavar="CLIENT")
@click.option("--visit", "visit_id", required=True, type=VISIT)
@click.option("--at", required=True, type=DATETIME)
@action
def reschedule(ledger: PracticeLedger, client_id: UUID, **fields: Any) -> dict[str, Any]:
    """Move a booked visit (VisitRescheduled)."""
    return {"visit_id": ledger.reschedule_visit(client_id, **fields), "client_id": client_id}


@visit.command()
@click.argument("client_id", type=CLIENT, metavar="CLIENT")
@click.option("--visit", "visit_id", type=VISIT, help="The booked visit (omit for a walk-in).")
@click.option("--program", type=PROGRAM, help="The active program it belongs to (C3).")
@click.option("--measure", "measures", type=MEASURE, multiple=True)
@click.option("--notes")
@action
def complete(ledger: PracticeLedger, client_id: UUID,
             measures: tuple[tuple[str, float], ...], **fields: Any) -> dict[str, Any]:
    """Record a completed visit (VisitCompleted; Reactivated after a lapse, C5)."""
    visit_id = ledger.complete_visit(client_id, measures=measures_dict(measures), **fields)
    return {"visit_id": visit_id, "client_id": client_id}


def _closing(name: str, method: str, help_text: str) -> None:
    @visit.command(name=name, help=help_text)
    @click.argument("client_id", type=CLIENT, metavar="CLIENT")
    @click.option("--visit", "visit_id", required=True, type=VISIT)
    @click.option("--reason")
    @action
    def command(ledger: PracticeLedger, client_id: UUID, **fields: Any) -> dict[str, Any]:
        return {"visit_id": getattr(ledger, method)(client_id, **fields),
                "client_id": client_id}


_closing("cancel", "cancel_visit", "Cancel a booked visit (VisitCancelled).")
_closing("no-show", "miss_visit", "The client did not come (VisitMissed).")
