"""`practice report …`: retention, referrals, recalls, timeline (issue 3 fills these in)."""

from __future__ import annotations

import click


@click.group()
def report() -> None:
    """Reports from the read models."""
