"""`practice init`: create the ledger (events, snapshots, read models)."""

from __future__ import annotations

import click

from practice_es.commands.context import PracticeContext, pass_practice
from practice_es.commands.output import say


@click.command()
@pass_practice
def init(practice: PracticeContext) -> None:
    """Create the ledger's tables in the database (safe to run again)."""
    from practice_es.infrastructure.store import create_postgres_schema, parse_store_url

    create_postgres_schema(parse_store_url(practice.settings.db_url))
    ledger = practice.ledger(create=True)
    practice.runner().ensure()
    say(f"ledger ready ({ledger.location.backend})")
    click.echo(ledger._safe_url())
