"""`practice group report …`: a row per practice and a total from the facts, not from rates."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.cli.helpers import Practice


def _new_client_with_visits(group: Practice, practice: str, name: str, visits: int) -> None:
    client = group.new("--practice", practice, "client", "intake", "--name", name,
                       "--on", "2026-01-02")
    for day in range(visits):
        group.new("--practice", practice, "visit", "complete", client,
                  "--on", f"2026-01-{5 + day:02d}T10:00")


def _two_practices(group_url: str) -> Practice:
    """big: one new client, four visits (PVA 4); small: three new clients, one visit each
    (PVA 1). The group's PVA is 7 visits / 4 new clients = 1.75, not the mean 2.5."""
    group = Practice(group_url)
    group.ok("group", "add", "big")
    group.ok("group", "add", "small")
    _new_client_with_visits(group, "big", "Ann Lee", 4)
    for name in ("Bob Roy", "Cy Dunn", "Di Fox"):
        _new_client_with_visits(group, "small", name, 1)
    return group


def test_the_group_total_divides_the_summed_facts(group_url: str) -> None:
    report = _two_practices(group_url).json("group", "report", "retention", "--format", "json")
    by_practice = {p["practice"]: p["kpis"] for p in report["practices"]}
    assert (by_practice["big"]["pva"], by_practice["small"]["pva"]) == (4.0, 1.0)
    total = report["total"]["kpis"]
    assert (total["new_clients"], total["visits"], total["pva"]) == (4, 7, 1.75)
    assert total["visit_average"] == 7 / 4


def test_the_csv_is_a_row_per_practice_then_the_total(group_url: str, tmp_path: Path) -> None:
    group = _two_practices(group_url)
    rows = list(csv.DictReader(io.StringIO(group.ok(
        "group", "report", "retention", "--from", "2026-01-01", "--to", "2026-01-31",
        "--format", "csv"))))
    assert [(r["practice"], r["visits"]) for r in rows] == [
        ("big", "4"), ("small", "3"), ("total", "7")]


def test_the_referrals_total_sums_each_practice_s_sources(group_url: str) -> None:
    group = Practice(group_url)
    for name in ("east", "west"):
        group.ok("group", "add", name)
        group.new("--practice", name, "referral", "receive", "--source", "doctor",
                  "--referrer", "dr-jones", "--prospect", "Pat Doe", "--on", "2026-01-03")
    referral = group.new("--practice", "east", "referral", "receive", "--source", "online",
                         "--referrer", "google", "--prospect", "Ann Lee", "--on", "2026-01-03")
    group.new("--practice", "east", "client", "intake", "--name", "Ann Lee",
              "--referral", referral, "--on", "2026-01-04")
    report = group.json("group", "report", "referrals", "--format", "json")
    east = next(p for p in report["practices"] if p["practice"] == "east")
    assert (east["kpis"]["referrals"], east["kpis"]["converted"]) == (2, 1)
    total = report["total"]["kpis"]
    assert (total["referrals"], total["converted"], total["conversion_rate"]) == (3, 1, 1 / 3)


def test_the_heatmaps_of_every_practice_go_in_one_chart(group_url: str, tmp_path: Path) -> None:
    chart = tmp_path / "group.png"
    _two_practices(group_url).ok("group", "report", "retention", "--chart", str(chart))
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_a_group_with_no_practices_reports_a_zero_total(group_url: str) -> None:
    report = Practice(group_url).json("group", "report", "retention", "--format", "json")
    assert report["practices"] == []
    assert report["total"]["kpis"]["visits"] == 0


def test_on_sqlite_there_is_no_group_report(tmp_path: Path) -> None:
    run = Practice(f"sqlite:///{tmp_path / 'p.db'}", init=False).run("group", "report", "retention")
    assert run.exit_code == 2
    assert "on SQLite a practice is a file" in run.stderr


def test_a_group_rebuild_in_worker_processes_gives_the_same_reports(group_url: str) -> None:
    group = _two_practices(group_url)
    before = group.json("group", "report", "retention", "--format", "json")
    run = group.run("group", "rebuild", "--workers", "2")
    assert run.exit_code == 0, run.output
    assert "rebuilt 2 practices" in run.stderr
    assert group.json("group", "report", "retention", "--format", "json") == before
