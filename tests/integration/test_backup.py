"""`practice backup` and `practice restore` (SPEC §12, ADR 20), on both backends: a backup
taken while four processes record is a verified prefix of the log, restored with every event
of it; a tampered copy is refused; a ledger holding events is replaced only with --force; an
encrypted ledger's copy stays encrypted; the copy is owner-only and never written through a
symbolic link."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
import textwrap
from contextlib import closing
from pathlib import Path

from eventsourcing.cryptography import AESCipher

from tests.cli.helpers import Practice
from tests.integration.stored_bytes import events_table, execute, stored_bytes

NAME = "Leocadia Fairweather-Tull"
RECORDER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from practice_es.application import PracticeLedger
    from practice_es.infrastructure.settings import Settings
    db_url, stop, ready = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    ledger = PracticeLedger(Settings(db_url=db_url, actor="recorder"))
    for n in range(2000):  # until told to stop (a bound, should the test die first)
        ledger.record_intake(name=f"client {n}")
        if n == 5:
            ready.touch()
        if stop.exists():
            break
    ledger.close()
""")


def log_of(db_url: str) -> list[tuple[object, ...]]:
    """Every stored event in log order: id, version, topic, stored bytes."""
    order = "rowid" if db_url.startswith("sqlite") else "notification_id"
    return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
            for row in execute(db_url, f"SELECT originator_id, originator_version, topic, "
                                       f"state FROM {events_table(db_url)} ORDER BY {order}")]


def same_ids(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """The rows with their ids as text of one form (SQLite keeps hex, PostgreSQL uuids)."""
    return [(str(row[0]).replace("-", ""), *row[1:]) for row in rows]


def test_a_backup_taken_while_four_processes_record_restores_every_event_of_it(
        db_url: str, tmp_path: Path) -> None:
    practice = Practice(db_url)
    practice.ok("init")
    stop, backup = tmp_path / "stop", tmp_path / "backup.db"
    readies = [tmp_path / f"ready-{i}" for i in range(4)]
    recorders = [subprocess.Popen([sys.executable, "-c", RECORDER, db_url, str(stop),
                                   str(ready)]) for ready in readies]
    try:
        while not all(ready.exists() for ready in readies):  # all four are recording
            assert all(p.poll() is None for p in recorders), "a recorder died"
        before = len(log_of(db_url))
        copy = practice.json("backup", str(backup), "--json")
    finally:
        stop.touch()
        assert [p.wait(timeout=120) for p in recorders] == [0, 0, 0, 0]
    live = log_of(db_url)
    assert before >= 24 and copy["events"] >= before
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert practice.json("audit", "verify", "--expect-head", copy["head"], "--json")["ok"]

    restored = Practice(f"sqlite:///{tmp_path / 'restored.db'}")
    assert restored.json("restore", str(backup), "--json")["head"] == copy["head"]

    assert restored.json("audit", "verify", "--json")["head"] == copy["head"]
    assert same_ids(log_of(restored.db_url)) == same_ids(live[:copy["events"]])
    listed = restored.json("client", "list", "--format", "json")  # the read models follow
    assert len(listed) == copy["events"] and "client 0" in {row["name"] for row in listed}


def test_a_tampered_copy_is_refused_and_the_ledger_left_as_it_was(
        db_url: str, tmp_path: Path) -> None:
    practice = Practice(db_url)
    practice.new("client", "intake", "--name", NAME, "--on", "2026-03-01")
    practice.new("client", "intake", "--name", "Bo", "--on", "2026-03-02")
    backup = tmp_path / "backup.db"
    practice.ok("backup", str(backup))
    with closing(sqlite3.connect(backup)) as conn, conn:
        conn.execute("UPDATE stored_events SET originator_version = 7 WHERE rowid = 2")
    target = Practice(f"sqlite:///{tmp_path / 'target.db'}")

    run = target.fails(1, "restore", str(backup))

    assert "does not verify" in run.stderr and "position 2" in run.stderr
    assert not (tmp_path / "target.db").exists() or target.events() == 0
    assert list(tmp_path.glob(".*.part*")) == []  # no copy left behind


def test_a_ledger_holding_events_is_replaced_only_with_force(
        db_url: str, tmp_path: Path) -> None:
    practice = Practice(db_url)
    first = practice.new("client", "intake", "--name", NAME, "--on", "2026-03-01")
    backup = tmp_path / "backup.db"
    head = practice.json("backup", str(backup), "--json")["head"]
    practice.new("client", "intake", "--name", "Later", "--on", "2026-03-02")
    events = practice.events()

    assert "--force" in practice.fails(1, "restore", str(backup)).stderr
    assert practice.events() == events

    assert practice.json("restore", str(backup), "--force", "--json")["head"] == head
    assert practice.json("audit", "verify", "--json")["head"] == head
    listed = practice.json("client", "list", "--format", "json")
    assert [row["client_id"] for row in listed] == [first]  # the read models follow


def test_an_encrypted_ledgers_copy_stays_encrypted(db_url: str, tmp_path: Path) -> None:
    key = AESCipher.create_key(32)
    practice = Practice(db_url, key=key)
    client = practice.new("client", "intake", "--name", NAME, "--condition", "gout",
                          "--on", "2026-03-01")
    backup = tmp_path / "backup.db"
    practice.ok("backup", str(backup))
    assert NAME.encode() not in backup.read_bytes() and b"gout" not in backup.read_bytes()
    restored = Practice(f"sqlite:///{tmp_path / 'restored.db'}", key=key)
    restored.ok("restore", str(backup))
    assert NAME in restored.ok("client", "show", client)
    assert Practice(restored.db_url).run("client", "show", client).exit_code == 2
    other = Practice(f"sqlite:///{tmp_path / 'other.db'}", key=AESCipher.create_key(32))
    assert "does not open with PRACTICE_CIPHER_KEY" in other.fails(
        1, "restore", str(backup)).stderr
    no_key = Practice(db_url)  # a backup needs no key: it copies stored bytes
    assert no_key.json("backup", str(tmp_path / "b2.db"), "--json")["events"] == 1


def test_a_backup_is_never_written_through_a_link_nor_over_the_ledger(
        sqlite_url: str, tmp_path: Path) -> None:
    practice = Practice(sqlite_url)
    practice.new("client", "intake", "--name", NAME, "--on", "2026-03-01")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("keep me")
    link = tmp_path / "link.db"
    link.symlink_to(elsewhere)
    assert "symbolic link" in practice.fails(2, "backup", str(link)).stderr
    assert elsewhere.read_text() == "keep me"
    assert practice.fails(2, "backup", sqlite_url[len("sqlite:///"):]).exit_code == 2
    assert "does not exist" in practice.fails(2, "backup", str(tmp_path / "no" / "b")).stderr
    not_a_ledger = tmp_path / "notes.txt"
    not_a_ledger.write_text("hello")
    assert practice.fails(2, "restore", str(not_a_ledger)).exit_code == 2


def test_restoring_over_a_ledger_never_brings_back_a_client_it_had_erased(
        db_url: str, tmp_path: Path) -> None:
    practice = Practice(db_url)
    client = practice.new("client", "intake", "--name", NAME, "--on", "2026-03-01")
    practice.new("client", "intake", "--name", "Bo", "--on", "2026-03-02")
    backup = tmp_path / "backup.db"
    head = practice.json("backup", str(backup), "--json")["head"]
    practice.ok("client", "erase", client, "--reason", "client request")

    restored = practice.json("restore", str(backup), "--force", "--json")

    assert (restored["head"], restored["kept_erased"]) == (head, 1)
    assert "[erased]" in practice.ok("client", "show", client)
    names = {row["name"] for row in practice.json("client", "list", "--format", "json")}
    assert NAME not in names and "Bo" in names
    assert NAME.encode() not in stored_bytes(db_url)
    practice.ok("client", "erase", client, "--reason", "client request")  # on record again
    assert practice.json("client", "list", "--status", "erased", "--format", "json")[0][
        "client_id"] == client


def test_backing_up_or_rotating_no_ledger_is_exit_2_and_makes_no_file(tmp_path: Path) -> None:
    missing = Practice(f"sqlite:///{tmp_path / 'missing.db'}", key=AESCipher.create_key(32),
                       env={"PRACTICE_NEW_CIPHER_KEY": AESCipher.create_key(32)}, init=False)
    for args in (("backup", str(tmp_path / "b.db")), ("key", "rotate")):
        run = missing.run(*args)
        assert run.exit_code == 2 and "no ledger at" in run.stderr, run.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []
