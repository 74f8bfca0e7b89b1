"""Shared fixtures: a real ledger on a fresh SQLite file and, when PRACTICE_TEST_POSTGRES_URL is
set, on a fresh PostgreSQL schema that is dropped afterwards (no run sees another's data)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings

from practice_es.application import PracticeLedger
from practice_es.infrastructure.settings import Settings

# In-process CLI tests stay deterministic: an action catches the read models up before it
# returns (ADR 14's `inline`); a process they start inherits it. Only tests/cli/test_follower.py
# runs actions with the detached follower, the default for users.
os.environ["PRACTICE_CATCH_UP"] = "inline"

# `make test` tries the same hypothesis examples on every run, so a run's verdict depends on the
# code alone; `make soak` (PRACTICE_SOAK=1) draws new ones each time to find what those miss.
settings.register_profile("repeatable", derandomize=True, database=None, deadline=None)
settings.register_profile("exploring", deadline=None)  # (a busy machine is no bug)
settings.load_profile("exploring" if os.environ.get("PRACTICE_SOAK") == "1" else "repeatable")

POSTGRES_URL = os.environ.get("PRACTICE_TEST_POSTGRES_URL", "")
# The time a test ledger's clock tells: fixed, so a test never depends on the day it runs,
# and late enough that the histories tests record (up to 2029) are in its past (T1).
TEST_NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
REQUIRE_POSTGRES = os.environ.get("PRACTICE_REQUIRE_POSTGRES") == "1"
BACKENDS = ("sqlite", "postgres")


def _admin_connect():  # type: ignore[no-untyped-def]
    import psycopg

    plain = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(plain.split("?")[0], autocommit=True)


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A new, empty PostgreSQL schema for one test; dropped (with everything in it) after."""
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("PRACTICE_REQUIRE_POSTGRES=1 but PRACTICE_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL tests skipped: PRACTICE_TEST_POSTGRES_URL is not set")
    schema = f"practice_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with _admin_connect() as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        with _admin_connect() as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh, empty ledger on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'practice.db'}"
    schema = request.getfixturevalue("postgres_schema")
    base = POSTGRES_URL.split("?")[0]
    return f"{base}?schema={schema}"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'practice.db'}"


@contextmanager
def opened(db_url: str) -> Iterator[PracticeLedger]:
    """The ledger at `db_url`, closed after."""
    ledger = PracticeLedger(Settings(db_url=db_url, actor="tester"), clock=fixed_clock)
    try:
        yield ledger
    finally:
        ledger.close()


@pytest.fixture
def ledger(db_url: str) -> Iterator[PracticeLedger]:
    with opened(db_url) as app:
        yield app


def fixed_clock() -> datetime:
    """A test ledger's clock (`TEST_NOW`)."""
    return TEST_NOW


def count_events(db_url: str, key: str | None = None) -> int:
    """How many events the ledger holds, counted row by row from the store (on PostgreSQL the
    highest position is not the count: a conflicting insert skips a number)."""
    app = PracticeLedger(Settings(db_url=db_url, actor="counter", cipher_key=key))
    try:
        return len(app.recorder.select_notifications(start=1, limit=10**9))
    finally:
        app.close()
