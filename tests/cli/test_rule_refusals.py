"""Each rule's refusal as a user sees it: exit 1 naming the rule, the store exactly as it was.
And each kind of invalid input: exit 2, a clear message, never a traceback."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest

from tests.cli.helpers import Practice, run_process


@pytest.fixture
def p(sqlite_url: str) -> Practice:
    cli = Practice(sqlite_url)
    cli.ok("init")
    return cli


def client_of(p: Practice, *extra: str) -> str:
    return p.new("client", "intake", "--name", "Ann Smith", "--on", "2026-01-05", *extra)


def assessed_client(p: Practice, *extra: str) -> str:
    client = client_of(p, *extra)
    p.new("client", "assess", client, "--findings", "stiff neck", "--on", "2026-01-05")
    return client


RECOMMEND = ("--phase", "relief", "--visits", "4", "--per-week", "2", "--goal", "sleep",
             "--rationale", "acute neck pain", "--on", "2026-01-06")


def program_of(p: Practice, client: str, accept: bool = False) -> str:
    program = p.new("program", "recommend", client, *RECOMMEND)
    if accept:
        p.new("program", "accept", program, "--on", "2026-01-06")
    return program


# -- C1 --------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [
    ("visit", "schedule", "{id}", "--at", "2026-03-01T10:00"),
    ("visit", "complete", "{id}"),
    ("client", "assess", "{id}", "--findings", "x"),
    ("client", "recall", "{id}", "--channel", "sms"),
])
def test_c1_visits_assessments_and_recalls_need_a_client(
    p: Practice, command: tuple[str, ...],
) -> None:
    client = assessed_client(p)
    program = program_of(p, client)
    for ident in (str(uuid4()), program):  # nothing, or something that is not a client
        run = p.fails(2, *(part.format(id=ident) for part in command))
        assert "C1" in run.stderr
        assert f"no client with id {ident}" in run.stderr


# -- C2 --------------------------------------------------------------------------------------

def test_c2_an_open_contraindication_refuses_a_visit_and_a_program(p: Practice) -> None:
    client = assessed_client(p, "--contraindication", "Recent fracture")
    run = p.refused("C2", "visit", "complete", client, "--on", "2026-01-06")
    assert "Recent fracture" in run.stderr
    run = p.refused("C2", "program", "recommend", client, *RECOMMEND)
    assert "Recent fracture" in run.stderr
    p.refused("C2", "client", "clear", client, "--contraindication", "DVT", "--by", "Dr Jones")
    p.new("client", "clear", client, "--contraindication", "recent fracture", "--by", "Dr J")
    p.new("visit", "complete", client, "--on", "2026-01-07")


# -- C3 --------------------------------------------------------------------------------------

def test_c3_no_visit_before_the_intake(p: Practice) -> None:
    client = client_of(p)
    p.refused("C3", "visit", "schedule", client, "--at", "2026-01-04T10:00")
    p.refused("C3", "visit", "complete", client, "--on", "2026-01-04")
    visit = p.new("visit", "schedule", client, "--at", "2026-01-09T10:00")
    p.refused("C3", "visit", "reschedule", client, "--visit", visit, "--at", "2025-12-31")


def test_c3_a_program_visit_is_for_an_accepted_active_program_of_the_client(
    p: Practice,
) -> None:
    client = assessed_client(p)
    recommended = program_of(p, client)
    p.refused("C3", "visit", "complete", client, "--program", recommended, "--on", "2026-01-07")
    p.refused("C3", "visit", "schedule", client, "--program", recommended, "--at", "2026-02-01")
    other = assessed_client(p)
    theirs = program_of(p, other, accept=True)
    p.refused("C3", "visit", "complete", client, "--program", theirs, "--on", "2026-01-07")
    visit = p.new("visit", "schedule", other, "--program", theirs, "--at", "2026-02-01")
    p.new("program", "discontinue", theirs)
    p.refused("C3", "visit", "complete", other, "--visit", visit, "--on", "2026-02-01")


# -- C4, C5, C6 are not refusals: what a sweep and a visit record ----------------------------

def test_c4_a_second_sweep_records_nothing_and_after_days_is_at_least_one(p: Practice) -> None:
    client = client_of(p)
    assert p.ok("client", "lapse-sweep", "--as-of", "2026-06-01") == client
    before = p.events()
    assert p.ok("client", "lapse-sweep", "--as-of", "2026-06-01") == ""
    assert p.events() == before
    run = p.fails(2, "client", "lapse-sweep", "--as-of", "2026-09-01", "--after-days", "0")
    assert "after-days" in run.stderr


def test_c6_a_visit_outside_any_program_is_normal(p: Practice) -> None:
    client = assessed_client(p)
    program_of(p, client, accept=True)
    p.new("visit", "complete", client, "--on", "2026-01-07")  # no --program: hit and miss
    assert p.json("client", "show", client, "--format", "json")["completed_visits"] == 1


# -- P1–P5 -----------------------------------------------------------------------------------

def test_p1_a_program_needs_an_assessment_on_record(p: Practice) -> None:
    client = client_of(p)
    p.refused("P1", "program", "recommend", client, *RECOMMEND)
    p.new("client", "assess", client, "--findings", "stiff")
    p.refused("P1", "program", "recommend", client, "--assessment", str(uuid4()), *RECOMMEND)


@pytest.mark.parametrize(("option", "value"), [
    ("--visits", "0"), ("--per-week", "0"), ("--per-week", "7.5"), ("--reevaluate-after", "5"),
])
def test_p2_a_program_is_specific(p: Practice, option: str, value: str) -> None:
    client = assessed_client(p)
    args = [*RECOMMEND, option, value]  # click takes the last value of a repeated option
    p.refused("P2", "program", "recommend", client, *args)


def test_p2_a_program_names_a_goal(p: Practice) -> None:
    client = assessed_client(p)
    p.refused("P2", "program", "recommend", client, "--phase", "relief", "--visits", "4",
              "--per-week", "2", "--rationale", "acute")


@pytest.mark.parametrize("rationale", [None, "  "])
def test_p3_a_recommendation_gives_its_rationale(p: Practice, rationale: str | None) -> None:
    client = assessed_client(p)
    args = ["--phase", "relief", "--visits", "4", "--per-week", "2", "--goal", "sleep"]
    if rationale is not None:
        args += ["--rationale", rationale]
    p.refused("P3", "program", "recommend", client, *args)


def test_p4_a_declined_program_stays_declined(p: Practice) -> None:
    client = assessed_client(p)
    declined = program_of(p, client)
    p.new("program", "decline", declined, "--reason", "cost")
    p.refused("P4", "program", "accept", declined)
    accepted = program_of(p, client, accept=True)
    p.refused("P4", "program", "decline", accepted)


def test_p5_one_active_program_at_a_time(p: Practice) -> None:
    client = assessed_client(p)
    first = program_of(p, client, accept=True)
    second = program_of(p, client)
    run = p.refused("P5", "program", "accept", second)
    assert first in run.stderr
    p.refused("P5", "program", "complete", second)
    p.refused("P5", "program", "reevaluate", second, "--findings", "x", "--outcome", "continue")
    p.new("program", "reevaluate", first, "--findings", "ready", "--outcome", "new-program")
    p.new("program", "accept", second)


# -- R1–R3 -----------------------------------------------------------------------------------

def test_r1_a_referral_converts_once(p: Practice) -> None:
    referral = p.new("referral", "receive", "--source", "client", "--referrer", "Bob Brown",
                     "--prospect", "Ann Smith")
    client_of(p, "--referral", referral)
    run = p.refused("R1", "client", "intake", "--name", "Ann Again", "--referral", referral)
    assert "already converted" in run.stderr
    assert len(p.json("client", "list", "--format", "json")) == 1  # no second client


def test_r1_a_referral_made_out_is_not_converted(p: Practice) -> None:
    client = client_of(p)
    out = p.new("referral", "make", client, "--to", "Dr Jones", "--reason", "x-ray")
    p.refused("R1", "client", "intake", "--name", "Someone", "--referral", out)


def test_r2_one_referrer_is_one_key(p: Practice) -> None:
    first = client_of(p, "--source", "doctor", "--referrer", " Dr  Jones ")
    second = client_of(p, "--source", "doctor", "--referrer", "dr jones")
    keys = {p.json("client", "show", c, "--format", "json")["referrer"] for c in (first, second)}
    assert keys == {"dr jones"}


def test_r3_an_outcome_is_recorded_once_on_a_referral_made_out(p: Practice) -> None:
    client = client_of(p)
    out = p.new("referral", "make", client, "--to", "Dr Jones", "--reason", "x-ray")
    p.new("referral", "outcome", out, "--not-cleared")
    p.refused("R3", "referral", "outcome", out, "--cleared")
    inbound = p.new("referral", "receive", "--source", "online", "--referrer", "web",
                    "--prospect", "Cy")
    p.refused("R3", "referral", "outcome", inbound, "--cleared")
    p.refused("R3", "referral", "report", inbound, "--summary", "progressing")


# -- V1 --------------------------------------------------------------------------------------

def test_v1_only_a_scheduled_visit_changes(p: Practice) -> None:
    client = client_of(p)
    done = p.new("visit", "schedule", client, "--at", "2026-01-08T10:00")
    p.new("visit", "complete", client, "--visit", done, "--on", "2026-01-08")
    cancelled = p.new("visit", "schedule", client, "--at", "2026-01-09T10:00")
    p.new("visit", "cancel", client, "--visit", cancelled)
    for visit in (done, cancelled):
        p.refused("V1", "visit", "cancel", client, "--visit", visit)
        p.refused("V1", "visit", "no-show", client, "--visit", visit)
        p.refused("V1", "visit", "complete", client, "--visit", visit, "--on", "2026-01-10")
        p.refused("V1", "visit", "reschedule", client, "--visit", visit, "--at", "2026-01-11")
    run = p.fails(2, "visit", "cancel", client, "--visit", str(uuid4()))
    assert "no visit with id" in run.stderr


# -- invalid input: exit 2, in a real process ------------------------------------------------

@pytest.fixture
def ledger_with_a_client(p: Practice) -> tuple[Practice, str]:
    return p, assessed_client(p)


@pytest.mark.parametrize(("args", "says"), [
    (("visit", "schedule", "{client}", "--at", "2026-13-45"), "--at"),
    (("visit", "complete", "{client}", "--on", "yesterday"), "--on"),
    (("client", "lapse-sweep", "--as-of", "01/06/2026"), "--as-of"),
    (("visit", "complete", "not-an-id"), "is not an id"),
    (("program", "accept", "{unknown}"), "no program with id"),
    (("client", "assess", "{client}", "--findings", "x", "--measure", "pain=11"), "pain"),
    (("client", "assess", "{client}", "--findings", "x", "--measure", "pain=lots"), "pain"),
    (("program", "recommend", "{client}", "--phase", "miracle", "--visits", "2",
      "--per-week", "1", "--goal", "g", "--rationale", "r"), "--phase"),
    (("client", "recall", "{client}", "--channel", "pigeon"), "--channel"),
])
def test_invalid_input_exits_2_with_a_clear_message(
    ledger_with_a_client: tuple[Practice, str], args: tuple[str, ...], says: str,
) -> None:
    p, client = ledger_with_a_client
    before = p.events()
    args = tuple(a.format(client=client, unknown=uuid4()) for a in args)
    run = run_process(*args, db_url=p.db_url)
    assert run.exit_code == 2, run.stderr
    assert says in run.stderr
    assert "Traceback" not in run.stderr
    assert run.stdout == ""
    assert p.events() == before


@pytest.mark.parametrize(("url", "says"), [
    ("nonsense://x", "is not a database URL"),
    ("sqlite:///no/such/folder/practice.db", "does not exist"),
    ("postgresql+psycopg://postgres@127.0.0.1:1/practice", "cannot open 127.0.0.1:1/practice"),
])
def test_a_bad_or_unreachable_database_exits_2(url: str, says: str) -> None:
    run = run_process("--db", url, "client", "intake", "--name", "Ann Smith")
    assert run.exit_code == 2, run.stderr
    assert says in run.stderr
    assert "Traceback" not in run.stderr
    assert run.stdout == ""


def test_a_file_that_is_not_a_ledger_exits_2_and_is_left_alone(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n")
    run = run_process("--db", f"sqlite:///{notes}", "client", "list")
    assert run.exit_code == 2, run.stderr
    assert "file is not a database" in run.stderr
    assert "Traceback" not in run.stderr
    assert notes.read_text() == "not a database\n"
