"""`practice group …`: the practices of a group on one PostgreSQL database (SPEC §11)."""

from __future__ import annotations

from dataclasses import replace

import click

from practice_es.commands.context import PracticeContext, pass_practice
from practice_es.commands.output import emit_rows, say


@click.group()
def group() -> None:
    """Many practices on one PostgreSQL database, one schema each; select one for any other
    command with --practice NAME (or PRACTICE_PRACTICE)."""


@group.command()
@click.argument("name")
@pass_practice
def add(practice: PracticeContext, name: str) -> None:
    """Add a practice NAME (a slug: lowercase letters, digits, dashes; at most 40) and create
    its ledger in a schema of its own. Prints the name."""
    from practice_es.infrastructure.practices import add_practice

    added = add_practice(practice.settings.db_url, name)
    created = PracticeContext(replace(practice.settings, db_url=added.url, practice=name))
    try:
        created.runner().ensure()
    finally:
        created.close()
    say(f"practice {name} added (schema {added.schema})")
    click.echo(name)


@group.command("list")
@click.option("--format", "fmt", type=click.Choice(("table", "json", "csv")), default="table")
@pass_practice
def list_(practice: PracticeContext, fmt: str) -> None:
    """The practices of the group, by name."""
    from practice_es.infrastructure.practices import list_practices

    rows = [{"practice": p.name, "schema": p.schema, "added_at": p.added_at}
            for p in list_practices(practice.settings.db_url)]
    emit_rows(rows, ("practice", "schema", "added_at"), fmt, title="Practices")
