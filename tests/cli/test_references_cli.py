"""Every command takes a client's name or a short id where it takes an id (SPEC §9)."""

from __future__ import annotations

from click.testing import CliRunner

from practice_es.commands.main import cli
from tests.cli.helpers import BASE_ENV, Practice


def test_a_day_run_with_names_and_short_ids(practice: Practice) -> None:
    p = practice
    ann = p.new("client", "intake", "--name", "Ann Lee", "--on", "2026-03-02")
    p.ok("client", "assess", "ann lee", "--findings", "C5-6", "--measure", "pain=7",
         "--on", "2026-03-02")
    plan = p.new("program", "recommend", "Ann Lee", "--phase", "relief", "--visits", "2",
                 "--per-week", "1", "--goal", "sleep", "--rationale", "acute",
                 "--on", "2026-03-02")
    p.ok("program", "accept", plan[:8], "--on", "2026-03-02")
    visit = p.new("visit", "schedule", ann[:6], "--at", "2026-03-03T09:30",
                  "--program", plan.replace("-", "")[:10], "--on", "2026-03-02")
    done = p.new("visit", "complete", "ANN LEE", "--visit", visit[:8], "--on",
                 "2026-03-03T09:30")
    assert done == visit
    out = p.new("referral", "make", "Ann Lee", "--to", "Dr Jones", "--reason", "check",
                "--on", "2026-03-03")
    p.ok("referral", "outcome", out[:8], "--cleared", "--on", "2026-03-04")
    timeline = p.json("report", "timeline", "ann lee", "--format", "json")
    assert timeline["client_id"] == ann
    history = p.json("audit", "history", ann[:8], "--format", "json")
    assert history["client_id"] == ann


def test_an_ambiguous_name_lists_the_candidates_and_records_nothing(practice: Practice) -> None:
    first = practice.new("client", "intake", "--name", "Sam Roe", "--on", "2026-03-02")
    second = practice.new("client", "intake", "--name", "sam roe", "--email", "s@x.org",
                          "--on", "2026-03-02")
    run = practice.fails(2, "client", "recall", "Sam Roe", "--channel", "sms")
    assert f"{first[:8]}  Sam Roe" in run.stderr
    assert f"{second[:8]}  sam roe" in run.stderr
    practice.ok("client", "recall", second[:8], "--channel", "sms")


def test_an_unknown_reference_is_exit_2_naming_what_it_takes(practice: Practice) -> None:
    run = practice.fails(2, "client", "recall", "Nobody", "--channel", "sms")
    assert "no client is named 'Nobody'" in run.stderr
    run = practice.fails(2, "program", "accept", "abcdef12")
    assert "no program has an id starting abcdef12" in run.stderr


def complete(db_url: str, *words: str) -> list[str]:
    env = {**BASE_ENV, "PRACTICE_DB": db_url, "_PRACTICE_COMPLETE": "bash_complete",
           "COMP_WORDS": " ".join(("practice", *words)), "COMP_CWORD": str(len(words))}
    result = CliRunner().invoke(cli, [], env=env, prog_name="practice")
    assert result.exit_code == 0, result.output
    return [line.split(",", 1)[1] for line in result.stdout.splitlines() if line]


def test_the_shell_completes_client_names_and_ids(practice: Practice, db_url: str) -> None:
    ann = practice.new("client", "intake", "--name", "Ann", "--on", "2026-03-02")
    assert complete(db_url, "client", "show", "An") == ["Ann"]
    assert complete(db_url, "client", "show", ann[:3]) == [ann[:8]]
    assert complete(db_url, "visit", "schedule", "zz") == []


def test_completion_on_a_missing_ledger_creates_nothing(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "none.db"
    assert complete(f"sqlite:///{path}", "client", "show", "a") == []
    assert not path.exists()


def test_tables_show_short_ids_and_fit_80_columns_by_cutting_text(db_url: str) -> None:
    narrow = Practice(db_url, env={"COLUMNS": "80"})
    narrow.ok("init")
    long_name = "Maximiliana Theodora Wolfeschlegelsteinhausenbergerdorff-Featherstonehaugh"
    ident = narrow.new("client", "intake", "--name", long_name, "--email",
                       "maximiliana.theodora@an-unusually-long-domain.example.org",
                       "--on", "2026-03-02")
    table = narrow.ok("client", "list")
    assert max(len(line) for line in table.splitlines()) <= 80, table
    assert ident[:8] in table and ident not in table
    assert "…" in table
    narrow.ok("client", "recall", ident[:8], "--channel", "sms")
