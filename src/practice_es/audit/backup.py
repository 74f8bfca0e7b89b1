"""`practice backup` and `practice restore` (SPEC §12, ADR 20): a copy counts only once its
hash chain verifies. A backup is published only then; a restore replaces a ledger only with a
copy that verifies, and a ledger that holds events only when told to (`force`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from practice_es.application import PracticeLedger
from practice_es.audit.api import verify_ledger
from practice_es.audit.verify import Verification
from practice_es.domain.errors import InvalidInput
from practice_es.infrastructure import backup as files
from practice_es.infrastructure.backup import CopyRefused
from practice_es.infrastructure.crypto import WrongKey
from practice_es.infrastructure.outputs import check_output, replaced
from practice_es.infrastructure.settings import Settings
from practice_es.infrastructure.store import prepare_sqlite_file


@dataclass(frozen=True)
class Copy:
    """A verified copy: where, how many events, and its chain head."""

    path: Path
    events: int
    head: str
    kept_erased: int = 0  # keys the replaced ledger had destroyed, destroyed in the copy too


def back_up(ledger: PracticeLedger, target: Path) -> Copy:
    """Copy the ledger to `target` while others keep recording, verify the copy, publish it."""
    source = ledger.location.path
    check_output("FILE", target, [source] if source is not None else [])
    with replaced(target) as temporary, files.companions_removed(temporary):
        if source is not None:
            files.sqlite_copy(source, temporary)
        else:
            from practice_es.audit.backup_postgres import dump_postgres

            dump_postgres(ledger, temporary)
        verified = _verified(temporary, "the copy just made")
    return Copy(target, verified.events, verified.head)


def restore(settings: Settings, backup: Path, force: bool) -> Copy:
    """Replace the ledger of `settings` with the copy in `backup`, once it verifies."""
    from practice_es.infrastructure.store import parse_store_url

    if not backup.is_file():
        raise InvalidInput("FILE", f"{backup} is not a file")
    location = parse_store_url(settings.db_url)
    if location.path is None:
        from practice_es.audit.backup_postgres import restore_postgres

        verified = _verified(backup, str(backup))
        _opens_with_the_key(backup, settings, str(backup))
        kept = restore_postgres(settings, backup, force)
        return Copy(backup, verified.events, verified.head, kept)
    target = check_output("db", location.path, [backup])  # (a link is not followed)
    with files.temporary_beside(target) as copy:
        files.sqlite_copy(backup, copy)  # verified as it will be restored, byte for byte
        verified = _verified(copy, str(backup))
        _opens_with_the_key(copy, settings, str(backup))
        if files.holds_events(target) and not force:
            raise CopyRefused(f"the ledger at {target} holds events: `practice restore "
                              "--force` replaces them with the copy")
        destroyed = files.destroyed_keys(target)
        if destroyed:  # an erasure made since the backup is not undone by it
            files.keep_destroyed(copy, destroyed)
        prepare_sqlite_file(target)
        files.sqlite_copy(copy, target)  # into the live file: one transaction for its readers
    return Copy(backup, verified.events, verified.head, len(destroyed))


def _opens_with_the_key(path: Path, settings: Settings, what: str) -> None:
    """With PRACTICE_CIPHER_KEY set, the copy must open with it: else the restored ledger
    would refuse every command (a backup keeps the key it was made with)."""
    if not settings.cipher_key:
        return
    try:
        PracticeLedger(Settings(db_url=f"sqlite:///{path}", actor="backup",
                                cipher_key=settings.cipher_key)).close()
    except WrongKey as error:
        raise CopyRefused(f"{what} does not open with PRACTICE_CIPHER_KEY ({error.message}): "
                          "set the key it was made with") from None


def _verified(path: Path, what: str) -> Verification:
    """The copy's chain, recomputed (no key needed), or CopyRefused."""
    if not files.has_practice_tables(path):
        raise InvalidInput("FILE", f"{what} is not a practice ledger file")
    ledger = PracticeLedger(Settings(db_url=f"sqlite:///{path}", actor="backup"),
                            check_key=False)
    try:
        verification = verify_ledger(ledger)
    finally:
        ledger.close()
    if not verification.ok:
        raise CopyRefused(f"{what} does not verify: its log was altered at "
                          f"{verification.failure}")
    return verification
