"""`practice client retention-sweep` (SPEC §12), on both backends: who is due at the
boundaries (exactly N years, a minor, a future booking), what the destruction log says, that a
second sweep and a dry run record nothing, that the destroyed text leaves every table, snapshot
and the SQLite write-ahead log, and that a sweep stopped half way says what it erased."""

from __future__ import annotations

from typing import Any

import pytest

from practice_es.application import PracticeLedger
from practice_es.domain.errors import ConcurrentChange
from tests.cli.helpers import Practice
from tests.integration.stored_bytes import execute, stored_bytes

AS_OF = "2026-03-01"
SWEEP = ("client", "retention-sweep", "--years", "7", "--minors-until-age", "18",
         "--as-of", AS_OF, "--json")


def intake(practice: Practice, name: str, on: str, *extra: str) -> str:
    return practice.new("client", "intake", "--name", name, "--on", on, *extra)


def clients_at_the_boundaries(practice: Practice) -> dict[str, str]:
    """Each named for whether a sweep on 2026-03-01 keeping 7 years (minors until 18) erases
    them."""
    c = {
        "due: a day more than 7 years": intake(practice, "Ada", "2019-02-28"),
        "kept: exactly 7 years": intake(practice, "Bea", "2019-03-01"),
        "due: a minor of 18 plus 7 years today": intake(practice, "Cy", "2012-01-01",
                                                        "--dob", "2001-03-01"),
        "kept: a minor, a day short": intake(practice, "Di", "2012-01-01",
                                             "--dob", "2001-03-02"),
        "kept: a booking after the sweep date": intake(practice, "Ed", "2015-01-01"),
        "kept: a program's event since": intake(practice, "Flo", "2015-01-01"),
    }
    practice.new("visit", "schedule", c["kept: a booking after the sweep date"],
                 "--at", "2026-04-01T10:00", "--on", "2015-01-02")
    practice.new("client", "assess", c["kept: a program's event since"], "--findings", "stiff",
                 "--on", "2015-01-01")
    program = practice.new("program", "recommend", c["kept: a program's event since"],
                           "--phase", "relief", "--visits", "2", "--per-week", "1",
                           "--goal", "walk", "--rationale", "pain", "--on", "2015-01-02")
    practice.ok("program", "decline", program, "--on", "2020-01-01")
    return c


def test_the_sweep_erases_exactly_the_clients_due_and_documents_it(db_url: str) -> None:
    practice = Practice(db_url)
    clients = clients_at_the_boundaries(practice)
    due = sorted(ident for what, ident in clients.items() if what.startswith("due"))
    events = practice.events()

    dry = practice.json(*SWEEP, "--dry-run")
    assert practice.events() == events  # a dry run records nothing
    assert sorted(row["client_id"] for row in dry["erased"]) == due
    assert {row["erased_on"] for row in dry["erased"]} == {None}

    log = practice.json(*SWEEP)

    assert sorted(row["client_id"] for row in log["erased"]) == due
    ada = next(row for row in log["erased"] if row["client_id"] == clients[
        "due: a day more than 7 years"])
    assert ada["client"] == ada["client_id"][:8] and ada["last_activity"] == "2019-02-28"
    assert practice.events() == events + len(due)
    verified = practice.json("audit", "verify", "--json")
    assert verified["ok"] and verified["head"] == log["chain_head"]
    for ident in due:
        history = practice.json("audit", "history", ident, "--format", "json")
        erased = history["events"][-1]
        assert (erased["event"], erased["data"]["reason"]) == ("ClientErased", "retention")
    statuses = {row["client_id"]: row["status"] for row in
                practice.json("client", "list", "--format", "json")}
    assert sorted(i for i, status in statuses.items() if status == "erased") == due

    again = practice.json(*SWEEP)
    assert again["erased"] == [] and practice.events() == events + len(due)
    table = practice.ok(*SWEEP[:-1])
    assert "Destruction log" in table and f"chain head {log['chain_head']}" in table


def test_a_sweep_date_after_today_is_refused(db_url: str) -> None:
    practice = Practice(db_url)
    intake(practice, "Ada", "2010-01-01")
    practice.refused("T1", "client", "retention-sweep", "--years", "7", "--as-of", "2999-01-01")
    run = practice.fails(2, "client", "retention-sweep", "--years", "0", "--as-of", AS_OF)
    assert "--years" in run.stderr


SECRETS = ("Thaddeus Winterbottom", "thaddeus@winterbottom.example", "brachial plexus injury",
           "talked about the custody case")


def test_the_destroyed_text_leaves_every_table_snapshot_and_the_wal(db_url: str) -> None:
    practice = Practice(db_url)
    name, email, condition, notes = SECRETS
    client = intake(practice, name, "2012-01-01", "--email", email, "--condition", condition)
    for day in range(1, 13):  # more events than a snapshot is taken after
        practice.new("visit", "complete", client, "--notes", notes, "--on", f"2012-02-{day:02}")
    assert execute(db_url, "SELECT count(*) FROM "
                   + ("stored_snapshots" if db_url.startswith("sqlite") else "practice_snapshots")
                   )[0][0] >= 1
    raw = stored_bytes(db_url)
    assert all(secret.encode() in raw for secret in (name, email))  # the directory's columns
    data_key, = execute(db_url, "SELECT data_key FROM practice_data_keys WHERE owner_id = ?",
                        (client,))[0]

    assert [row["client_id"] for row in practice.json(*SWEEP)["erased"]] == [client]

    raw = stored_bytes(db_url)  # SQLite: the file, its -wal and -shm, byte for byte
    assert bytes(data_key) not in raw
    for secret in SECRETS:
        assert secret.encode() not in raw, secret


def test_a_sweep_stopped_half_way_says_what_it_erased(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    practice = Practice(db_url)
    first, second = sorted(intake(practice, name, "2010-01-01") for name in ("Ada", "Bea"))
    erase = PracticeLedger._erase
    calls: list[Any] = []

    def erase_once(self: PracticeLedger, client: Any, *args: Any) -> bool:
        calls.append(client.id)
        if len(calls) > 1:
            raise ConcurrentChange("someone else changed the same record")
        return erase(self, client, *args)

    monkeypatch.setattr(PracticeLedger, "_erase", erase_once)
    run = practice.run(*SWEEP)
    monkeypatch.undo()

    assert run.exit_code == 3
    assert "stopped after erasing the 1 client(s) listed" in run.stderr
    assert [row["client_id"] for row in __import__("json").loads(run.stdout)["erased"]] == [
        first]
    finished = practice.json(*SWEEP)
    assert [row["client_id"] for row in finished["erased"]] == [second]
