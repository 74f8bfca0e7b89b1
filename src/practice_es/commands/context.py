"""What every command shares: the settings, the ledger and its read models, opened lazily."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

import click

from practice_es.commands.output import emit_result, say
from practice_es.commands.params import DATETIME
from practice_es.infrastructure.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from practice_es.application import PracticeLedger
    from practice_es.projections.runner import ProjectionRunner

T = TypeVar("T")


@dataclass
class PracticeContext:
    settings: Settings
    # What the command has committed so far, for the message if it then fails (exit 2).
    recorded: str = "nothing more was recorded"
    _ledger: PracticeLedger | None = field(default=None, repr=False)
    _runner: ProjectionRunner | None = field(default=None, repr=False)

    def ledger(self, create: bool = False) -> PracticeLedger:
        """The ledger; only `init`, `demo`, `migrate import` and `group add` create one where
        there is none (SPEC §9): a mistyped path is exit 2, and no file is made."""
        if self._ledger is None:
            from practice_es.application import PracticeLedger

            self._ledger = PracticeLedger(self.settings, create=create)
        return self._ledger

    def where(self) -> str:
        """The ledger, for messages: its file, or its URL without a password."""
        from practice_es.infrastructure.store import parse_store_url

        try:
            location = parse_store_url(self.settings.db_url)
        except Exception:
            return "the database"
        if location.path is not None:
            return str(location.path)
        return location.url.split("@", 1)[-1]

    def runner(self) -> ProjectionRunner:
        if self._runner is None:
            from practice_es.projections.registry import all_projections
            from practice_es.projections.runner import ProjectionRunner

            self._runner = ProjectionRunner(self.ledger(), all_projections())
            if self.settings.catch_up == "off":  # a standby: say how far behind (ADR 31)
                say(f"read models as they are (PRACTICE_CATCH_UP=off): {self._runner.lag()}")
            elif self._runner.read_only:
                _say_read_only(self._runner)
        return self._runner

    def read(self, make: Callable[[Connection], T], known_at: datetime | None = None) -> T:
        """What `make` reads from the read models, caught up first, or as the ledger knew
        them at `known_at` (reports/source.py)."""
        from practice_es.reports.source import build

        return build(self.ledger(), self.runner, known_at, make)

    def resolve(self, kind: str, text: str) -> UUID:
        """What a typed CLIENT, PROGRAM, VISIT or REFERRAL names (projections/references.py)."""
        from practice_es.projections.references import resolve_reference

        return resolve_reference(self.runner(), kind, text)

    def hand_off_catch_up(self) -> None:
        """After an action: the read models catch up in a detached follower (ADR 14), or
        here when asked (PRACTICE_CATCH_UP=inline) or when no follower can be started."""
        if self.settings.catch_up == "background" and _hand_off(self.settings.db_url):
            return
        if self.settings.catch_up == "off":
            say("note: PRACTICE_CATCH_UP=off: the read models were not caught up")
            return
        try:
            self.runner().catch_up()
        except Exception as error:  # the next command or report catches up
            say(f"warning: recorded, but the read models did not catch up "
                f"({type(error).__name__}); the next command or report will")

    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()
        if self._ledger is not None:
            self._ledger.close()


pass_practice = click.make_pass_decorator(PracticeContext)


def _say_read_only(runner: ProjectionRunner) -> None:
    try:
        behind: int | None = runner.behind_by()
    except Exception:  # no read models stored at all: the command says what it lacks
        behind = None
    state = ("are current" if behind == 0 else "could not be caught up" +
             (f" ({behind} events behind the log)" if behind else ""))
    say(f"note: the ledger at {runner.ledger.location.path} is read-only: its read models "
        f"{state}; nothing can be recorded")


def _hand_off(db_url: str) -> bool:
    try:
        from practice_es.projections.follow import hand_off
    except ImportError:  # no fcntl: not a POSIX system
        return False
    return hand_off(db_url)


def action(func: Callable[..., dict[str, Any]]) -> Callable[..., None]:
    """An action: takes `--on` and `--json`, runs on the ledger, prints the id it created or
    changed (or one JSON object with `--json`), then has the read models caught up."""

    @functools.wraps(func)
    def command(*args: Any, as_json: bool, **kwargs: Any) -> None:
        practice = click.get_current_context().find_object(PracticeContext)
        assert practice is not None  # the `practice` group always sets it
        result = func(practice.ledger(), *args, **kwargs)
        # Recorded and committed: print the id first, so a script never retries (and records
        # twice) an action whose only failure was the read models' catch-up.
        emit_result(result, as_json)
        practice.hand_off_catch_up()

    with_json = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
    with_on = click.option("--on", "on", type=DATETIME, default=None,
                           help="When it happened (ISO 8601; default now, PRACTICE_TZ).")
    return with_on(with_json(command))
