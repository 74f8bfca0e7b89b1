"""`practice`: the entry point, its global options and the one error boundary.

Exit codes (SPEC §3): 0 success; 1 a domain rule refused (the message names the rule);
2 bad usage or invalid input; 3 a concurrent change conflicted (try again).
"""

from __future__ import annotations

import os
from typing import Any

import click

from practice_es.commands.context import PracticeContext
from practice_es.domain.errors import ConcurrentChange, InvalidInput, RuleRefused
from practice_es.infrastructure.settings import Settings

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


def translate(error: Exception) -> PracticeFailure | None:
    """Map an error to what the user sees, or None if it is a bug of ours."""
    from eventsourcing.persistence import MapperDeserialisationError, PersistenceError
    from pydantic import ValidationError
    from sqlalchemy.exc import DBAPIError

    if isinstance(error, RuleRefused):
        return PracticeFailure(f"refused by rule {error}", EXIT_REFUSED)
    if isinstance(error, InvalidInput):
        return PracticeFailure(f"invalid {error}", EXIT_INVALID)
    if isinstance(error, ConcurrentChange):
        return PracticeFailure(f"conflict: {error}", EXIT_CONFLICT)
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "input"
        return PracticeFailure(f"invalid {field}: {first['msg']}", EXIT_INVALID)
    if isinstance(error, PersistenceError | MapperDeserialisationError | DBAPIError):
        return _store_failure(error)
    if isinstance(error, OSError):
        return PracticeFailure(f"cannot read or write: {error.strerror or error}", EXIT_INVALID)
    return None


_DISK_FULL = ("disk is full", "no space left", "disk i/o error", "file too large")
_UNREACHABLE = ("connection", "could not connect", "timeout", "unable to open database")


def _store_failure(error: Exception) -> PracticeFailure:
    """The store failed: say how in one line of the driver's own words. Never the statement
    or its parameters (SQLAlchemy's message quotes both, so we take the driver's `orig`)."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    text = lines[0][:200] if lines else type(cause).__name__
    lowered = text.lower()
    if any(sign in lowered for sign in _DISK_FULL):
        message = f"the database cannot be written ({text}): is the disk full?"
    elif any(sign in lowered for sign in _UNREACHABLE):
        message = f"cannot reach the database: {text}"
    else:
        message = f"the ledger cannot be used ({type(error).__name__}): {text}"
    return PracticeFailure(f"{message}; nothing more was recorded", EXIT_INVALID)


class PracticeGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            failure = translate(error)
            if failure is None:
                if os.environ.get("PRACTICE_DEBUG"):
                    raise
                failure = PracticeFailure(
                    f"internal error ({type(error).__name__}); nothing more was recorded. "
                    "Set PRACTICE_DEBUG=1 to see the traceback.", EXIT_INTERNAL)
            raise failure from None


@click.group(cls=PracticeGroup)
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


def _register() -> None:
    from practice_es.commands import (
        audit,
        clients,
        demo,
        erasure,
        init,
        keys,
        migrate,
        programs,
        projections,
        referrals,
        reports,
        visits,
    )

    cli.add_command(init.init)
    cli.add_command(clients.client)
    cli.add_command(programs.program)
    cli.add_command(visits.visit)
    cli.add_command(referrals.referral)
    cli.add_command(projections.projections)
    cli.add_command(reports.report)
    cli.add_command(audit.audit)
    clients.client.add_command(audit.correct)  # `practice client correct`
    cli.add_command(migrate.migrate)
    cli.add_command(keys.key)
    clients.client.add_command(erasure.erase)  # `practice client erase` (ADR 9)
    cli.add_command(demo.demo)


_register()


def main() -> None:
    cli(prog_name="practice")
