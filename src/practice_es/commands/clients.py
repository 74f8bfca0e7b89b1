"""`practice client …`: intake, contact, health history, assessments, lapses and recalls."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

import click

from practice_es.commands.context import PracticeContext, action, pass_practice
from practice_es.commands.output import FORMATS, dumps, emit_result, emit_rows, plain, say
from practice_es.commands.params import DATE, MEASURE, measures_dict
from practice_es.commands.references import CLIENT, REFERRAL
from practice_es.domain.client_rules import RECALL_CHANNELS, SOURCE_KINDS
from practice_es.domain.duplicates import KnownClient

if TYPE_CHECKING:
    from practice_es.application import PracticeLedger

LIST_COLUMNS = ("client_id", "name", "status", "legacy_id", "last_visit_on")


@click.group()
def client() -> None:
    """Clients: intake, contact, health history, assessments, lapses and recalls."""


@client.command()
@click.option("--name", required=True, help="The client's full name.")
@click.option("--dob", type=DATE, help="Date of birth (ISO 8601).")
@click.option("--email")
@click.option("--phone")
@click.option("--reason", "reasons", multiple=True, help="Reason for visiting (repeatable).")
@click.option("--goal", "goals", multiple=True, help="A goal of the client (repeatable).")
@click.option("--condition", "conditions", multiple=True, help="A health condition.")
@click.option("--medication", "medications", multiple=True)
@click.option("--contraindication", "contraindications", multiple=True,
              help="Blocks programs and visits until cleared (C2).")
@click.option("--source", type=click.Choice(SOURCE_KINDS), help="How the client found us.")
@click.option("--referrer", help="Who referred them (a doctor's key, a client id…).")
@click.option("--referral", type=REFERRAL, help="The referral this intake converts (R1).")
@click.option("--allow-duplicate", is_flag=True,
              help="Record it although a client not erased has the same name and date of "
                   "birth, or the same e-mail (D1): another person.")
@action
def intake(ledger: PracticeLedger, dob: date | None, source: str | None,
           referral: UUID | None, allow_duplicate: bool, **fields: Any) -> dict[str, Any]:
    """Record a new client (IntakeRecorded). Prints the client id."""
    fields = {k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()}
    known = [] if allow_duplicate else _clients_like(fields["name"], dob, fields.get("email"))
    client_id = ledger.record_intake(date_of_birth=dob, referral_source=source,
                                     referral_id=referral, known=known,
                                     allow_duplicate=allow_duplicate, **fields)
    return {"client_id": client_id}


def _clients_like(name: str, dob: date | None, email: str | None) -> list[KnownClient]:
    """The clients on record who may be the person of this intake (D1), read models caught
    up first."""
    from practice_es.projections.clients import clients_like

    practice = click.get_current_context().find_object(PracticeContext)
    assert practice is not None  # the `practice` group always sets it
    runner = practice.runner()
    runner.catch_up()
    with runner.engine.connect() as conn:
        return clients_like(conn, name, dob, email)


@client.command()
@click.argument("client_id", type=CLIENT, metavar="CLIENT")
@click.option("--findings", required=True)
@click.option("--measure", "measures", type=MEASURE, multiple=True)
@click.option("--contraindication", "contraindications", multiple=True)
@action
def assess(ledger: PracticeLedger, client_id: UUID, findings: str,
           measures: tuple[tuple[str, float], ...], contraindications: tuple[str, ...],
           on: Any) -> dict[str, Any]:
    """Record an assessment (AssessmentRecorded). Prints the assessment id."""
    assessment_id = ledger.record_assessment(
        client_id, findings=findings, measures=measures_dict(measures),
        contraindications=contraindications, on=on)
    return {"assessment_id": assessment_id, "client_id": client_id}


@client.command()
@click.argument("client_id", type=CLIENT, metavar="CLIENT")
@click.option("--contraindication", required=True)
@click.option("--by", required=True, help="Who cleared it (the provider).")
@action
def clear(ledger: PracticeLedger, client_id: UUID, **fields: Any) -> dict[str, Any]:
    """Record that a contraindication was cleared (ContraindicationCleared)."""
    return {"client_id": ledger.clear_contraindication(client_id, **fields)}


@client.command()
@click.argument("client_id", type=CLIENT, metavar="CLIENT")
@click.option("--name")
@click.option("--email")
@click.option("--phone")
@action
def update(ledger: PracticeLedger, client_id: UUID, **fields: Any) -> dict[str, Any]:
    """Update contact details (ContactUpdated)."""
    return {"client_id": ledger.update_contact(client_id, **fields)}


@client.command()
@click.argument("client_id", type=CLIENT, metavar="CLIENT")
@click.option("--condition", "conditions", multiple=True)
@click.option("--medication", "medications", multiple=True)
@click.option("--contraindication", "contraindications", multiple=True)
@action
def health(ledger: PracticeLedger, client_id: UUID, **fields: Any) -> dict[str, Any]:
    """Add to the health history (HealthHistoryUpdated)."""
    return {"client_id": ledger.update_health_history(client_id, **fields)}


@client.command()
@click.argument("client_id", type=CLIENT, metavar="CLIENT")
@click.option("--channel", required=True, type=click.Choice(RECALL_CHANNELS))
@action
def recall(ledger: PracticeLedger, client_id: UUID, channel: str, on: Any) -> dict[str, Any]:
    """Record a recall sent to the client (RecallSent). Prints the recall id."""
    return {"recall_id": ledger.send_recall(client_id, channel=channel, on=on),
            "client_id": client_id}


@client.command("lapse-sweep")
@click.option("--as-of", "as_of", type=DATE, required=True)
@click.option("--after-days", type=int, default=90, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_practice
def lapse_sweep(practice: PracticeContext, as_of: date, after_days: int, as_json: bool) -> None:
    """Record Lapsed for each client lapsed by AS_OF (C4); prints their ids, each once (their
    names and short ids go to stderr, for whoever reads the terminal)."""
    from practice_es.projections.clients import lapse_candidates
    from practice_es.projections.references import client_names, short_id

    runner = practice.runner()
    runner.catch_up()
    with runner.engine.connect() as conn:
        found = lapse_candidates(conn, as_of, after_days)
        names = client_names(conn, found)
    candidates = [UUID(c) for c in found]
    lapsed = practice.ledger().sweep_lapses(candidates, as_of=as_of, after_days=after_days)
    emit_result({"lapsed": lapsed}, as_json)
    for ident in lapsed:
        say(f"lapsed: {names.get(str(ident), '?')} ({short_id(ident)})")
    say(f"{len(lapsed)} client(s) lapsed as of {as_of}")
    practice.hand_off_catch_up()


@client.command()
@click.argument("client_id", type=CLIENT, metavar="CLIENT")
@click.option("--format", "fmt", type=click.Choice(("card", "json")), default="card",
              show_default=True, help="A card to read, or JSON for scripts.")
@pass_practice
def show(practice: PracticeContext, client_id: UUID, fmt: str) -> None:
    """A client's card: status, contact, open contraindications, the current program and
    its progress, the last and next visit, referrals awaiting an answer."""
    from datetime import datetime

    from practice_es.reports.card import client_card

    found = practice.ledger().client(client_id)
    zone = practice.settings.zone
    card = practice.read(lambda conn: client_card(conn, found, datetime.now(zone), zone))
    if fmt == "json":
        click.echo(dumps({k: plain(v) for k, v in card.items()}))
    else:
        from practice_es.commands.card import card_text

        click.echo(card_text(card))


@client.command("list")
@click.option("--status", type=click.Choice(("active", "lapsed", "prospect", "erased")))
@click.option("--search", help="Part of a name, e-mail, phone or legacy id.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table",
              show_default=True)
@pass_practice
def list_clients(practice: PracticeContext, status: str | None, search: str | None,
                 fmt: str) -> None:
    """List clients with their status and last visit."""
    from practice_es.projections.clients import find_clients

    runner = practice.runner()
    runner.catch_up()
    with runner.engine.connect() as conn:
        rows = find_clients(conn, status, search)
    emit_rows(rows, LIST_COLUMNS, fmt, title="Clients")


def _more_client_commands() -> None:
    """Commands of the `client` group that live beside the features they belong to."""
    from practice_es.commands.audit import correct
    from practice_es.commands.erasure import erase
    from practice_es.commands.retention import retention_sweep

    client.add_command(correct)  # `practice client correct` (audit, EntryCorrected)
    client.add_command(erase)  # `practice client erase` (ADR 9)
    client.add_command(retention_sweep)  # `practice client retention-sweep` (SPEC §12)


_more_client_commands()
