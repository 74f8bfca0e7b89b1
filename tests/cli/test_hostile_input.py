"""Hostile input through the `practice` command, on both backends: fuzzed actions and imports
(hypothesis) never end in a traceback, succeed whole or record nothing; formula injection
reaches CSV as text; an unreachable database, a full disk and a read-only file are exit 2 with
a clear message, and nothing is written."""

from __future__ import annotations

import csv
import io
import json
import resource
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from click.testing import CliRunner
from eventsourcing.persistence import OperationalError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from practice_es.application import PracticeLedger
from practice_es.commands.main import cli
from tests.cli.helpers import BASE_ENV, Practice, Run
from tests.soak import quick_and_soak

FORMULA = ("=", "+", "-", "@", "\t", "\r")
INJECTIONS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1",
              "Ann\r=HYPERLINK(\"http://x\")", "=1+1\n=2+2"]
WRITABLE = st.characters(exclude_categories=("Cs",))  # what a file can hold (UTF-8)
TEXT = (st.text() | st.binary().map(lambda b: b.decode("utf-8", "surrogateescape"))
        | st.sampled_from(INJECTIONS) | st.builds(lambda s, n: s * n, st.text(max_size=5),
                                                   st.integers(100, 5_000)))
EXAMPLES = quick_and_soak(25, 1_000)


def fuzz(examples: int, *strategies: Any) -> Any:
    return lambda check: settings(max_examples=examples, deadline=None, suppress_health_check=[
        HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
        HealthCheck.large_base_example, HealthCheck.data_too_large])(given(*strategies)(check))


def clean_run(practice: Practice, *args: str, rule: str | None = None) -> Run:
    """An action on hostile input: a traceback would raise here (Practice.run re-raises).
    Exit 1 only when refused by `rule`."""
    before = practice.events()
    run = practice.run(*args)
    refused = rule is not None and run.exit_code == 1 and f"rule {rule}:" in run.stderr
    assert run.exit_code in (0, 2) or refused, run.output
    assert "Traceback" not in run.output and "internal error" not in run.output
    if run.exit_code == 0:
        UUID(run.stdout.strip())  # one id, the only line
        assert practice.events() > before
    else:
        assert run.stdout == "" and practice.events() == before
    return run


@pytest.mark.parametrize("examples", EXAMPLES)
def test_a_fuzzed_intake_is_recorded_whole_or_refused_cleanly(db_url: str,
                                                             examples: int) -> None:
    practice = Practice(db_url)

    @fuzz(examples, TEXT, TEXT, TEXT, TEXT, st.sampled_from(["2026-01-01", "x", "1990-02-30"]))
    def check(name: str, email: str, condition: str, referrer: str, dob: str) -> None:
        run = clean_run(practice, "client", "intake", "--name", name, "--email", email,
                        "--condition", condition, "--referrer", referrer, "--dob", dob,
                        "--source", "doctor", rule="D1")  # (the same person again)
        # A refusal never repeats a health detail (unless the detail is also part of an input
        # it may quote: the name, the e-mail, the referrer, the date).
        quotable = (name, email, referrer, dob)
        if (run.exit_code == 2 and len(condition.strip()) > 8
                and not any(condition in text for text in quotable)):
            assert condition not in run.stderr

    check()


@pytest.mark.parametrize("examples", EXAMPLES)
def test_a_fuzzed_assessment_is_recorded_whole_or_refused_cleanly(db_url: str,
                                                                 examples: int) -> None:
    practice = Practice(db_url)
    client = practice.new("client", "intake", "--name", "Ann", "--on", "2026-01-01")

    @fuzz(examples, TEXT, st.lists(TEXT, max_size=3), st.lists(TEXT, max_size=2))
    def check(findings: str, measures: list[str], contraindications: list[str]) -> None:
        args = ["client", "assess", client, "--findings", findings]
        args += [part for m in measures for part in ("--measure", m)]
        args += [part for c in contraindications for part in ("--contraindication", c)]
        clean_run(practice, *args)

    check()


def csv_cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_formula_injection_reaches_every_csv_export_as_text(db_url: str) -> None:
    practice = Practice(db_url)
    for n, name in enumerate(INJECTIONS):
        client = practice.new("client", "intake", "--name", name, "--source", "doctor",
                              "--referrer", name, "--on", f"2026-01-{n + 1:02d}")
        practice.new("visit", "complete", client, "--notes", name, "--on", f"2026-02-{n + 1:02d}")
    exports = [practice.ok("client", "list", "--format", "csv"),
               practice.ok("report", "referrals", "--format", "csv"),
               practice.ok("report", "timeline", client, "--format", "csv"),
               practice.ok("report", "retention", "--format", "csv")]
    cells = [cell for export in exports for row in csv_cells(export) for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA)]
    names = [row[1] for row in csv_cells(exports[0])[1:]]
    # As recorded: the intake trims a name's surrounding space (tab and CR included).
    assert sorted(name.removeprefix("'") for name in names) == sorted(
        name.strip() for name in INJECTIONS)


LAYOUT = ["Client ID", "First Name", "Last Name", "Date of Birth", "Email", "Mobile Phone",
          "Referral Source", "Referred By", "Health Conditions", "Contraindications",
          "Client Since"]
CELL = (st.text(WRITABLE, max_size=30) | st.sampled_from(INJECTIONS)
        | st.sampled_from(["01/02/1990", "13/45/2020", "02/30/2024", "", "Doctor Referral"])
        | st.builds(lambda s, n: s * n, st.text(WRITABLE, min_size=1, max_size=3),
                    st.integers(1_000, 20_000)))
ROWS = st.lists(st.lists(CELL, min_size=len(LAYOUT) - 1, max_size=len(LAYOUT) - 1),
                min_size=1, max_size=8)


@pytest.mark.parametrize("examples", quick_and_soak(10, 300))
def test_a_fuzzed_import_rejects_bad_rows_and_never_half_records_one(
        db_url: str, tmp_path: Path, examples: int) -> None:
    practice = Practice(db_url)
    batch = iter(range(10**6))

    @fuzz(examples, ROWS)
    def check(rows: list[list[str]]) -> None:
        n = next(batch)
        ids = [f"{'=' if i % 3 == 0 else ''}L{n}-{i}" for i in range(len(rows))]
        source = tmp_path / f"clients-{n}.csv"
        with source.open("w", newline="", encoding="utf-8") as out:
            csv.writer(out).writerows([LAYOUT, *([i, *r] for i, r in zip(ids, rows,
                                                                          strict=True))])
        rejects = tmp_path / f"rejects-{n}.csv"
        run = clean_import(practice, source, rejects)
        if run.exit_code == 2:
            return  # the file as a whole is refused (a NUL makes it binary): nothing recorded
        summary = json.loads(run.stdout)
        rejected = {r["legacy_id"].removeprefix("'") for r in csv.DictReader(
            rejects.open(newline="", encoding="utf-8"))} if summary["rejected"] else set()
        listed = {c["legacy_id"] for c in practice.json("client", "list", "--format", "json")}
        assert not rejected & listed  # a rejected row left nothing behind
        merged = summary["merged_duplicates"]
        assert len(set(ids) & listed) + len(rejected) + merged == len(rows)

    check()


def clean_import(practice: Practice, source: Path, rejects: Path) -> Run:
    before = practice.events()
    run = practice.run("migrate", "import", str(source), "--format", "generic", "--date-format",
                       "MM/DD/YYYY", "--rejects", str(rejects), "--json")
    assert run.exit_code in (0, 2), run.output
    assert "Traceback" not in run.output and "internal error" not in run.output
    if run.exit_code == 2:
        assert practice.events() == before and "invalid" in run.stderr
    if rejects.exists():
        for line in csv_cells(rejects.read_text(encoding="utf-8")):
            assert not [cell for cell in line if cell.startswith(FORMULA)]
    return run


def test_a_file_of_noise_is_exit_2_and_records_nothing(db_url: str, tmp_path: Path) -> None:
    practice = Practice(db_url)
    noise = tmp_path / "clients.csv"
    noise.write_bytes(bytes(range(256)) * 40)
    run = practice.fails(2, "migrate", "import", str(noise), "--rejects",
                         str(tmp_path / "r.csv"))
    assert "Traceback" not in run.output


def test_an_unreachable_database_is_exit_2_naming_no_details(tmp_path: Path) -> None:
    for url in ("postgresql+psycopg://nobody@127.0.0.1:1/practice",
                f"sqlite:///{tmp_path}/no/such/folder/practice.db"):
        run = Practice(url).run("client", "intake", "--name", "Ann", "--condition", "lupus")
        assert run.exit_code == 2 and "Traceback" not in run.output, run.output
        assert "lupus" not in run.output and run.stdout == ""


def test_a_full_disk_is_exit_2_and_writes_nothing(sqlite_url: str) -> None:
    """A real write failure: the process may not grow any file past one page (RLIMIT_FSIZE;
    SIGXFSZ ignored, so the write fails with EFBIG as on a full disk)."""
    practice = Practice(sqlite_url)
    practice.new("client", "intake", "--name", "Ann")
    before = practice.events()

    def one_page() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    env = {k: v for k, v in BASE_ENV.items() if v is not None} | {"PRACTICE_DB": sqlite_url}
    # -B: the limit holds for every file, and a .pyc cut short would break other runs.
    done = subprocess.run([sys.executable, "-B", "-m", "practice_es", "client", "intake", "--name",
                           "Bo", "--condition", "lupus"], env=env, preexec_fn=one_page,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2, done.stderr
    # It fails opening the database or writing the event: either way, the driver's words.
    assert "disk I/O error" in done.stderr and "lupus" not in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert practice.events() == before


def test_a_store_failure_while_saving_is_exit_2_on_either_backend(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    practice = Practice(db_url)
    client = practice.new("client", "intake", "--name", "Ann")

    def disk_full(*_: Any, **__: Any) -> Any:
        raise OperationalError('could not extend file "base/1/2": No space left on device')

    monkeypatch.setattr(PracticeLedger, "save", disk_full)
    run = practice.fails(2, "client", "assess", client, "--findings", "lupus flare")
    assert "is the disk full?" in run.stderr and "lupus" not in run.stderr


def test_a_read_only_ledger_is_exit_2_and_unchanged(sqlite_url: str) -> None:
    practice = Practice(sqlite_url)
    practice.new("client", "intake", "--name", "Ann")
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    path.chmod(0o400)
    try:
        result = CliRunner().invoke(cli, ["client", "intake", "--name", "Bo"],
                                    env={**BASE_ENV, "PRACTICE_DB": sqlite_url})
        if result.exit_code == 0:
            pytest.skip("running as a user who can write a read-only file (root)")
        assert result.exit_code == 2 and "Traceback" not in result.output
    finally:
        path.chmod(0o600)
