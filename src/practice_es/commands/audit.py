"""`practice audit …`: history, verify, export (issue 5 fills these in)."""

from __future__ import annotations

import click


@click.group()
def audit() -> None:
    """Replay a client's history and prove nothing was altered."""
