"""Fixtures of the command-line tests."""

from __future__ import annotations

import pytest

from tests.cli.helpers import Practice


@pytest.fixture
def practice(db_url: str) -> Practice:
    """`practice` on a new ledger of each backend, in UTC (a module may define its own)."""
    cli = Practice(db_url)
    cli.ok("init")
    return cli
