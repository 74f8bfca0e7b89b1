"""`practice report …` as a user runs it: formats, windows, charts, --as-known-at, errors."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from practice_es.application import PracticeLedger
from practice_es.infrastructure.settings import Settings
from tests.cli.helpers import Practice, Run
from tests.integration.report_histories import Clinic, at, record_clinic


def practice(db_url: str, *args: str) -> Run:
    return Practice(db_url).run(*args)


@pytest.fixture
def clinic(db_url: str) -> Clinic:
    ledger = PracticeLedger(Settings(db_url=db_url, actor="front-desk"))
    try:
        return record_clinic(ledger)
    finally:
        ledger.close()


def test_retention_json_has_the_spec_shape(db_url: str, clinic: Clinic) -> None:
    result = practice(db_url, "report", "retention", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {"by", "cohorts", "kpis"} <= report.keys()
    assert report["cohorts"][0] == {"cohort": "2026-01", "clients": 2,
                                    "retained": [2, 1, 1, 0, 1],
                                    "rate": [1.0, 0.5, 0.5, 0.0, 0.5]}
    assert report["kpis"]["new_clients"] == 3


def test_retention_csv_is_one_row_per_cohort_and_period(db_url: str, clinic: Clinic) -> None:
    result = practice(db_url, "report", "retention", "--from", "2026-02-01", "--to",
                      "2026-03-31", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows == [
        {"cohort": "2026-02", "clients": "1", "k": "0", "retained": "1", "rate": "1.0000"},
        {"cohort": "2026-02", "clients": "1", "k": "1", "retained": "0", "rate": "0.0000"},
    ]
    kpis = practice(db_url, "report", "retention", "--format", "csv", "--view", "kpis")
    assert "rebooking_rate,0.2857\n" in kpis.stdout  # four places (SPEC §9)


def test_retention_table_shows_cohorts_kpis_and_dropoff(db_url: str, clinic: Clinic) -> None:
    result = practice(db_url, "report", "retention", "--by", "quarter")
    assert result.exit_code == 0, result.output
    for text in ("2026-Q1", "33%", "KPIs", "rebooking_rate", "Drop-off by visit number"):
        assert text in result.stdout


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_charts_are_written(db_url: str, clinic: Clinic, tmp_path: Path, suffix: str) -> None:
    heatmap, bars = tmp_path / f"cohorts{suffix}", tmp_path / f"sources{suffix}"
    assert practice(db_url, "report", "retention", "--chart", str(heatmap)).exit_code == 0
    assert practice(db_url, "report", "referrals", "--chart", str(bars)).exit_code == 0
    for chart in (heatmap, bars):
        head = chart.read_bytes()[:200]
        assert head.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in chart.read_bytes()


def test_a_chart_must_be_png_or_svg(db_url: str, clinic: Clinic, tmp_path: Path) -> None:
    result = practice(db_url, "report", "retention", "--chart", str(tmp_path / "c.pdf"))
    assert result.exit_code == 2
    assert "chart" in result.stderr and ".png or .svg" in result.stderr


def test_a_window_ending_before_it_starts_is_refused(db_url: str, clinic: Clinic) -> None:
    result = practice(db_url, "report", "referrals", "--from", "2026-03-01", "--to",
                      "2026-02-01")
    assert result.exit_code == 2
    assert "--to 2026-02-01 is before --from 2026-03-01" in result.stderr


def test_referrals_json_and_csv(db_url: str, clinic: Clinic) -> None:
    report = json.loads(practice(db_url, "report", "referrals", "--format", "json").stdout)
    assert report["sources"][0]["referrer"] == "dr jones"
    assert report["providers"][0] == {"provider": "dr jones", "referred_in": 3,
                                      "referred_out": 1, "care_reports_sent": 1}
    providers = practice(db_url, "report", "referrals", "--format", "csv", "--view",
                         "providers").stdout.splitlines()
    assert providers[:2] == ["provider,referred_in,referred_out,care_reports_sent",
                             "dr jones,3,1,1"]


def test_timeline_of_a_client(db_url: str, clinic: Clinic) -> None:
    result = practice(db_url, "report", "timeline", str(clinic.a), "--format", "json")
    report = json.loads(result.stdout)
    assert report["client_id"] == str(clinic.a)
    assert report["programs"][0]["measures"]["pain"] == {"first": 7, "latest": 3,
                                                         "change": -4}
    table = practice(db_url, "report", "timeline", str(clinic.a))
    assert "came by referral from doctor dr jones" in table.stdout
    assert "pain 7→3 (-4)" in table.stdout


def test_timeline_of_an_unknown_client_is_exit_2(db_url: str, clinic: Clinic) -> None:
    result = practice(db_url, "report", "timeline", "00000000-0000-4000-8000-000000000000")
    assert result.exit_code == 2
    assert "no client with id" in result.stderr


def test_recalls_csv_lists_every_worklist_row_with_its_list(db_url: str,
                                                             clinic: Clinic) -> None:
    result = practice(db_url, "report", "recalls", "--as-of", "2026-07-02", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    # On 07-02 A and C have just lapsed (not recalled): recall due and to reactivate.
    # B (last visit 05-10, program P3 every 3.5 days) is due a recall too. Dee came in
    # and booked nothing; Ann and Cat were referred out and no answer is recorded.
    assert sorted((r["list"], r["name"]) for r in rows) == [
        ("lapsed: reactivate", "Ann"), ("lapsed: reactivate", "Cat"),
        ("prospect: nothing booked", "Dee"),
        ("recall due", "Ann"), ("recall due", "Bob"), ("recall due", "Cat"),
        ("referral: awaiting answer", "Ann"), ("referral: awaiting answer", "Cat"),
    ]


def test_as_known_at_reproduces_an_earlier_report_after_back_dated_entries(
        db_url: str, clinic: Clinic) -> None:
    first = practice(db_url, "report", "retention", "--format", "json").stdout
    time.sleep(0.01)
    moment = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    ledger = PracticeLedger(Settings(db_url=db_url, actor="front-desk"))
    try:
        ledger.complete_visit(clinic.c, on=at("2026-02-24 10:00"))  # recorded today
    finally:
        ledger.close()
    again = practice(db_url, "report", "retention", "--format", "json", "--as-known-at",
                     moment)
    assert again.exit_code == 0, again.output
    assert again.stdout == first
    assert practice(db_url, "report", "retention", "--format", "json").stdout != first


def test_projections_status_catch_up_and_rebuild_cover_every_read_model(
        db_url: str, clinic: Clinic) -> None:
    def status() -> dict[str, dict[str, int]]:
        result = practice(db_url, "projections", "status", "--format", "json")
        return {row["name"]: row for row in json.loads(result.stdout)}

    # The clinic was recorded straight through the ledger: no read model has seen it yet.
    before = status()
    assert {"clients", "visits", "lapses", "programs", "referrals", "timeline"} <= before.keys()
    assert before["timeline"]["behind"] == before["timeline"]["head"] > 0
    assert practice(db_url, "projections", "catch-up").exit_code == 0
    caught_up = status()
    assert all(row["behind"] == 0 for row in caught_up.values())
    assert caught_up["timeline"]["rows"] > 0
    assert practice(db_url, "projections", "rebuild", "timeline").exit_code == 0
    assert status() == caught_up
