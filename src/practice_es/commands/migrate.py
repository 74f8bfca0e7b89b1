"""`practice migrate …`: import legacy exports (issue 4 fills this in)."""

from __future__ import annotations

import click


@click.group()
def migrate() -> None:
    """Move a practice in from older software."""
