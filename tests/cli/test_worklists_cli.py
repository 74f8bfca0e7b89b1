"""Worklists a front desk can work (SPEC §9): contact details, reasons, CSV for a mailing tool."""

from __future__ import annotations

import csv
import io

from tests.cli.helpers import Practice


def test_the_worklist_csv_has_who_how_to_reach_them_and_why(practice: Practice) -> None:
    p = practice
    ann = p.new("client", "intake", "--name", "Ann Lee", "--phone", "555-0101", "--email",
                "ann@example.org", "--on", "2026-01-05")
    p.ok("visit", "complete", "Ann Lee", "--on", "2026-01-05T10:00")
    p.new("client", "intake", "--name", "Bo Park", "--phone", "555-0102", "--on", "2026-03-01")
    p.new("referral", "make", "Ann Lee", "--to", "Dr Jones", "--reason", "x-ray",
          "--on", "2026-03-02")
    rows = list(csv.DictReader(io.StringIO(p.ok(
        "report", "recalls", "--as-of", "2026-03-10", "--format", "csv"))))
    assert [(r["list"], r["name"], r["phone"], r["email"]) for r in rows] == [
        ("recall due", "Ann Lee", "555-0101", "ann@example.org"),
        ("prospect: nothing booked", "Bo Park", "555-0102", ""),
        ("referral: awaiting answer", "Ann Lee", "555-0101", "ann@example.org"),
    ]
    assert rows[0]["reasons"] == ("last visit 64 days ago, nothing booked "
                                  "(no program: default 28 days)")
    assert rows[0]["client_id"] == ann
    data = p.json("report", "recalls", "--as-of", "2026-03-10", "--format", "json")
    assert isinstance(data["prospects"][0]["reasons"], list)
    table = p.ok("report", "recalls", "--as-of", "2026-03-10", "--view", "prospects")
    assert "Bo Park" in table and "555-0102" in table
    narrow = Practice(p.db_url, env={"COLUMNS": "80"})
    for view in ("all", "recall_due", "reevaluation_due", "reactivate", "prospects",
                 "awaiting_answer"):
        table = narrow.ok("report", "recalls", "--as-of", "2026-03-10", "--view", view)
        assert max(len(line) for line in table.splitlines()) <= 80, table
    assert ann[:8] in narrow.ok("report", "recalls", "--as-of", "2026-03-10", "--view", "all")


def test_lapse_sweep_names_who_lapsed_on_stderr_ids_alone_on_stdout(
        practice: Practice) -> None:
    ann = practice.new("client", "intake", "--name", "Ann Lee", "--on", "2026-01-05")
    run = practice.run("client", "lapse-sweep", "--as-of", "2026-05-01")
    assert run.exit_code == 0
    assert run.stdout == f"{ann}\n"
    assert f"lapsed: Ann Lee ({ann[:8]})" in run.stderr
