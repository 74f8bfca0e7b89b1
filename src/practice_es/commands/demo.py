"""`practice demo`: record a realistic demo practice (issue 3 fills this in)."""

from __future__ import annotations

import click


@click.command()
@click.option("--clients", default=40, show_default=True)
@click.option("--seed", default=7, show_default=True)
@click.option("--charts", type=click.Path(file_okay=False), default=None)
def demo(clients: int, seed: int, charts: str | None) -> None:
    """Record a demo practice and print the reports."""
