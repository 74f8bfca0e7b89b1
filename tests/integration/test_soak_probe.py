"""The adversarial probe of issue 14, bounded: N processes × M actions racing lapse sweeps on
one ledger, then every exit code counted and every printed id compared with the events
stored; and a disk filled up under the actions. (The kills during imports and rebuilds are
tests/integration/test_crashes.py, with many more seeds under `make soak`.) Quick in
`make test`; `make soak` runs the long version and prints its figures."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from practice_es.application import PracticeLedger
from practice_es.infrastructure.settings import Settings
from tests.integration.checks import check_chain, check_resume_equals_rebuild
from tests.soak import quick_and_soak
from tests.tmpfs import mounted_tmpfs, take_all_but

SIZES = quick_and_soak({"processes": 2, "actions": 8, "clients": 12},
                       {"processes": 4, "actions": 60, "clients": 80})
FIRST = datetime(2025, 1, 2, 9, tzinfo=UTC)

# One desk: M actions through the real CLI (its error boundary included), one JSON line each.
DESK = r"""
import json, random, sys
from click.testing import CliRunner
from practice_es.commands.main import cli

db_url, seed, actions, clients = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
rng = random.Random(seed)
env = {"PRACTICE_DB": db_url, "PRACTICE_TZ": "UTC", "PRACTICE_ACTOR": f"desk{seed}",
       "PRACTICE_CATCH_UP": "inline"}
for n in range(actions):
    kind = rng.choice(["intake", "visit", "visit", "recall", "sweep"])
    day = f"2025-{rng.randint(2, 11):02d}-{rng.randint(1, 28):02d}"
    client = rng.choice(clients)
    args = {"intake": ["client", "intake", "--name", f"Desk {seed} {n}", "--on", day],
            "visit": ["visit", "complete", client, "--on", day + "T10:00"],
            "recall": ["client", "recall", client, "--channel", "phone", "--on", day],
            "sweep": ["client", "lapse-sweep", "--as-of", "2025-12-01", "--json"]}[kind]
    result = CliRunner().invoke(cli, args, env=env)
    print(json.dumps({"kind": kind, "exit": result.exit_code, "out": result.stdout}), flush=True)
"""


def _say(capsys: pytest.CaptureFixture[str], text: str) -> None:
    with capsys.disabled():
        print(f"\n{text}")


def _clients(db_url: str, count: int) -> list[str]:
    ledger = PracticeLedger(Settings(db_url=db_url, actor="setup"))
    try:
        return [str(ledger.record_intake(name=f"Client {n}", on=FIRST)) for n in range(count)]
    finally:
        ledger.close()


@pytest.mark.parametrize("sizes", SIZES)
def test_desks_racing_lapse_sweeps_record_exactly_what_they_print(
        db_url: str, sizes: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    clients = _clients(db_url, sizes["clients"])
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PRACTICE_")}}
    desks = [subprocess.Popen([sys.executable, "-c", DESK, db_url, str(seed),
                               str(sizes["actions"]), *clients], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for seed in range(sizes["processes"])]
    results: list[dict[str, Any]] = []
    for desk in desks:
        out, err = desk.communicate(timeout=1800)
        assert desk.returncode == 0, err
        results += [json.loads(line) for line in out.splitlines()]

    codes = Counter((r["kind"], r["exit"]) for r in results)
    assert {r["exit"] for r in results} <= {0, 1, 2, 3}, codes
    done = Counter(r["kind"] for r in results if r["exit"] == 0)
    lapsed = [i for r in results if r["kind"] == "sweep" and r["exit"] == 0
              for i in json.loads(r["out"])["lapsed"]]
    check_chain(db_url)
    log = check_resume_equals_rebuild(db_url)
    named = Counter(type(e).__name__ for e in log)
    assert named["IntakeRecorded"] == sizes["clients"] + done["intake"]
    assert named["VisitCompleted"] == done["visit"]
    assert named["RecallSent"] == done["recall"]
    assert sorted(str(e.originator_id) for e in log if type(e).__name__ == "Lapsed") == sorted(
        lapsed)
    _say(capsys, f"soak race ({db_url.split(':')[0]}): {len(results)} actions by "
         f"{sizes['processes']} processes; exit codes {dict(sorted(codes.items()))}; "
         f"{len(log)} events counted; intakes, visits, recalls and {len(lapsed)} lapses printed "
         "= events stored; chain verified; caught-up read models = rebuilt ones")


@pytest.mark.parametrize("actions", quick_and_soak(40, 400))
def test_a_disk_filling_up_under_the_actions_loses_and_breaks_nothing(
        tmp_path: Path, actions: int, capsys: pytest.CaptureFixture[str]) -> None:
    with mounted_tmpfs(tmp_path / "disk", "2m") as folder:
        _fill_under_actions(folder, actions, capsys)


def _fill_under_actions(folder: Path, actions: int,
                        capsys: pytest.CaptureFixture[str]) -> None:
    from tests.cli.helpers import Practice

    url = f"sqlite:///{folder / 'practice.db'}"
    practice = Practice(url)
    client = practice.new("client", "intake", "--name", "Ann Lee", "--on", "2025-01-02")
    filler = folder / "filler"
    rng, codes, recorded = random.Random(7), Counter[int](), 1
    for n in range(actions):
        if n == actions // 4:  # a quarter of the way: all but a little of the disk taken
            take_all_but(filler, rng.randint(8, 96) * 1024)
        run = practice.run("visit", "complete", client, "--notes", "x" * rng.randint(10, 4000),
                           "--on", f"2025-03-{1 + n % 28:02d}T10:00")
        codes[run.exit_code] += 1
        recorded += run.exit_code == 0
        assert run.exit_code in (0, 2), run.output
        assert "internal error" not in run.stderr
    filler.unlink()
    check_chain(url)
    log = check_resume_equals_rebuild(url)
    assert len(log) == recorded  # an intake, then one event a visit
    assert sum(type(e).__name__ == "VisitCompleted" for e in log) == recorded - 1
    _say(capsys, f"soak full disk: {actions} visits on a 2 MB tmpfs filled a quarter of the "
         f"way; exit codes {dict(codes)}; {len(log)} events counted = {recorded} actions "
         "recorded; chain verified; caught-up read models = rebuilt ones")

