"""`--practitioner` on bookings and completed visits, the importer's therapist column, and
`report retention --by-practitioner` as a practice owner reads it."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path
from typing import Any

from tests.cli.helpers import Practice

FIXTURES = Path(__file__).parent.parent / "fixtures" / "legacy"


def _month_of_two_practitioners(practice: Practice) -> None:
    """Ann: new with Mia, twice (rebooked after the first); Bob: new with Paul, once;
    Ann's third visit is with Paul."""
    ann = practice.new("client", "intake", "--name", "Ann Lee", "--on", "2026-01-02")
    bob = practice.new("client", "intake", "--name", "Bob Roy", "--on", "2026-01-02")
    first = practice.new("visit", "schedule", ann, "--at", "2026-01-05T10:00",
                         "--practitioner", "Mia", "--on", "2026-01-02")
    practice.new("visit", "complete", ann, "--visit", first, "--on", "2026-01-05T10:30")
    second = practice.new("visit", "schedule", ann, "--at", "2026-01-12T10:00",
                          "--practitioner", "Mia", "--on", "2026-01-05T11:00")
    practice.new("visit", "complete", ann, "--visit", second, "--on", "2026-01-12T10:30")
    practice.new("visit", "complete", ann, "--practitioner", "Paul", "--on", "2026-01-20T10:00")
    practice.new("visit", "complete", bob, "--practitioner", "Paul", "--on", "2026-01-21T10:00")


def test_each_practitioner_s_visits_new_clients_pva_and_rebooking(db_url: str) -> None:
    practice = Practice(db_url)
    _month_of_two_practitioners(practice)
    report = practice.json("report", "retention", "--by-practitioner", "--from", "2026-01-01",
                           "--to", "2026-01-31", "--format", "json")
    rows = {row["practitioner"]: row for row in report["practitioners"]}
    assert {k: rows["Mia"][k] for k in ("visits", "new_clients", "pva", "rebooking_rate")} == {
        "visits": 2, "new_clients": 1, "pva": 3.0, "rebooking_rate": 0.5}
    assert {k: rows["Paul"][k] for k in ("visits", "new_clients", "pva", "rebooking_rate")} == {
        "visits": 2, "new_clients": 1, "pva": 1.0, "rebooking_rate": 0.0}
    kpis = report["kpis"]
    assert sum(r["visits"] for r in rows.values()) == kpis["visits"] == 4
    assert sum(r["new_clients"] for r in rows.values()) == kpis["new_clients"] == 2


def test_the_csv_view_is_one_row_per_practitioner(db_url: str) -> None:
    practice = Practice(db_url)
    _month_of_two_practitioners(practice)
    out = practice.ok("report", "retention", "--by-practitioner", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["practitioner"] for r in rows] == ["Mia", "Paul"]
    assert rows[0]["visits"] == "2"


def _practitioners_after_import(db_url: str, tmp_path: Path, preset: str) -> dict[str, Any]:
    practice = Practice(db_url)
    source = shutil.copytree(FIXTURES / preset, tmp_path / preset)
    practice.ok("migrate", "import", str(source), "--format", preset,
                "--rejects", str(tmp_path / "rejects.csv"))
    report: dict[str, Any] = practice.json("report", "retention", "--by-practitioner",
                                           "--format", "json")
    return report


def test_the_importer_maps_the_therapist_column(db_url: str, tmp_path: Path) -> None:
    report = _practitioners_after_import(db_url, tmp_path, "generic")
    names = [row["practitioner"] for row in report["practitioners"]]
    assert names == ["Dr. Helen Jones DC", "Mia Chen LMT", "Paul Ortiz LMT"]
    assert sum(row["visits"] for row in report["practitioners"]) == report["kpis"]["visits"]


def test_the_importer_maps_cliniko_s_practitioner_id(db_url: str, tmp_path: Path) -> None:
    report = _practitioners_after_import(db_url, tmp_path, "cliniko")
    assert [row["practitioner"] for row in report["practitioners"]] == ["1"]


def test_the_day_sheet_names_who_treats(db_url: str) -> None:
    practice = Practice(db_url)
    ann = practice.new("client", "intake", "--name", "Ann Lee", "--on", "2026-01-02")
    practice.new("visit", "schedule", ann, "--at", "2026-01-05T10:00", "--practitioner", "Mia",
                 "--on", "2026-01-02")
    sheet = practice.json("schedule", "--day", "2026-01-05", "--format", "json")
    assert [(row["name"], row["practitioner"]) for row in sheet] == [("Ann Lee", "Mia")]
