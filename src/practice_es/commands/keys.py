"""`practice key …`: encryption keys (issue 7 fills this in)."""

from __future__ import annotations

import click


@click.group()
def key() -> None:
    """Keys for encryption at rest."""
