"""`practice migrate import` as a user runs it, including a real process killed mid-import."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.bench_import import write_generic_export
from tests.cli.helpers import Practice
from tests.conftest import count_events, opened
from tests.integration.migration_support import LEGACY, stored_events


def test_import_prints_the_summary_and_rejected_rows_do_not_fail_it(
        db_url: str, tmp_path: Path) -> None:
    practice = Practice(db_url)
    rejects = tmp_path / "rejects.csv"

    run = practice.run("migrate", "import", str(LEGACY / "generic"), "--rejects", str(rejects),
                       "--json")

    assert run.exit_code == 0, run.output
    summary = json.loads(run.stdout)
    assert {"rows", "imported", "already_present", "rejected", "merged_duplicates", "clients",
            "visits", "skipped", "merges"} <= set(summary)
    assert (summary["clients"], summary["visits"], summary["rejected"]) == (30, 139, 4)
    assert "merged: clients.csv row 32 (C9000) into C1003" in run.stderr
    assert len(rejects.read_text(encoding="utf-8").splitlines()) == 1 + 4


def test_a_migrated_client_keeps_its_legacy_id_and_is_found_by_it(
        db_url: str, tmp_path: Path) -> None:
    practice = Practice(db_url)
    practice.run("migrate", "import", str(LEGACY / "generic" / "clients.csv"),
                 str(LEGACY / "generic" / "appointments.csv"), "--rejects",
                 str(tmp_path / "r.csv"))

    found = json.loads(practice.run("client", "list", "--search", "c1003", "--format",
                                    "json").stdout)

    assert [(c["name"], c["legacy_id"]) for c in found] == [("Lars Smith", "C1003")]


def test_a_rerun_and_a_dry_run_record_nothing(db_url: str, tmp_path: Path) -> None:
    practice = Practice(db_url)
    args = ("migrate", "import", str(LEGACY / "cliniko"), "--format", "cliniko",
            "--rejects", str(tmp_path / "r.csv"), "--json")
    dry = json.loads(practice.run(*args, "--dry-run").stdout)
    assert count_events(db_url) == 0
    first = json.loads(practice.run(*args).stdout)
    events = count_events(db_url)

    again = json.loads(practice.run(*args).stdout)

    assert count_events(db_url) == events == first["events"] == dry["events"]
    assert (again["imported"], again["already_present"]) == (0, first["imported"])


def test_an_unreadable_file_exits_2_saying_which_and_records_nothing(
        db_url: str, tmp_path: Path) -> None:
    (tmp_path / "clients.csv").write_bytes(b"\x00\x01\x02 not text \x81\x8d\x8f")
    run = Practice(db_url).run("migrate", "import", str(tmp_path / "clients.csv"))

    assert run.exit_code == 2
    assert "clients.csv" in run.stderr and "neither UTF-8 nor Windows-1252" in run.stderr
    assert "Traceback" not in run.output
    assert count_events(db_url) == 0


@pytest.mark.parametrize("args", [("--format", "nosuch"),
                                  ("--format", "generic", "--mapping", "x.toml")])
def test_a_wrong_layout_is_bad_usage(tmp_path: Path, args: tuple[str, ...]) -> None:
    run = Practice(f"sqlite:///{tmp_path / 'p.db'}").run(
        "migrate", "import", str(LEGACY / "generic"), *args)
    assert run.exit_code == 2
    assert "Traceback" not in run.output


# -- killed mid-import -----------------------------------------------------------------------

BATCH = "300"


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    write_generic_export(folder, clients=400, appointments=8000, seed=7)
    return folder


def _command(db_url: str, export: Path, rejects: Path) -> list[str]:
    return [sys.executable, "-m", "practice_es", "--db", db_url, "migrate", "import",
            str(export), "--rejects", str(rejects), "--batch-size", BATCH]


def _env() -> dict[str, str]:
    return {**os.environ, "PRACTICE_TZ": "UTC", "PRACTICE_ACTOR": "migration-test"}


@pytest.fixture(scope="module")
def clean(export: Path, tmp_path_factory: pytest.TempPathFactory) -> list[object]:
    """The events of one uninterrupted run (on SQLite: decoded events compare across
    backends)."""
    folder = tmp_path_factory.mktemp("clean")
    url = f"sqlite:///{folder / 'clean.db'}"
    subprocess.run(_command(url, export, folder / "r.csv"), env=_env(), check=True,
                   capture_output=True)
    return list(stored_events(url))


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_an_import_killed_at_a_random_moment_then_run_again_equals_a_clean_run(
        db_url: str, tmp_path: Path, export: Path, clean: list[object], seed: int) -> None:
    chance = random.Random(seed)
    process = subprocess.Popen(_command(db_url, export, tmp_path / "r.csv"), env=_env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Killed before 60 % of the events: several batches are still to come, so even a quiet,
    # fast machine cannot finish the import between the look and the kill.
    _kill_once_past(process, db_url, chance.uniform(0.1, 0.6) * len(clean), chance)
    partial = count_events(db_url)

    subprocess.run(_command(db_url, export, tmp_path / "r.csv"), env=_env(), check=True,
                   capture_output=True)

    assert 0 < partial < len(clean)  # it died half-way through
    assert set(stored_events(db_url)) == set(clean)  # type: ignore[arg-type]


def _kill_once_past(process: subprocess.Popen[bytes], db_url: str, events: float,
                    chance: random.Random) -> None:
    """SIGKILL once the store holds `events`, a random moment later (inside a batch)."""
    with opened(db_url) as ledger:  # a quick look at the log (counting would miss the moment)
        while process.poll() is None and (ledger.recorder.max_notification_id() or 0) < events:
            time.sleep(0.005)
    time.sleep(chance.uniform(0, 0.02))
    process.send_signal(signal.SIGKILL)
    process.wait()
