"""`practice program …`: recommend, accept, decline, withdraw, re-evaluate, complete,
discontinue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

import click

from practice_es.commands.context import action
from practice_es.commands.params import ID, MEASURE, measures_dict
from practice_es.commands.references import CLIENT, PROGRAM
from practice_es.domain.program import OUTCOMES, PHASES

if TYPE_CHECKING:
    from practice_es.application import PracticeLedger


@click.group()
def program() -> None:
    """Programs of care (treatment plans): evidence-based, specific, honest (P1–P5)."""


@program.command()
@click.argument("client_id", type=CLIENT, metavar="CLIENT")
@click.option("--phase", required=True, type=click.Choice(PHASES))
@click.option("--visits", required=True, type=int, help="Number of visits planned (≥ 1).")
@click.option("--per-week", "per_week", required=True, type=float,
              help="Visits per week (> 0 and ≤ 7).")
@click.option("--goal", "goals", multiple=True, help="A goal of the program (at least one).")
@click.option("--rationale", default="", help="Why this program (required, P3).")
@click.option("--reevaluate-after", "reevaluate_after", type=int,
              help="Re-evaluate after this many visits (default: the last planned).")
@click.option("--assessment", "assessment_id", type=ID,
              help="The assessment it is based on (default: the latest, P1).")
@action
def recommend(ledger: PracticeLedger, client_id: UUID, **fields: Any) -> dict[str, Any]:
    """Recommend a program of care (ProgramRecommended). Prints the program id."""
    return {"program_id": ledger.recommend_program(client_id, **fields),
            "client_id": client_id}


def _lifecycle(name: str, method: str, help_text: str) -> None:
    @program.command(name=name, help=help_text)
    @click.argument("program_id", type=PROGRAM, metavar="PROGRAM")
    @click.option("--reason", help="Why (kept on record).")
    @action
    def command(ledger: PracticeLedger, program_id: UUID, **fields: Any) -> dict[str, Any]:
        return {"program_id": getattr(ledger, method)(program_id, **fields)}


_lifecycle("accept", "accept_program", "The client accepts the program (ProgramAccepted, P5).")
_lifecycle("decline", "decline_program", "The client declines it; it stays on record (P4).")
_lifecycle("complete", "complete_program", "The program is completed (ProgramCompleted).")
_lifecycle("discontinue", "discontinue_program",
           "The program is stopped early (ProgramDiscontinued).")


@program.command()
@click.argument("program_id", type=PROGRAM, metavar="PROGRAM")
@click.option("--reason", required=True, help="Why it was a mistake (kept on record).")
@action
def withdraw(ledger: PracticeLedger, program_id: UUID, **fields: Any) -> dict[str, Any]:
    """Withdraw a recommendation entered by mistake (ProgramWithdrawn): it counts in no rate
    and shows as withdrawn, never as declined (P4: not once accepted or declined)."""
    return {"program_id": ledger.withdraw_program(program_id, **fields)}


@program.command()
@click.argument("program_id", type=PROGRAM, metavar="PROGRAM")
@click.option("--findings", required=True)
@click.option("--measure", "measures", type=MEASURE, multiple=True)
@click.option("--outcome", required=True, type=click.Choice(OUTCOMES))
@action
def reevaluate(ledger: PracticeLedger, program_id: UUID,
               measures: tuple[tuple[str, float], ...], **fields: Any) -> dict[str, Any]:
    """Re-evaluate an active program (ProgramReevaluated); new-program/discharge complete it."""
    return {"program_id": ledger.reevaluate_program(program_id,
                                                    measures=measures_dict(measures), **fields)}
