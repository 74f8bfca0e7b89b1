"""Output a person reads (SPEC §9): percentages in tables, exact JSON, CSV to 4 places,
referring clients by name, times in the practice's zone."""

from __future__ import annotations

import csv
import io

from tests.cli.helpers import Practice


def two_of_three_accepted(p: Practice) -> None:
    ann = p.new("client", "intake", "--name", "Ann", "--on", "2026-03-02")
    p.ok("client", "assess", ann, "--findings", "stiff", "--on", "2026-03-02")
    for answer in ("accept", "decline", "accept"):
        plan = p.new("program", "recommend", ann, "--phase", "relief", "--visits", "1",
                     "--per-week", "1", "--goal", "walk", "--rationale", "r",
                     "--on", "2026-03-03")
        p.ok("program", answer, plan, "--on", "2026-03-03")
        if answer == "accept":
            p.ok("program", "complete", plan, "--on", "2026-03-04")


def test_rates_are_percentages_in_tables_exact_in_json_four_places_in_csv(
        practice: Practice) -> None:
    two_of_three_accepted(practice)
    table = practice.ok("report", "retention", "--view", "kpis")
    assert "67%" in table and "0.666" not in table
    kpis = practice.json("report", "retention", "--format", "json")["kpis"]
    assert kpis["program_acceptance_rate"] == 2 / 3
    rows = {r["kpi"]: r["value"] for r in csv.DictReader(io.StringIO(practice.ok(
        "report", "retention", "--view", "kpis", "--format", "csv")))}
    assert rows["program_acceptance_rate"] == "0.6667"
    assert "pva_period" in rows
    assert "pva_period" in practice.ok("report", "retention", "--help")


def test_a_client_who_referred_shows_by_name_until_erased(practice: Practice) -> None:
    cy = practice.new("client", "intake", "--name", "Cy Dunn", "--on", "2026-03-01")
    di = practice.new("client", "intake", "--name", "Di", "--source", "client",
                      "--referrer", cy, "--on", "2026-03-02")
    table = practice.ok("report", "referrals", "--view", "sources")
    assert "Cy Dunn" in table and cy[:8] not in table
    source = practice.json("report", "referrals", "--format", "json")["sources"][0]
    assert (source["referrer"], source["referrer_name"]) == (cy, "Cy Dunn")
    entries = practice.json("report", "timeline", di, "--format", "json")["entries"]
    assert entries[0]["summary"] == "intake; source client Cy Dunn"
    practice.ok("client", "erase", cy, "--reason", "asked")
    assert "[erased]" in practice.ok("report", "referrals", "--view", "sources")
    entries = practice.json("report", "timeline", di, "--format", "json")["entries"]
    assert entries[0]["summary"] == "intake; source client [erased]"


def test_the_timeline_and_the_history_give_every_time_in_the_practice_zone(db_url: str) -> None:
    in_utc = Practice(db_url)
    in_utc.ok("init")
    ann = in_utc.new("client", "intake", "--name", "Ann", "--on", "2026-03-02T15:00")
    in_new_york = Practice(db_url, zone="America/New_York")
    in_new_york.ok("visit", "complete", "Ann", "--on", "2026-03-03T10:00")
    entries = in_new_york.json("report", "timeline", ann, "--format", "json")["entries"]
    assert [e["on"] for e in entries] == ["2026-03-02T10:00:00-05:00",
                                          "2026-03-03T10:00:00-05:00"]
    history = in_new_york.json("audit", "history", "Ann", "--format", "json")
    assert [e["occurred_on"] for e in history["events"]] == [
        "2026-03-02T10:00:00-05:00", "2026-03-03T10:00:00-05:00"]
    assert all(e["recorded_at"].endswith(("-05:00", "-04:00")) for e in history["events"])
    assert "2026-03-02 10:00" in in_new_york.ok("audit", "history", "Ann")
