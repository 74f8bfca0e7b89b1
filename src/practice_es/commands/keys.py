"""`practice key …`: the master key for encryption at rest (ADR 9)."""

from __future__ import annotations

import click

from practice_es.commands.context import PracticeContext, pass_practice
from practice_es.commands.output import say


@click.group()
def key() -> None:
    """Keys for encryption at rest (PRACTICE_CIPHER_KEY)."""


@key.command()
def generate() -> None:
    """Print a new random key (AES-256) for PRACTICE_CIPHER_KEY.

    Set it before the ledger's first event: a ledger is encrypted from its creation or not at
    all. Keep it like any other secret, away from the database: without it the ledger cannot
    be read.
    """
    from eventsourcing.cryptography import AESCipher

    click.echo(AESCipher.create_key(32))


@key.command()
@pass_practice
def check(practice: PracticeContext) -> None:
    """Check that PRACTICE_CIPHER_KEY (or its absence) opens this ledger (exit 2 if not)."""
    ledger = practice.ledger()
    say("the key opens this ledger" if ledger.keys.master else
        "this ledger is not encrypted at rest, and no key is set")
