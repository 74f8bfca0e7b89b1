"""`practice client erase`: the right to erasure, by destroying the client's own key (ADR 9)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

import click

from practice_es.commands.context import action
from practice_es.commands.output import say
from practice_es.commands.references import CLIENT

if TYPE_CHECKING:
    from practice_es.application import PracticeLedger


@click.command()
@click.argument("client_id", type=CLIENT, metavar="CLIENT")
@click.option("--reason", required=True,
              help="Why (e.g. 'client request'); stored in clear, so never what was erased.")
@action
def erase(ledger: PracticeLedger, client_id: UUID, reason: str, on: Any) -> dict[str, Any]:
    """Erase a client's personal and health details (ClientErased), for good.

    Destroys the client's own key: their name, contact and health details read as [erased]
    everywhere from then on. Counts in reports stay, and `audit verify` still passes: no stored
    event changes. Running it again on an erased client completes an interrupted erasure.
    """
    if not ledger.erase_client(client_id, reason=reason, on=on):
        say("erased; another process was reading the ledger, so the destroyed key's old bytes "
            "leave the database file at its next checkpoint")
    return {"client_id": client_id}
