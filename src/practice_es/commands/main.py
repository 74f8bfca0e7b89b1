"""`practice`: the entry point, its global options and the one error boundary.

Exit codes (SPEC §3): 0 success; 1 a domain rule refused (the message names the rule);
2 bad usage or invalid input; 3 a concurrent change conflicted (try again).
"""

from __future__ import annotations

import importlib
import os
from typing import Any

import click

from practice_es.commands.context import PracticeContext
from practice_es.domain.errors import ConcurrentChange, InvalidInput, RuleRefused
from practice_es.infrastructure.settings import Settings
from practice_es.infrastructure.store import NoLedger

EXIT_REFUSED, EXIT_INVALID, EXIT_CONFLICT, EXIT_INTERNAL = 1, 2, 3, 70


class PracticeFailure(click.ClickException):
    """An error a user can act on: printed as one line on stderr, never a traceback."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.code = exit_code

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        return self.code

    def format_message(self) -> str:
        return self.message


def translate(error: Exception, where: str = "the database",
              recorded: str = "nothing more was recorded") -> PracticeFailure | None:
    """Map an error to what the user sees, or None if it is a bug of ours. A failure of the
    store or the disk names `where` and says what was `recorded` (what the command committed
    before it failed)."""
    import sqlite3

    from eventsourcing.persistence import MapperDeserialisationError, PersistenceError
    from psycopg import Error as PostgresError
    from pydantic import ValidationError
    from sqlalchemy.exc import DBAPIError

    if isinstance(error, RuleRefused):
        return PracticeFailure(f"refused by rule {error}", EXIT_REFUSED)
    if isinstance(error, NoLedger):
        return PracticeFailure(error.message, EXIT_INVALID)
    if isinstance(error, InvalidInput):
        return PracticeFailure(f"invalid {error}", EXIT_INVALID)
    if isinstance(error, ConcurrentChange):
        return PracticeFailure(f"conflict: {error}", EXIT_CONFLICT)
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "input"
        return PracticeFailure(f"invalid {field}: {first['msg']}", EXIT_INVALID)
    if isinstance(error, PersistenceError | MapperDeserialisationError | DBAPIError
                  | sqlite3.Error | PostgresError):
        return _store_failure(error, where, recorded)
    if isinstance(error, OSError):
        return _os_failure(error, where, recorded)
    return None


_DISK_FULL = ("disk is full", "no space left", "file too large", "quota")
_IO = ("disk i/o error", "input/output error", "i/o error")
_READ_ONLY = ("readonly", "read-only", "read only")
_UNREACHABLE = ("connection", "could not connect", "timeout", "unable to open database")


def _os_failure(error: OSError, where: str, recorded: str) -> PracticeFailure:
    """A file could not be read or written: which, and why, in the system's words."""
    import errno

    named = error.filename or where
    why = error.strerror or str(error)
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        why += ": is the disk full?"
    return PracticeFailure(f"cannot read or write {named}: {why}; {recorded}", EXIT_INVALID)


def _store_failure(error: Exception, where: str, recorded: str) -> PracticeFailure:
    """The store failed: say how in one line of the driver's own words. Never the statement
    or its parameters (SQLAlchemy's message quotes both, so we take the driver's `orig`)."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    text = lines[0][:200] if lines else type(cause).__name__
    lowered = text.lower()
    if any(sign in lowered for sign in _DISK_FULL):
        message = f"the ledger at {where} cannot be written ({text}): is the disk full?"
    elif any(sign in lowered for sign in _IO):
        message = f"the ledger at {where} cannot be read or written ({text}): a disk error"
    elif any(sign in lowered for sign in _READ_ONLY):
        message = f"the ledger at {where} is read-only ({text})"
    elif any(sign in lowered for sign in _UNREACHABLE):
        message = f"cannot reach the ledger at {where}: {text}"
    else:
        message = f"the ledger at {where} cannot be used ({type(error).__name__}): {text}"
    return PracticeFailure(f"{message}; {recorded}", EXIT_INVALID)


# Each command group is imported only when it is used, so an action does not pay for the
# start-up of reports, charts or the importer (a CLI action should take < 0.3 s, SPEC §7).
COMMAND_GROUPS = {
    "init": "practice_es.commands.init:init",
    "client": "practice_es.commands.clients:client",
    "program": "practice_es.commands.programs:program",
    "visit": "practice_es.commands.visits:visit",
    "referral": "practice_es.commands.referrals:referral",
    "projections": "practice_es.commands.projections:projections",
    "report": "practice_es.commands.reports:report",
    "schedule": "practice_es.commands.schedule:schedule",
    "audit": "practice_es.commands.audit:audit",
    "migrate": "practice_es.commands.migrate:migrate",
    "key": "practice_es.commands.keys:key",
    "demo": "practice_es.commands.demo:demo",
    "backup": "practice_es.commands.backup:backup",
    "restore": "practice_es.commands.backup:restore",
    "serve": "practice_es.commands.serve:serve",
    "user": "practice_es.commands.users:user",
}


class PracticeGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_GROUPS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMAND_GROUPS.get(cmd_name)
        if spec is None:
            return None
        module, _, name = spec.partition(":")
        command = getattr(importlib.import_module(module), name)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            practice = ctx.find_object(PracticeContext)
            failure = (translate(error) if practice is None else
                       translate(error, practice.where(), practice.recorded))
            if failure is None:
                if os.environ.get("PRACTICE_DEBUG"):
                    raise
                said = (f": {error}" if getattr(error, "tells_the_user", False)
                        else "; nothing more was recorded")
                failure = PracticeFailure(
                    f"internal error ({type(error).__name__}){said}. "
                    "Set PRACTICE_DEBUG=1 to see the traceback.", EXIT_INTERNAL)
            raise failure from None


SETTINGS_HELP = """Settings from the environment: PRACTICE_DB and PRACTICE_ACTOR (as --db and
--actor); PRACTICE_TZ, the practice's time zone (default UTC); PRACTICE_CIPHER_KEY, encryption
at rest; PRACTICE_CATCH_UP, how the read models catch up after an action: `background` (the
default: a detached process catches them up and the action exits at once; every report catches
up before it reads anyway) or `inline` (the action's own process, before it exits)."""


@click.group(cls=PracticeGroup, epilog=SETTINGS_HELP)
@click.option("--db", envvar="PRACTICE_DB", default=None, metavar="URL",
              help="sqlite:///FILE (default sqlite:///practice.db) or postgresql+psycopg://…")
@click.option("--actor", envvar="PRACTICE_ACTOR", default=None,
              help="Who is recording (default: the OS user).")
@click.version_option(package_name="practice-es")
@click.pass_context
def cli(ctx: click.Context, db: str | None, actor: str | None) -> None:
    """An event-sourced practice ledger: clients, programs of care, visits, referrals."""
    try:
        settings = Settings.from_env(db_url=db, actor=actor)
    except InvalidInput as error:
        raise PracticeFailure(f"invalid {error}", EXIT_INVALID) from None
    practice = PracticeContext(settings)
    ctx.obj = practice
    ctx.call_on_close(practice.close)


def main() -> None:
    cli(prog_name="practice")
