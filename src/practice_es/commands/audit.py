"""`practice audit …`: history, verify, export; and `practice client correct`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import click

from practice_es.commands.context import PracticeContext, action, pass_practice
from practice_es.commands.output import dumps, say
from practice_es.commands.params import DATETIME
from practice_es.commands.references import CLIENT

if TYPE_CHECKING:
    from practice_es.application import PracticeLedger
    from practice_es.audit.verify import Verification

AS_OF_HELP = ("Show only what had been recorded by then (record time, not business time; "
              "ISO 8601, local to PRACTICE_TZ; a date alone is the start of that day).")


@click.group()
def audit() -> None:
    """Replay a client's history and prove nothing was altered."""


@audit.command()
@click.argument("client_id", type=CLIENT, metavar="CLIENT")
@click.option("--as-of", type=DATETIME, default=None, help=AS_OF_HELP)
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table",
              show_default=True)
@pass_practice
def history(practice: PracticeContext, client_id: UUID, as_of: datetime | None,
            fmt: str) -> None:
    """Every event of the client, their programs and referrals, in log order, and the client
    as the ledger knew them. Back-dated entries are flagged."""
    from practice_es.audit.api import history_of
    from practice_es.audit.render import print_history

    found = history_of(practice.ledger(), practice.runner(), client_id, as_of)
    zone = practice.settings.zone
    if fmt == "json":
        click.echo(dumps(found.as_json(zone)))
    else:
        print_history(found, zone)


@audit.command()
@click.option("--expect-head", metavar="HASH", default=None,
              help="A head hash kept elsewhere (an earlier verify or export): the log up to "
                   "it must be unchanged.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_practice
def verify(practice: PracticeContext, expect_head: str | None, as_json: bool) -> None:
    """Recompute the hash chain over every stored event. Prints the head hash and the number
    of events covered; exit 1 naming the first position that fails."""
    from practice_es.application import PracticeLedger
    from practice_es.audit.api import verify_ledger

    # An auditor needs no key.
    ledger = PracticeLedger(practice.settings, check_key=False, create=False)
    try:
        result = verify_ledger(ledger, expect_head)
    finally:
        ledger.close()
    if as_json:
        click.echo(dumps(_verification_json(result)))
    _judge(result)
    if not as_json:
        click.echo(f"head    {result.head}\nevents  {result.events}")


def _verification_json(result: Verification) -> dict[str, Any]:
    failure = result.failure
    return {"ok": result.ok, "head": result.head, "events": result.events,
            "failure": {"position": failure.position, "problem": failure.problem}
            if failure else None,
            "expected_head": result.expected_head, "expected_head_at": result.expected_at}


def _judge(result: Verification) -> None:
    from practice_es.commands.main import EXIT_REFUSED, PracticeFailure

    if result.failure is not None:
        raise PracticeFailure(f"the log was altered at {result.failure} "
                              f"({result.events} events verified before it)", EXIT_REFUSED)
    if result.expected_head is not None and result.expected_at is None:
        raise PracticeFailure(f"the expected head {result.expected_head} is not in the chain: "
                              "the log it vouched for was changed", EXIT_REFUSED)
    found = f"; expected head found at position {result.expected_at}" \
        if result.expected_at is not None else ""
    say(f"chain intact: {result.events} events{found}")


@audit.command()
@click.argument("client_id", type=CLIENT, metavar="CLIENT")
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              required=True, help="The JSON file to write (readable by its owner only).")
@click.option("--as-of", type=DATETIME, default=None, help=AS_OF_HELP)
@pass_practice
def export(practice: PracticeContext, client_id: UUID, out: Path,
           as_of: datetime | None) -> None:
    """Write the client's history as a self-contained JSON document, with the head hash of
    the chain at export time. Prints the file name."""
    from practice_es.audit.api import export_document, history_of, write_private

    ledger = practice.ledger()
    document = export_document(ledger, history_of(ledger, practice.runner(), client_id, as_of))
    write_private(out, dumps(document) + "\n")
    say(f"exported {len(document['history']['events'])} events; head "
        f"{document['ledger']['head']}")
    click.echo(str(out))


def _assignments(pairs: tuple[str, ...]) -> dict[str, str]:
    changes = {}
    for pair in pairs:
        field, sep, value = pair.partition("=")
        if not sep or not field.strip():
            raise click.BadParameter(f"'{pair}' is not FIELD=VALUE (for example notes=…)",
                                     param_hint="--set")
        changes[field.strip()] = value
    return changes


@click.command()
@click.argument("client_id", type=CLIENT, metavar="CLIENT")
@click.option("--version", "version", type=click.IntRange(min=1), required=True,
              help="The version of the client's entry to correct (see `audit history`).")
@click.option("--set", "assignments", multiple=True, required=True, metavar="FIELD=VALUE",
              help="A corrected value (repeatable): name, email, phone, date_of_birth, "
                   "findings, notes, occurred_on, measures.NAME.")
@click.option("--reason", required=True, help="Why the entry is corrected.")
@action
def correct(ledger: PracticeLedger, client_id: UUID, version: int,
            assignments: tuple[str, ...], reason: str, on: datetime | None) -> dict[str, Any]:
    """Correct a recorded entry (EntryCorrected): the original stays on record; history shows
    both, and every report uses the corrected value."""
    ledger.correct_entry(client_id, version=version, changes=_assignments(assignments),
                         reason=reason, on=on)
    return {"client_id": client_id}
