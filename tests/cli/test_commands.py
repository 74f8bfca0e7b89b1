"""Every command of SPEC §3 (init, client, program, visit, referral) end to end."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from pathlib import Path
from uuid import UUID

import pytest

from practice_es.application import PracticeLedger
from practice_es.domain.client import Client
from practice_es.infrastructure.settings import Settings
from tests.cli.helpers import Practice, run_process


@pytest.fixture
def practice(db_url: str) -> Practice:
    cli = Practice(db_url)
    cli.ok("init")
    return cli


@pytest.fixture
def on_sqlite(sqlite_url: str) -> Practice:
    cli = Practice(sqlite_url)
    cli.ok("init")
    return cli


def names_of(db_url: str, ident: str) -> list[str]:
    ledger = PracticeLedger(Settings(db_url=db_url, actor="reader"))
    try:
        return [type(e).__name__ for e in ledger.events.get(UUID(ident))]
    finally:
        ledger.close()


def test_init_creates_an_owner_only_file_and_is_safe_to_run_again(tmp_path: Path) -> None:
    path = tmp_path / "practice.db"
    cli = Practice(f"sqlite:///{path}")
    first = cli.run("init")
    assert first.exit_code == 0
    assert "ready" in first.stderr
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    cli.ok("init")
    assert cli.events() == 0


def test_a_client_from_referral_to_completed_program(practice: Practice) -> None:
    p = practice
    referral = p.new("referral", "receive", "--source", "doctor", "--referrer", " Dr  Jones ",
                     "--prospect", "Ann Smith", "--on", "2026-01-02")
    client = p.new(
        "client", "intake", "--name", "Ann Smith", "--dob", "1980-02-29",
        "--email", "ann@example.org", "--phone", "555-0101", "--reason", "neck pain",
        "--reason", "headaches", "--goal", "sleep", "--condition", "migraine",
        "--medication", "ibuprofen", "--contraindication", "Whiplash", "--referral", referral,
        "--on", "2026-01-05T09:00")
    assert p.new("client", "update", client, "--phone", "555-0199") == client
    assert p.new("client", "health", client, "--medication", "paracetamol") == client
    assessment = p.new("client", "assess", client, "--findings", "reduced rotation",
                       "--measure", "pain=6", "--measure", "rom_cervical=45", "--on",
                       "2026-01-05")
    out = p.new("referral", "make", client, "--to", "Dr Jones", "--reason", "whiplash")
    assert p.new("referral", "outcome", out, "--cleared", "--on", "2026-01-08") == out
    assert p.new("referral", "report", out, "--summary", "started relief care") == out

    program = p.new("program", "recommend", client, "--phase", "relief", "--visits", "2",
                    "--per-week", "2", "--goal", "sleep", "--rationale", "acute pain",
                    "--on", "2026-01-08")
    assert p.new("program", "accept", program, "--on", "2026-01-08") == program
    visit = p.new("visit", "schedule", client, "--at", "2026-01-09T10:00", "--program",
                  program, "--on", "2026-01-08")
    assert p.new("visit", "reschedule", client, "--visit", visit, "--at",
                 "2026-01-10T10:00") == visit
    assert p.new("visit", "complete", client, "--visit", visit, "--measure", "pain=4",
                 "--notes", "better", "--on", "2026-01-10T10:45") == visit
    p.new("visit", "complete", client, "--program", program, "--on", "2026-01-13")
    assert p.new("program", "reevaluate", program, "--findings", "pain 2/10", "--measure",
                 "pain=2", "--outcome", "discharge", "--on", "2026-01-13") == program

    shown = p.json("client", "show", client, "--format", "json")
    assert shown["client_id"] == client
    assert (shown["name"], shown["phone"], shown["status"]) == ("Ann Smith", "555-0199",
                                                                "active")
    assert (shown["referral_source"], shown["referrer"]) == ("doctor", "dr jones")
    assert shown["open_contraindications"] == []
    assert shown["assessment_ids"] == [assessment]
    assert shown["completed_visits"] == 2
    assert [(x["program_id"], x["phase"], x["status"], x["visits_planned"])
            for x in shown["programs"]] == [(program, "relief", "completed", 2)]
    assert names_of(p.db_url, program)[-2:] == ["ProgramReevaluated", "ProgramCompleted"]
    assert names_of(p.db_url, referral) == ["ReferralReceived", "ReferralConverted"]
    assert names_of(p.db_url, out) == ["ReferralMade", "ReferralOutcomeRecorded",
                                       "CareReportSent"]


def test_program_decline_complete_and_discontinue(on_sqlite: Practice) -> None:
    p = on_sqlite
    client = p.new("client", "intake", "--name", "Bob Brown", "--on", "2026-01-05")
    p.new("client", "assess", client, "--findings", "low back pain", "--on", "2026-01-05")

    def recommend(phase: str) -> str:
        return p.new("program", "recommend", client, "--phase", phase, "--visits", "6",
                     "--per-week", "1.5", "--goal", "walk 5 km", "--rationale", "chronic",
                     "--reevaluate-after", "3", "--on", "2026-01-06")

    declined = recommend("corrective")
    assert p.new("program", "decline", declined, "--reason", "cost") == declined
    completed = recommend("corrective")
    p.new("program", "accept", completed)
    assert p.new("program", "complete", completed, "--reason", "done") == completed
    stopped = recommend("maintenance")
    p.new("program", "accept", stopped)
    assert p.new("program", "discontinue", stopped, "--reason", "moved") == stopped
    card = p.json("client", "show", client, "--format", "json")
    statuses = [(x["phase"], x["status"]) for x in card["programs"]]
    assert statuses == [("corrective", "declined"), ("corrective", "completed"),
                        ("maintenance", "discontinued")]


def test_visits_cancelled_and_missed(on_sqlite: Practice) -> None:
    p = on_sqlite
    client = p.new("client", "intake", "--name", "Cy Clark", "--on", "2026-01-05")
    cancelled = p.new("visit", "schedule", client, "--at", "2026-01-12T09:30")
    missed = p.new("visit", "schedule", client, "--at", "2026-01-13T09:30")
    kept = p.new("visit", "schedule", client, "--at", "2026-01-14T09:30")
    assert p.new("visit", "cancel", client, "--visit", cancelled, "--reason", "ill") == cancelled
    assert p.new("visit", "no-show", client, "--visit", missed) == missed
    scheduled = p.json("client", "show", client, "--format", "json")["scheduled"]
    assert [v["visit_id"] for v in scheduled] == [kept]
    assert names_of(p.db_url, client)[-2:] == ["VisitCancelled", "VisitMissed"]


def test_actions_print_one_json_object_with_json(on_sqlite: Practice) -> None:
    p = on_sqlite
    # Recorded as of a fixed day: the visit below must not precede the intake (C3).
    made = p.json("client", "intake", "--name", "Ann Smith", "--on", "2026-11-02", "--json")
    assert list(made) == ["client_id"]
    client = made["client_id"]
    visit = p.json("visit", "schedule", client, "--at", "2026-12-01T10:00", "--json")
    assert visit == {"visit_id": visit["visit_id"], "client_id": client}
    recall = p.json("client", "recall", client, "--channel", "email", "--json")
    assert set(recall) == {"recall_id", "client_id"}
    UUID(recall["recall_id"])


# -- lapse sweep and reactivation (C4, C5) ---------------------------------------------------

def test_lapse_sweep_prints_the_ids_that_lapsed_once(on_sqlite: Practice) -> None:
    p = on_sqlite
    seen = p.new("client", "intake", "--name", "Seen Lately", "--on", "2026-01-05")
    p.new("visit", "complete", seen, "--on", "2026-03-01")
    gone = p.new("client", "intake", "--name", "Long Gone", "--on", "2026-01-05")
    p.new("visit", "complete", gone, "--on", "2026-01-06")
    prospect = p.new("client", "intake", "--name", "Never Came", "--on", "2026-01-05")
    booked = p.new("client", "intake", "--name", "Booked Ahead", "--on", "2026-01-05")
    p.new("visit", "complete", booked, "--on", "2026-01-06")
    p.new("visit", "schedule", booked, "--at", "2026-05-01T10:00", "--on", "2026-01-06")

    lapsed = p.ok("client", "lapse-sweep", "--as-of", "2026-05-01").split("\n")
    assert sorted(lapsed) == sorted([gone, prospect])
    before = p.events()
    assert p.ok("client", "lapse-sweep", "--as-of", "2026-05-01") == ""  # recorded once
    assert p.events() == before
    statuses = {r["client_id"]: r["status"]
                for r in p.json("client", "list", "--format", "json")}
    assert statuses == {seen: "active", gone: "lapsed", prospect: "lapsed", booked: "active"}
    assert p.ok("client", "lapse-sweep", "--as-of", "2026-05-01", "--after-days", "30") == seen
    # The next day the booked visit is in the past, never completed: that client lapses too.
    assert p.ok("client", "lapse-sweep", "--as-of", "2026-05-02") == booked


def test_lapse_sweep_honours_exactly_after_days(on_sqlite: Practice) -> None:
    p = on_sqlite
    client = p.new("client", "intake", "--name", "Edge Case", "--on", "2026-01-01")
    p.new("visit", "complete", client, "--on", "2026-01-10")
    assert p.ok("client", "lapse-sweep", "--as-of", "2026-04-10") == ""  # exactly 90 days
    assert p.ok("client", "lapse-sweep", "--as-of", "2026-04-11") == client


def test_the_first_visit_after_a_lapse_reactivates_naming_the_recall(on_sqlite: Practice) -> None:
    p = on_sqlite
    client = p.new("client", "intake", "--name", "Ann Smith", "--on", "2026-01-05")
    p.new("visit", "complete", client, "--on", "2026-01-06")
    p.ok("client", "lapse-sweep", "--as-of", "2026-06-01", "--json")
    recall = p.json("client", "recall", client, "--channel", "letter", "--on", "2026-06-02",
                    "--json")["recall_id"]
    p.new("visit", "complete", client, "--on", "2026-06-20")
    ledger = PracticeLedger(Settings(db_url=p.db_url, actor="reader"))
    try:
        [*_, completed, reactivated] = ledger.events.get(UUID(client))
    finally:
        ledger.close()
    assert isinstance(completed, Client.VisitCompleted)
    assert isinstance(reactivated, Client.Reactivated)
    assert str(reactivated.recall_id) == recall
    assert reactivated.actor == "front-desk"
    assert p.json("client", "show", client, "--format", "json")["status"] == "active"


# -- client list -----------------------------------------------------------------------------

def test_client_list_filters_by_status_and_search_in_every_format(on_sqlite: Practice) -> None:
    p = on_sqlite
    ann = p.new("client", "intake", "--name", "Ann Smith", "--email", "ann@example.org",
                "--on", "2026-01-05")
    p.new("visit", "complete", ann, "--on", "2026-02-03T17:00")
    bob = p.new("client", "intake", "--name", "Bob Brown", "--phone", "555-0199")

    rows = p.json("client", "list", "--format", "json")
    assert rows == [
        {"client_id": ann, "name": "Ann Smith", "status": "active", "legacy_id": None,
         "last_visit_on": "2026-02-03"},
        {"client_id": bob, "name": "Bob Brown", "status": "prospect", "legacy_id": None,
         "last_visit_on": None},
    ]
    assert [r["name"] for r in p.json("client", "list", "--status", "prospect",
                                      "--format", "json")] == ["Bob Brown"]
    assert [r["name"] for r in p.json("client", "list", "--search", "EXAMPLE.org",
                                      "--format", "json")] == ["Ann Smith"]
    assert [r["name"] for r in p.json("client", "list", "--search", "0199",
                                      "--format", "json")] == ["Bob Brown"]
    assert p.json("client", "list", "--status", "lapsed", "--format", "json") == []
    table = p.ok("client", "list")
    assert "Ann Smith" in table and "Bob Brown" in table


def test_client_list_csv_escapes_what_a_spreadsheet_would_run(on_sqlite: Practice) -> None:
    p = on_sqlite
    sneaky = p.new("client", "intake", "--name", "=HYPERLINK(\"http://x\")")
    rows = list(csv.DictReader(io.StringIO(p.ok("client", "list", "--format", "csv"))))
    assert list(rows[0]) == ["client_id", "name", "status", "legacy_id", "last_visit_on"]
    assert rows[0]["client_id"] == sneaky
    assert rows[0]["name"] == "'=HYPERLINK(\"http://x\")"


def test_show_of_a_client_with_more_than_100_events_works_in_a_new_process(
    sqlite_url: str,
) -> None:
    ledger = PracticeLedger(Settings(db_url=sqlite_url, actor="tester"))
    try:
        client = ledger.record_intake(name="Frequent Flyer")
        for _ in range(101):
            ledger.complete_visit(client)
    finally:
        ledger.close()
    run = run_process("client", "show", str(client), "--format", "json", db_url=sqlite_url)
    assert run.exit_code == 0, run.stderr
    assert json.loads(run.stdout)["completed_visits"] == 101


def test_business_time_is_the_practices_local_time(sqlite_url: str) -> None:
    p = Practice(sqlite_url, zone="America/New_York")
    client = p.new("client", "intake", "--name", "Late Visit", "--on", "2026-03-01T09:00")
    p.new("visit", "complete", client, "--on", "2026-03-01T23:30")  # 04:30 UTC next day
    p.new("visit", "complete", client, "--on", "2026-03-02T03:00+00:00")  # 22:00 local
    [row] = p.json("client", "list", "--format", "json")
    assert row["last_visit_on"] == "2026-03-01"  # both visits fell on the 1st, locally
    ledger = PracticeLedger(Settings(db_url=sqlite_url, actor="reader"))
    try:
        visits = [e for e in ledger.events.get(UUID(client))
                  if isinstance(e, Client.VisitCompleted)]
    finally:
        ledger.close()
    assert [v.occurred_on.isoformat() for v in visits] == [
        "2026-03-01T23:30:00-05:00", "2026-03-01T22:00:00-05:00"]
    assert all(v.timestamp.tzinfo is not None for v in visits)  # record time, aware too
