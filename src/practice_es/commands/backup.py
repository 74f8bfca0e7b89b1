"""`practice backup FILE` and `practice restore FILE` (SPEC §12, ADR 20)."""

from __future__ import annotations

from pathlib import Path

import click

from practice_es.commands.context import PracticeContext, pass_practice
from practice_es.commands.output import emit_result, say

FILE = click.Path(dir_okay=False, path_type=Path)


@click.command()
@click.argument("file", type=FILE)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_practice
def backup(practice: PracticeContext, file: Path, as_json: bool) -> None:
    """Copy the ledger to FILE while it is in use, and verify the copy's hash chain.

    FILE is written only once the copy verifies (owner-only, renamed into place). The copy of
    an encrypted ledger stays encrypted: keep the key apart from it. On PostgreSQL the copy
    holds the practice's log, chain and keys (the read models are rebuilt on restore). Prints
    the copy's chain head: keep it elsewhere for `audit verify --expect-head`. No key is
    needed to make a backup.
    """
    from practice_es.application import PracticeLedger
    from practice_es.audit.backup import back_up
    from practice_es.infrastructure.backup import CopyRefused

    # It copies stored bytes, as `audit verify` reads them: no key needed.
    ledger = PracticeLedger(practice.settings, check_key=False, create=False)
    try:
        copy = back_up(ledger, file)
    except CopyRefused as error:
        _refuse(error)
    finally:
        ledger.close()
    say(f"backed up {copy.events} events to {copy.path}; the copy's chain verifies")
    emit_result({"head": copy.head, "events": copy.events, "file": str(copy.path)}, as_json)


@click.command()
@click.argument("file", type=FILE)
@click.option("--force", is_flag=True, help="Replace a ledger that holds events.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_practice
def restore(practice: PracticeContext, file: Path, force: bool, as_json: bool) -> None:
    """Replace the ledger with the backup in FILE, once the backup's hash chain verifies.

    Creates the ledger if there is none. Refuses (exit 1) a backup whose chain does not
    verify, one that does not open with PRACTICE_CIPHER_KEY when it is set, and a ledger that
    holds events unless --force is given; the clients that ledger had erased stay erased.
    Stop other `practice` processes first. Prints the restored chain head; the read models
    catch up on the next command.
    """
    from practice_es.audit.backup import restore as restore_copy
    from practice_es.infrastructure.backup import CopyRefused

    try:
        copy = restore_copy(practice.settings, file, force)
    except CopyRefused as error:
        _refuse(error)
    say(f"restored {copy.events} events from {file}; their chain verifies")
    if copy.kept_erased:
        say(f"{copy.kept_erased} key(s) the replaced ledger had destroyed stay destroyed: "
            "those clients read as [erased]; `practice client erase` records it for any the "
            "restored log does not show as erased")
    emit_result({"head": copy.head, "events": copy.events, "file": str(file),
                 "kept_erased": copy.kept_erased}, as_json)


def _refuse(error: Exception) -> None:
    from practice_es.commands.main import EXIT_REFUSED, PracticeFailure

    raise PracticeFailure(f"refused: {error}", EXIT_REFUSED) from None
