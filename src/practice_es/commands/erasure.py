"""`practice client erase`: the right to erasure, by destroying the client's own key (ADR 9)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

import click

from practice_es.commands.context import PracticeContext, action
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
    clean = ledger.erase_client(client_id, reason=reason, on=on)
    clean = rewrite_read_models() and clean
    if not clean:
        say("erased; another process was reading the ledger, so the erased details' old bytes "
            "leave the database file at its next checkpoint")
    return {"client_id": client_id}


def rewrite_read_models() -> bool:
    """Here, not in a follower: the read models show the client as erased, and the old pages
    of their rows leave the write-ahead log, before the command exits. False if they could not
    (the next command catches up; SQLite's next checkpoint empties the log)."""
    from practice_es.projections.engine import fold_wal

    practice = click.get_current_context().find_object(PracticeContext)
    assert practice is not None  # the `practice` group always sets it
    try:
        runner = practice.runner()
        runner.catch_up()
        fold_wal(runner.engine)
    except Exception:
        return False
    return True
