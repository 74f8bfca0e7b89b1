"""Reports on a read-only standby (PRACTICE_CATCH_UP=off) and `projections status --max-lag`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest

from tests.cli.helpers import Practice
from tests.conftest import POSTGRES_URL, _admin_connect

OFF = {"PRACTICE_CATCH_UP": "off"}


def _one_event_behind(db_url: str) -> Practice:
    """A ledger whose read models are caught up but for its last action."""
    primary = Practice(db_url)
    primary.new("client", "intake", "--name", "Ann Lee", "--on", "2026-01-02")
    Practice(db_url, env=OFF).new("client", "intake", "--name", "Bob Roy", "--on", "2026-01-03")
    return Practice(db_url, env=OFF)


def test_a_report_with_catch_up_off_reads_as_they_are_and_says_the_lag(db_url: str) -> None:
    standby = _one_event_behind(db_url)
    run = standby.run("client", "list", "--format", "json")
    assert run.exit_code == 0, run.output
    run = standby.run("report", "retention", "--format", "json")
    assert run.exit_code == 0, run.output
    assert "1 events" in run.stderr and "behind the log" in run.stderr
    status = standby.json("projections", "status", "--format", "json")
    assert {row["behind"] for row in status} == {1}  # nothing caught up meanwhile


def test_max_lag_exits_1_past_it_and_0_within(db_url: str) -> None:
    standby = _one_event_behind(db_url)
    behind = standby.run("projections", "status", "--max-lag", "0")
    assert behind.exit_code == 1
    assert "--max-lag" in behind.stderr
    assert standby.run("projections", "status", "--max-lag", "86400").exit_code == 0
    Practice(db_url).ok("projections", "catch-up")
    caught_up = standby.run("projections", "status", "--max-lag", "0")
    assert caught_up.exit_code == 0, caught_up.output
    assert "0 events" in caught_up.stderr


@pytest.fixture
def read_only_url(postgres_schema: str) -> Iterator[tuple[str, str]]:
    """(the owner's URL, a URL of a role that may only read the schema), the role dropped
    after the test."""
    role = f"practice_ro_{uuid.uuid4().hex[:8]}"
    owner = f"{POSTGRES_URL.split('?')[0]}?schema={postgres_schema}"
    with _admin_connect() as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'ALTER ROLE "{role}" SET default_transaction_read_only = on')
    base = POSTGRES_URL.split("?")[0].replace("postgres@", f"{role}@", 1)
    try:
        yield owner, f"{base}?schema={postgres_schema}"
    finally:
        with _admin_connect() as conn:
            conn.execute(f'DROP OWNED BY "{role}" CASCADE')
            conn.execute(f'DROP ROLE "{role}"')


def _grant_reading(role_url: str, schema: str) -> None:
    role = role_url.split("://", 1)[1].split("@", 1)[0]
    with _admin_connect() as conn:
        conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
        conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"')


def _table_contents(schema: str) -> dict[str, int]:
    with _admin_connect() as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))]
        return {t: conn.execute(f'SELECT count(*) FROM "{schema}"."{t}"').fetchone()[0]
                for t in tables}


def test_a_report_by_a_read_only_role_writes_nothing(read_only_url: tuple[str, str],
                                                     postgres_schema: str) -> None:
    owner, reader = read_only_url
    _one_event_behind(owner)
    Practice(owner).ok("report", "referrals", "--format", "json")  # every read model exists
    Practice(owner, env=OFF).new("client", "intake", "--name", "Cy Dunn", "--on", "2026-01-04")
    _grant_reading(reader, postgres_schema)
    before = _table_contents(postgres_schema)

    standby = Practice(reader, env=OFF)
    run = standby.run("report", "retention", "--format", "json")
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["kpis"]["new_clients"] == 0
    assert "1 events" in run.stderr
    assert standby.run("projections", "status", "--max-lag", "0").exit_code == 1
    assert _table_contents(postgres_schema) == before

    # The same role without PRACTICE_CATCH_UP=off tries to catch up, and cannot.
    refused = Practice(reader).run("report", "retention", "--format", "json")
    assert refused.exit_code == 2
    assert _table_contents(postgres_schema) == before
