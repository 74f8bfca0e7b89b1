"""Running `practice` as a user would: in-process with click's CliRunner (fast), or as a real
process (to see exactly what reaches a terminal), and counting the events stored."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from click.testing import CliRunner, Result

from practice_es.commands.main import cli
from tests.conftest import count_events

# Commands that make their ledger themselves (or need none); any other first command of a test
# gets one made first, as `practice init` would (SPEC §9: other commands never create one).
CREATORS = {"init", "demo", "migrate", "key", "restore", "--help", "--version"}

BASE_ENV = {"PRACTICE_ACTOR": "front-desk", "PRACTICE_TZ": "UTC", "PRACTICE_DEBUG": None,
            "PRACTICE_CIPHER_KEY": None, "PRACTICE_CATCH_UP": "inline"}


@dataclass(frozen=True)
class Run:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Practice:
    """The `practice` command bound to one ledger (its `--db`)."""

    def __init__(self, db_url: str, zone: str = "UTC", key: str | None = None,
                 env: dict[str, str | None] | None = None, init: bool = True) -> None:
        self.db_url = db_url
        self.init = init  # make the ledger (as `practice init`) before the first command
        self.zone = zone  # PRACTICE_TZ: the practice's local time
        self.key = key  # PRACTICE_CIPHER_KEY, for a ledger encrypted at rest
        self.env = env or {}  # any other setting (PRACTICE_CATCH_UP…)

    def run(self, *args: str) -> Run:
        env = {**BASE_ENV, "PRACTICE_DB": self.db_url, "PRACTICE_TZ": self.zone,
               "PRACTICE_CIPHER_KEY": self.key, **self.env}
        if self.init and args and args[0] not in CREATORS:
            ensure_ledger(self.db_url, self.key)
            self.init = False
        result: Result = CliRunner().invoke(cli, list(args), env=env, prog_name="practice")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception  # a bug of ours escaped the error boundary
        return Run(result.exit_code, result.stdout, result.stderr)

    def ok(self, *args: str) -> str:
        """Run an action that must succeed; returns its stdout without the final newline."""
        run = self.run(*args)
        assert run.exit_code == 0, run.output
        return run.stdout.rstrip("\n")

    def new(self, *args: str) -> str:
        """Run an action that prints the id of what it made, as the only line on stdout."""
        out = self.ok(*args)
        assert "\n" not in out, out
        return str(UUID(out))

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args))

    def events(self) -> int:
        return count_events(self.db_url, self.key)

    def fails(self, code: int, *args: str) -> Run:
        """Run an action that must fail with `code` and leave the store exactly as it was."""
        before = self.events()
        run = self.run(*args)
        assert run.exit_code == code, run.output
        assert run.stdout == "", run.stdout  # nothing a script could take for an id
        assert "Traceback" not in run.output
        assert self.events() == before
        return run

    def refused(self, rule: str, *args: str) -> Run:
        """Exit 1, the rule named, nothing recorded."""
        run = self.fails(1, *args)
        assert f"rule {rule}" in run.stderr, run.stderr
        return run


def accepted_program(p: Practice, client: str, on: str, visits: int = 4,
                     per_week: float = 2) -> str:
    """Recommend a relief program to the client (assessed already) and accept it."""
    plan = p.new("program", "recommend", client, "--phase", "relief", "--visits", str(visits),
                 "--per-week", f"{per_week:g}", "--goal", "sleep", "--rationale", "acute",
                 "--on", on)
    p.ok("program", "accept", plan[:8], "--on", on)
    return plan


def ensure_ledger(db_url: str, key: str | None = None) -> None:
    """Make the ledger if there is none yet (what `practice init` does); a database that
    cannot be reached is left for the command to report."""
    from practice_es.application import PracticeLedger
    from practice_es.domain.errors import InvalidInput
    from practice_es.infrastructure.settings import Settings

    with contextlib.suppress(InvalidInput):
        PracticeLedger(Settings(db_url=db_url, actor="init", cipher_key=key)).close()


def run_process(*args: str, db_url: str | None = None, timeout: float = 60) -> Run:
    """`python -m practice_es ARGS` in a new process, as from a shell."""
    if db_url is not None and args and args[0] not in CREATORS:
        ensure_ledger(db_url, os.environ.get("PRACTICE_CIPHER_KEY"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRACTICE_")}
    env.update({k: v for k, v in BASE_ENV.items() if v is not None})
    if db_url is not None:
        env["PRACTICE_DB"] = db_url
    done = subprocess.run([sys.executable, "-m", "practice_es", *args], env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    return Run(done.returncode, done.stdout, done.stderr)
