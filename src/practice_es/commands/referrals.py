"""`practice referral …`: referrals in, referrals out, outcomes and care reports."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

import click

from practice_es.commands.context import action
from practice_es.commands.references import CLIENT, REFERRAL
from practice_es.domain.client_rules import SOURCE_KINDS

if TYPE_CHECKING:
    from practice_es.application import PracticeLedger


@click.group()
def referral() -> None:
    """Referrals: sources of new clients, and integrative care with other providers."""


@referral.command()
@click.option("--source", required=True, type=click.Choice(SOURCE_KINDS))
@click.option("--referrer", required=True, help="A doctor's key, a client id, a campaign…")
@click.option("--prospect", required=True, help="The name of the person referred.")
@action
def receive(ledger: PracticeLedger, **fields: Any) -> dict[str, Any]:
    """Record a referral received (ReferralReceived). Prints the referral id."""
    return {"referral_id": ledger.receive_referral(**fields)}


@referral.command()
@click.argument("client_id", type=CLIENT, metavar="CLIENT")
@click.option("--to", required=True, help="The provider referred to.")
@click.option("--reason", required=True, help="Why (e.g. the contraindication).")
@action
def make(ledger: PracticeLedger, client_id: UUID, **fields: Any) -> dict[str, Any]:
    """Refer a client out (ReferralMade). Prints the referral id."""
    return {"referral_id": ledger.make_referral(client_id, **fields), "client_id": client_id}


@referral.command()
@click.argument("referral_id", type=REFERRAL, metavar="REFERRAL")
@click.option("--cleared/--not-cleared", required=True)
@click.option("--note")
@action
def outcome(ledger: PracticeLedger, referral_id: UUID, **fields: Any) -> dict[str, Any]:
    """Record the provider's answer; cleared also clears the contraindication, atomically."""
    return {"referral_id": ledger.record_referral_outcome(referral_id, **fields)}


@referral.command()
@click.argument("referral_id", type=REFERRAL, metavar="REFERRAL")
@click.option("--summary", required=True)
@action
def report(ledger: PracticeLedger, referral_id: UUID, **fields: Any) -> dict[str, Any]:
    """Send a progress report to the co-managing provider (CareReportSent)."""
    return {"referral_id": ledger.send_care_report(referral_id, **fields)}
