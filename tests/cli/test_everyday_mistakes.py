"""SPEC §9's everyday mistakes as a user meets them: a fact in the future (T1), an impossible
date, a double booking (V2), a second intake of the same person (D1), a program recommended
by mistake, a visit done but left booked, a care report back to the referring doctor.
Dates in the future are worked out from today, so the tests hold whatever day they run."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from tests.cli.helpers import Practice


@pytest.fixture
def p(sqlite_url: str) -> Practice:
    cli = Practice(sqlite_url)
    cli.ok("init")
    return cli


def ahead(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def client_of(p: Practice, name: str = "Ann Lee", *extra: str) -> str:
    return p.new("client", "intake", "--name", name, "--on", "2026-01-05", *extra)


# -- T1 --------------------------------------------------------------------------------------

def test_t1_an_action_dated_after_now_is_refused(p: Practice) -> None:
    tomorrow = ahead(2)  # (two days: tomorrow somewhere on Earth is still today in UTC)
    p.refused("T1", "client", "intake", "--name", "Fay", "--on", tomorrow)
    ann = client_of(p)
    run = p.refused("T1", "visit", "complete", ann, "--on", f"{tomorrow}T09:00")
    assert "later than now" in run.stderr
    p.refused("T1", "client", "recall", ann, "--channel", "sms", "--on", tomorrow)
    p.new("visit", "complete", ann, "--on", date.today().isoformat())


def test_t1_a_lapse_sweep_as_of_after_today_is_refused(p: Practice) -> None:
    client_of(p)
    run = p.refused("T1", "client", "lapse-sweep", "--as-of", ahead(2))
    assert "after today" in run.stderr
    assert p.ok("client", "lapse-sweep", "--as-of", date.today().isoformat()) != ""


def test_a_booking_may_be_in_the_future_but_not_beyond_two_years(p: Practice) -> None:
    ann = client_of(p)
    visit = p.new("visit", "schedule", ann, "--at", f"{ahead(30)}T10:00")
    p.new("visit", "reschedule", ann, "--visit", visit, "--at", f"{ahead(700)}T10:00")
    run = p.fails(2, "visit", "reschedule", ann, "--visit", visit, "--at", f"{ahead(800)}T10")
    assert "at:" in run.stderr and "more than 2 years ahead" in run.stderr
    p.fails(2, "visit", "schedule", ann, "--at", "9999-12-31T10:00")


@pytest.mark.parametrize("command", [
    ("client", "intake", "--name", "Old", "--on", "1899-12-31"),
    ("client", "intake", "--name", "Old", "--dob", "1850-01-01"),
    ("client", "lapse-sweep", "--as-of", "0001-01-01"),
    ("visit", "schedule", "{id}", "--at", "1800-01-01T10:00"),
])
def test_a_date_before_1900_is_invalid_input_naming_the_option(
        p: Practice, command: tuple[str, ...]) -> None:
    ann = client_of(p)
    run = p.fails(2, *(part.format(id=ann) for part in command))
    flag = next(part for part in command if part.startswith("--") and part != "--name")
    assert f"'{flag}'" in run.stderr and "before 1900" in run.stderr


def test_t1_holds_for_a_corrected_visit_date(p: Practice) -> None:
    ann = client_of(p)
    p.new("visit", "complete", ann, "--on", "2026-01-06T09:00")  # version 2
    later = (datetime.now() + timedelta(days=2)).isoformat(timespec="minutes")
    p.refused("T1", "client", "correct", ann, "--version", "2", "--set",
              f"occurred_on={later}", "--reason", "wrong day")


# -- care reports back to the referring provider -----------------------------------------

def test_a_care_report_goes_back_on_an_inbound_referral(p: Practice) -> None:
    ref = p.new("referral", "receive", "--source", "doctor", "--referrer", "Dr Jones",
                "--prospect", "Bob Roe", "--on", "2026-01-04")
    p.refused("R3", "referral", "report", ref, "--summary", "early", "--on", "2026-01-04")
    client_of(p, "Bob Roe", "--referral", ref)
    assert p.new("referral", "report", ref, "--summary", "improving",
                 "--on", "2026-01-20") == ref
    [dr] = p.json("report", "referrals", "--format", "json")["providers"]
    assert dr == {"provider": "dr jones", "referred_in": 1, "referred_out": 0,
                  "care_reports_sent": 1}


# -- V2, D1 and a visit done without its booking's id --------------------------------------

def test_v2_the_same_client_is_not_booked_twice_at_one_time(p: Practice) -> None:
    ann = client_of(p)
    p.new("visit", "schedule", ann, "--at", "2026-01-09T10:00", "--on", "2026-01-05")
    p.refused("V2", "visit", "schedule", ann, "--at", "2026-01-09T10:00", "--on", "2026-01-05")


def test_d1_a_second_intake_of_the_same_person_is_refused_unless_allowed(p: Practice) -> None:
    ann = client_of(p, "Ann Lee", "--dob", "1980-04-02", "--email", "ann@example.org")
    run = p.refused("D1", "client", "intake", "--name", "ann lee", "--dob", "1980-04-02",
                    "--on", "2026-01-06")
    assert f"client {ann.replace('-', '')[:8]} has the same name and date of birth" in run.stderr
    p.refused("D1", "client", "intake", "--name", "A. Lee", "--email", "ann@example.org",
              "--on", "2026-01-06")
    p.new("client", "intake", "--name", "Ann Lee", "--dob", "1980-04-02", "--on", "2026-01-06",
          "--allow-duplicate")


def test_a_visit_done_without_its_id_closes_the_booking_of_that_day(p: Practice) -> None:
    ann = client_of(p)
    booked = p.new("visit", "schedule", ann, "--at", "2026-01-12T10:00", "--on", "2026-01-05")
    assert p.new("visit", "complete", ann, "--on", "2026-01-12T10:00") == booked
    p.refused("V1", "visit", "cancel", ann, "--visit", booked, "--on", "2026-01-13")


# -- programs: withdrawn by mistake, accepted for a reason -----------------------------------

def test_a_recommendation_entered_twice_is_withdrawn_and_counts_in_no_rate(p: Practice) -> None:
    ann = client_of(p)
    p.new("client", "assess", ann, "--findings", "low back", "--measure", "odi=28",
          "--on", "2026-01-05")
    plan = ("--phase", "relief", "--visits", "4", "--per-week", "2", "--goal", "walk",
            "--rationale", "acute", "--on", "2026-01-05")
    first = p.new("program", "recommend", ann, *plan)
    twice = p.new("program", "recommend", ann, *plan)
    p.new("program", "accept", first, "--on", "2026-01-05")
    p.fails(2, "program", "withdraw", twice, "--on", "2026-01-05")  # --reason is required
    p.new("program", "withdraw", twice, "--reason", "entered twice", "--on", "2026-01-05")
    p.refused("P4", "program", "withdraw", first, "--reason", "x", "--on", "2026-01-05")
    kpis = p.json("report", "retention", "--format", "json")["kpis"]
    assert kpis["program_acceptance_rate"] == 1.0
    programs = p.json("report", "timeline", ann, "--as-of", "2026-01-06",
                      "--format", "json")["programs"]
    assert [(x["status"], x["measures"] != {}) for x in programs] == [
        ("active", True), ("withdrawn", False)]


def test_the_reason_for_accepting_a_program_is_kept_on_record(p: Practice) -> None:
    ann = client_of(p)
    p.new("client", "assess", ann, "--findings", "low back", "--on", "2026-01-05")
    plan = p.new("program", "recommend", ann, "--phase", "relief", "--visits", "4",
                 "--per-week", "2", "--goal", "walk", "--rationale", "acute",
                 "--on", "2026-01-05")
    p.new("program", "accept", plan, "--reason", "wants to run again", "--on", "2026-01-05")
    entries = p.json("report", "timeline", ann, "--format", "json")["entries"]
    assert "program accepted (wants to run again)" in [e["summary"] for e in entries]
