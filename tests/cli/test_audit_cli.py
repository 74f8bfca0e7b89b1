"""`practice audit …` and `practice client correct`, as an auditor and a front desk use them."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from practice_es.application import PracticeLedger
from practice_es.infrastructure.settings import Settings
from tests.cli.helpers import Practice
from tests.integration.raw_log import RawLog


@pytest.fixture
def practice(db_url: str) -> Practice:
    return Practice(db_url)


def a_client(practice: Practice) -> str:
    client = practice.new("client", "intake", "--name", "Ann Smith", "--email", "ann@x.org",
                          "--on", "2026-01-05")
    practice.new("client", "assess", client, "--findings", "tight", "--measure", "pain=7",
                 "--on", "2026-01-05")
    practice.new("visit", "complete", client, "--measure", "pain=6", "--notes", "first",
                 "--on", "2026-01-12")
    return client


def raw_log(db_url: str) -> RawLog:
    ledger = PracticeLedger(Settings(db_url=db_url, actor="intruder"))
    try:
        return RawLog(ledger)
    finally:
        ledger.close()


def test_history_as_json_lists_the_clients_events(practice: Practice) -> None:
    client = a_client(practice)
    document = practice.json("audit", "history", client, "--format", "json")
    assert document["client_id"] == client and document["as_of"] is None
    assert [e["event"] for e in document["events"]] == [
        "IntakeRecorded", "AssessmentRecorded", "VisitCompleted"]
    assert [e["position"] for e in document["events"]] == [1, 2, 3]
    assert document["state"]["status"] == "active"


def test_history_as_of_a_moment_before_the_client_was_recorded(practice: Practice) -> None:
    client = a_client(practice)
    document = practice.json("audit", "history", client, "--format", "json",
                             "--as-of", "2020-01-01T09:00")
    assert document["events"] == [] and document["state"] is None
    assert document["as_of"] == "2020-01-01T09:00:00+00:00"


def test_the_history_table_flags_back_dated_entries(practice: Practice) -> None:
    client = a_client(practice)  # its visit happened in January, recorded today
    table = practice.ok("audit", "history", client)
    visit_row = next(line for line in table.splitlines() if "VisitCompleted" in line)
    assert "back-dated" in visit_row
    assert "Ann Smith" in table


def test_history_of_an_unknown_client_is_invalid_input(practice: Practice) -> None:
    run = practice.fails(2, "audit", "history", "00000000-0000-0000-0000-000000000007")
    assert "client" in run.stderr


def test_verify_prints_the_same_head_and_count_every_time(practice: Practice) -> None:
    a_client(practice)
    first, second = practice.ok("audit", "verify"), practice.ok("audit", "verify")
    assert first == second
    head, events = (line.split()[1] for line in first.splitlines())
    assert len(head) == 64 and events == "3"
    assert practice.json("audit", "verify", "--json")["head"] == head


Tamper = Callable[[RawLog], None]
TAMPERING: dict[str, tuple[Tamper, int]] = {
    "edited": (lambda raw: raw.edit_state(2), 2),
    "deleted": (lambda raw: raw.delete(2), 2),
    "inserted": (lambda raw: raw.forge(), 4),
    "reordered": (lambda raw: raw.swap(1, 3), 1),
}


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_verify_exits_1_naming_the_first_altered_position(practice: Practice, db_url: str,
                                                          kind: str) -> None:
    a_client(practice)
    tamper, position = TAMPERING[kind]
    tamper(raw_log(db_url))
    run = practice.run("audit", "verify")
    assert run.exit_code == 1, run.output
    assert f"position {position}:" in run.stderr and "Traceback" not in run.output
    assert run.stdout == ""


def test_verify_checks_a_head_kept_elsewhere(practice: Practice) -> None:
    a_client(practice)
    kept = practice.json("audit", "verify", "--json")["head"]
    practice.new("client", "recall", practice.json("client", "list", "--format", "json")[0]
                 ["client_id"], "--channel", "phone")
    assert practice.run("audit", "verify", "--expect-head", kept).exit_code == 0
    run = practice.run("audit", "verify", "--expect-head", "0" * 64)
    assert run.exit_code == 1 and "expected head" in run.stderr


def test_export_writes_the_history_with_the_head_hash(practice: Practice, tmp_path: Path) -> None:
    client = a_client(practice)
    out = tmp_path / "ann.json"
    assert practice.ok("audit", "export", client, "--out", str(out)) == str(out)
    document = json.loads(out.read_text())
    head = practice.json("audit", "verify", "--json")["head"]
    assert document["ledger"]["head"] == head and document["ledger"]["head_position"] == 3
    assert document["history"]["client_id"] == client
    assert len(document["history"]["events"]) == 3
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # it holds health records


def test_a_correction_is_recorded_and_history_shows_both(practice: Practice) -> None:
    client = a_client(practice)
    assert practice.new("client", "correct", client, "--version", "3",
                        "--set", "measures.pain=4", "--reason", "typed 6 for 4") == client
    events = practice.json("audit", "history", client, "--format", "json")["events"]
    original, correction = events[2], events[3]
    assert original["data"]["measures"] == {"pain": 6.0}
    assert correction["event"] == "EntryCorrected" and correction["actor"] == "front-desk"
    assert correction["data"]["changes"] == {"measures": {"pain": 4.0}}
    assert correction["data"]["corrected_version"] == 3
    assert "corrected by #4" in practice.ok("audit", "history", client)


@pytest.mark.parametrize(("args", "named"), [
    (("--version", "3", "--set", "measures.pain=12"), "measure pain"),
    (("--version", "3", "--set", "colour=blue"), "colour"),
    (("--version", "9", "--set", "notes=x"), "version"),
    (("--version", "3", "--set", "notes"), "--set"),
])
def test_an_invalid_correction_names_what_is_wrong_and_records_nothing(
        practice: Practice, args: tuple[str, ...], named: str) -> None:
    client = a_client(practice)
    run = practice.fails(2, "client", "correct", client, *args, "--reason", "why")
    assert named in run.stderr


def test_a_visit_corrected_to_before_the_intake_is_refused(practice: Practice) -> None:
    client = a_client(practice)
    practice.refused("C3", "client", "correct", client, "--version", "3",
                     "--set", "occurred_on=2025-12-01", "--reason", "wrong year")
