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


@key.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_practice
def rotate(practice: PracticeContext, as_json: bool) -> None:
    """Change the master key: PRACTICE_CIPHER_KEY holds the old key, PRACTICE_NEW_CIPHER_KEY
    the new one (make it with `practice key generate`).

    Re-wraps the ledger key and every client's data key under the new key: no stored event
    changes, so `audit verify --expect-head` still passes, and the old key opens nothing
    afterwards. Stop other `practice` processes first. If it is interrupted, run it again
    with both keys set: it finishes. Then set PRACTICE_CIPHER_KEY to the new key.
    """
    import os

    from practice_es.application import PracticeLedger
    from practice_es.commands.output import emit_result
    from practice_es.domain.errors import InvalidInput
    from practice_es.infrastructure.rotation import NEW_KEY_VARIABLE

    new_key = os.environ.get(NEW_KEY_VARIABLE) or ""
    if not new_key:
        raise InvalidInput(NEW_KEY_VARIABLE, "is not set: put the new key in it "
                                             "(`practice key generate` makes one)")
    # Half way, the check is old; a mistyped path makes no ledger.
    ledger = PracticeLedger(practice.settings, check_key=False, create=False)
    try:
        done = ledger.rotate_master_key(new_key)
    finally:
        ledger.close()
    if not done.clean:
        say("another process was reading the ledger: the old wrapped keys leave the "
            "database file at its next checkpoint")
    say("already rotated; nothing was left to re-wrap" if done.finished_before and
        not done.rewrapped else
        f"re-wrapped {done.rewrapped} keys; set PRACTICE_CIPHER_KEY to the new key now")
    emit_result({"rewrapped": done.rewrapped, "finished_before": done.finished_before},
                as_json)
