"""CLIENT, PROGRAM, VISIT and REFERRAL as a person types them (SPEC §9): a full id, a short
id or a unique prefix, a client's name; resolved by projections/references.py, completed in
the shell from the read models."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import click
from click.shell_completion import CompletionItem

from practice_es.commands.context import PracticeContext
from practice_es.domain.errors import InvalidInput

HELP = {
    "client": "a client: their id, its first 6+ hex digits, or their exact name",
    "program": "a program: its id or its first 6+ hex digits",
    "visit": "a visit: its id or its first 6+ hex digits",
    "referral": "a referral: its id or its first 6+ hex digits",
}


class Reference(click.ParamType):  # type: ignore[type-arg]
    """A reference to a `kind` of thing, converted to its id."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.name = kind.upper()

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> UUID:
        if isinstance(value, UUID):
            return value
        text = str(value)
        try:
            return UUID(text.strip())  # a whole id: nothing to look up (an action stays quick)
        except ValueError:
            pass
        practice = ctx.find_object(PracticeContext) if ctx is not None else None
        if practice is None:  # pragma: no cover - the `practice` group always sets it
            self.fail(f"'{text}' is not an id", param, ctx)
        try:
            return practice.resolve(self.kind, text)
        except InvalidInput as error:
            self.fail(error.message, param, ctx)

    def shell_complete(self, ctx: click.Context, param: click.Parameter,
                       incomplete: str) -> list[CompletionItem]:
        """Ids and (for a client) names from the read models as they stand: completion
        must be quick and write nothing, so no catch-up, and no ledger is created."""
        try:
            return [CompletionItem(value, help=text)
                    for value, text in _completions(ctx, self.kind, incomplete)]
        except Exception:  # a missing or unreadable ledger completes nothing
            return []


def _completions(ctx: click.Context, kind: str, incomplete: str) -> list[tuple[str, str]]:
    from practice_es.infrastructure.settings import Settings
    from practice_es.infrastructure.store import parse_store_url
    from practice_es.projections.engine import reading
    from practice_es.projections.references import complete

    settings = Settings.from_env(db_url=ctx.find_root().params.get("db"))
    location = parse_store_url(settings.db_url)
    if location.path is not None and not location.path.exists():
        return []
    practice = PracticeContext(settings)
    try:
        with reading(practice.runner().engine) as conn:
            found = complete(conn, kind, incomplete)
    finally:
        practice.close()
    return [(c.label, c.short) if c.by_name else (c.short, c.label) for c in found]


CLIENT = Reference("client")
PROGRAM = Reference("program")
VISIT = Reference("visit")
REFERRAL = Reference("referral")
