"""`practice demo`: a realistic practice recorded through the application service, its
reports printed and its two charts written; the same seed gives the same practice."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.helpers import Practice, Run


def practice(db_url: str, *args: str) -> Run:
    return Practice(db_url).run(*args)


def test_demo_prints_every_report_and_writes_both_charts(db_url: str, tmp_path: Path) -> None:
    charts = tmp_path / "charts"
    result = practice(db_url, "demo", "--clients", "30", "--seed", "3", "--charts", str(charts))
    assert result.exit_code == 0, result.output
    for heading in ("Retention by month", "KPIs", "Drop-off by visit number", "Sources",
                    "Providers", "Timeline of", "Entries", "Programs",
                    "The front desk's day, 2026-11-27", "Schedule 2026-11-27", "Recall due"):
        assert heading in result.stdout, heading
    # It ends with the last day: its day sheet, then a list to call from (phone numbers).
    last_day = result.stdout[result.stdout.index("The front desk's day"):]
    assert last_day.index("Schedule 2026-11-27") < last_day.index("Recall due")
    assert "555-" in last_day[last_day.index("Recall due"):]
    assert "recorded 30 clients" in result.stderr
    for name in ("retention.png", "referrals.png"):
        assert (charts / name).read_bytes().startswith(b"\x89PNG")


def test_the_demo_practice_has_what_a_consultant_looks_for(db_url: str) -> None:
    assert practice(db_url, "demo", "--clients", "60").exit_code == 0
    retention = json.loads(practice(db_url, "report", "retention", "--format", "json").stdout)
    kpis = retention["kpis"]
    assert kpis["new_clients"] >= 50 and kpis["lapsed"] > 0 and kpis["reactivated"] > 0
    assert 0 < kpis["rebooking_rate"] < 1 and 0 < kpis["program_acceptance_rate"] < 1
    assert len(retention["cohorts"]) >= 12  # 18 months of arrivals
    referrals = json.loads(practice(db_url, "report", "referrals", "--format", "json").stdout)
    kinds = {s["kind"] for s in referrals["sources"]}
    assert {"doctor", "client", "advertising"} <= kinds
    assert any(p["care_reports_sent"] for p in referrals["providers"])
    clients = json.loads(practice(db_url, "client", "list", "--format", "json").stdout)
    assert {"active", "lapsed"} <= {c["status"] for c in clients}


def test_the_same_seed_gives_the_same_output(tmp_path: Path) -> None:
    first = practice(f"sqlite:///{tmp_path / 'a.db'}", "demo", "--clients", "20", "--seed", "5")
    second = practice(f"sqlite:///{tmp_path / 'b.db'}", "demo", "--clients", "20", "--seed", "5")
    assert first.exit_code == second.exit_code == 0
    assert first.stdout == second.stdout


def test_the_demo_needs_an_empty_ledger(sqlite_url: str) -> None:
    assert practice(sqlite_url, "demo", "--clients", "5").exit_code == 0
    again = practice(sqlite_url, "demo", "--clients", "5")
    assert again.exit_code == 2
    assert "empty ledger" in again.stderr
