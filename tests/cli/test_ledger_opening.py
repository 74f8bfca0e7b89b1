"""Which commands may create a ledger, and opening one this process cannot write (issue 14,
items 7 and 8; SPEC §9)."""

from __future__ import annotations

import hashlib
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from practice_es.application import PracticeLedger
from practice_es.infrastructure.settings import Settings
from tests.cli.helpers import Practice
from tests.conftest import POSTGRES_URL
from tests.tmpfs import mounted_tmpfs

READ_COMMANDS = [("audit", "verify"), ("client", "list"), ("report", "retention"),
                 ("projections", "status"), ("key", "check"), ("client", "lapse-sweep",
                                                               "--as-of", "2025-01-01")]


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_command_on_a_mistyped_path_creates_no_ledger(tmp_path: Path,
                                                         command: tuple[str, ...]) -> None:
    typo = tmp_path / "new_typo.db"

    run = Practice(f"sqlite:///{typo}", init=False).run(*command)

    assert run.exit_code == 2, run.output
    assert f"no ledger at {typo}: practice init creates one" in run.stderr
    assert not typo.exists()


def test_an_empty_file_is_no_ledger_and_stays_empty(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()

    run = Practice(f"sqlite:///{empty}", init=False).run("audit", "verify")

    assert run.exit_code == 2 and "no ledger at" in run.stderr
    assert empty.stat().st_size == 0


def test_an_action_on_a_mistyped_path_records_nothing_anywhere(tmp_path: Path) -> None:
    typo = tmp_path / "typo.db"
    run = Practice(f"sqlite:///{typo}", init=False).run("client", "intake", "--name", "Ann")
    assert run.exit_code == 2 and run.stdout == ""
    assert not typo.exists()


@pytest.fixture
def missing_schema() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests skipped: PRACTICE_TEST_POSTGRES_URL is not set")
    schema = f"practice_typo_{uuid.uuid4().hex[:8]}"
    yield f"{POSTGRES_URL.split('?')[0]}?schema={schema}"
    from tests.conftest import _admin_connect

    with _admin_connect() as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_a_postgres_schema_without_a_ledger_is_refused_and_not_created(
        missing_schema: str) -> None:
    from tests.conftest import _admin_connect

    run = Practice(missing_schema, init=False).run("audit", "verify")

    assert run.exit_code == 2 and "no ledger at" in run.stderr
    schema = missing_schema.rsplit("=", 1)[1]
    with _admin_connect() as conn:
        found = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s",
                             (schema,)).fetchone()
    assert found is None


@pytest.mark.parametrize("command", [("init",), ("key", "generate")])
def test_init_creates_the_ledger_and_key_generate_needs_none(
        tmp_path: Path, command: tuple[str, ...]) -> None:
    path = tmp_path / "practice.db"
    run = Practice(f"sqlite:///{path}", init=False).run(*command)
    assert run.exit_code == 0, run.output
    assert path.exists() == (command == ("init",))


# -- a ledger on a read-only mount ---------------------------------------------------------

@pytest.fixture
def read_only_mount(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs mounted for the test, made read-only once the ledger is in it (root only)."""
    with mounted_tmpfs(tmp_path / "mount", "16m") as folder:
        yield folder


def _digest(folder: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(folder.iterdir()))).hexdigest()


def test_a_ledger_on_a_read_only_mount_is_read_and_verified(read_only_mount: Path) -> None:
    path = read_only_mount / "practice.db"
    url = f"sqlite:///{path}"
    practice = Practice(url)
    practice.new("client", "intake", "--name", "Ann Lee", "--on", "2025-01-02")
    ledger = PracticeLedger(Settings(db_url=url, actor="late"))  # no catch-up after it
    ledger.record_intake(name="Bo Berg")
    ledger.close()
    subprocess.run(["mount", "-o", "remount,ro", str(read_only_mount)], check=True)
    before = _digest(read_only_mount)

    verified = practice.run("audit", "verify")
    listed = practice.run("client", "list", "--format", "json")
    refused = practice.run("client", "intake", "--name", "Cy")

    assert verified.exit_code == 0, verified.output
    assert "chain intact: 2 events" in verified.stderr
    assert listed.exit_code == 0, listed.output
    assert "Ann Lee" in listed.stdout
    assert "read-only: its read models could not be caught up (1 events behind" in listed.stderr
    assert refused.exit_code == 2 and refused.stdout == ""
    assert "read-only" in refused.stderr and str(path) in refused.stderr
    assert _digest(read_only_mount) == before


def test_a_ledger_whose_tables_are_still_in_the_write_ahead_log_is_found(tmp_path: Path) -> None:
    import sqlite3

    from practice_es.infrastructure.store import holds_ledger, parse_store_url

    path = tmp_path / "practice.db"
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("PRAGMA journal_mode = WAL")
        writer.execute("CREATE TABLE stored_events (x)")  # in the WAL: the writer stays open
        assert holds_ledger(parse_store_url(f"sqlite:///{path}"))
    finally:
        writer.close()
