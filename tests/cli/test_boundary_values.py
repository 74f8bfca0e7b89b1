"""Exit 70 is a bug of ours, never an answer to input: every command is fed the edges of the
calendar and of numbers, on a ledger that already stores a visit in year 9999 (accepted before
T1 existed, or imported), and answers with exit 0, 1, 2 or 3 (issue 14, item 4)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from practice_es.application import PracticeLedger
from practice_es.infrastructure.settings import Settings
from tests.cli.helpers import Practice

DAYS = ["9999-12-31", "0001-01-01", "1899-12-31"]
MOMENTS = ["9999-12-31T23:59", "0001-01-01T00:00"]
NUMBERS = ["99999999", "-1", "0", "1e308", "nan"]

COMMANDS = [
    *[("client", "intake", "--name", "Edge", "--on", t) for t in MOMENTS + DAYS],
    *[("client", "intake", "--name", "Edge", "--dob", d) for d in DAYS],
    *[("client", "lapse-sweep", "--as-of", d) for d in DAYS],
    *[("client", "lapse-sweep", "--as-of", "2025-06-01", "--after-days", n) for n in NUMBERS],
    *[("client", "recall", "{C}", "--channel", "phone", "--on", t) for t in MOMENTS],
    *[("client", "assess", "{C}", "--findings", "f", "--measure", f"pain={n}") for n in NUMBERS],
    *[("program", "recommend", "{C}", "--phase", "relief", "--visits", n, "--per-week", n,
       "--goal", "g", "--rationale", "r") for n in NUMBERS],
    *[("program", "recommend", "{C}", "--phase", "relief", "--visits", "6", "--per-week", "2",
       "--goal", "g", "--rationale", "r", "--on", t) for t in MOMENTS],
    *[("visit", "schedule", "{C}", "--at", t) for t in MOMENTS],
    *[("visit", "complete", "{C}", "--on", t) for t in MOMENTS],
    *[("visit", "complete", "{C}", "--measure", f"pain={n}") for n in NUMBERS],
    *[("referral", "receive", "--source", "doctor", "--referrer", "dr k", "--prospect", "P",
       "--on", t) for t in MOMENTS],
    *[("referral", "make", "{C}", "--to", "dr k", "--reason", "r", "--on", t) for t in MOMENTS],
    *[("report", "retention", "--from", d, "--to", d) for d in DAYS],
    *[("report", "retention", "--to", d) for d in DAYS],
    *[("report", "retention", "--format", f) for f in ("json", "csv")],
    *[("report", "referrals", "--from", d, "--to", d) for d in DAYS],
    *[("report", "recalls", "--as-of", d) for d in DAYS],
    *[("report", "timeline", "{C}", "--as-of", d) for d in DAYS],
    *[("report", name, "--known-at", t) for name in ("retention", "referrals") for t in MOMENTS],
    *[("audit", "history", "{C}", "--as-of", t) for t in MOMENTS],
    ("audit", "verify"), ("client", "list"), ("client", "show", "{C}"),
    ("projections", "rebuild"), ("projections", "status"),
]


@pytest.fixture(scope="module")
def stored_edges(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A ledger holding a client with a visit completed on 9999-12-31, stored directly."""
    url = f"sqlite:///{tmp_path_factory.mktemp('edges') / 'practice.db'}"
    # (its clock at the end of time: T1 lets it record the visit of 9999-12-31)
    ledger = PracticeLedger(Settings(db_url=url, actor="edge"),
                            clock=lambda: datetime(9999, 12, 31, 23, 59, tzinfo=UTC))
    try:
        client = ledger.record_intake(name="Ann Lee", on=datetime(2025, 1, 2, tzinfo=UTC))
        ledger.complete_visit(client, on=datetime(9999, 12, 31, 10, tzinfo=UTC))
    finally:
        ledger.close()
    return url, str(client)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_no_input_makes_a_command_fail_as_a_bug(stored_edges: tuple[str, str],
                                               tmp_path: Path, command: tuple[str, ...]) -> None:
    url, client = stored_edges
    args = [arg.replace("{C}", client) for arg in command]

    run = Practice(url).run(*args)

    assert run.exit_code in (0, 1, 2, 3), run.output
    assert "internal error" not in run.stderr and "Traceback" not in run.output
