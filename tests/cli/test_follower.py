"""After an action the read models are caught up by a detached follower process (ADR 14).

These run the real `practice` script and the real follower, on SQLite and PostgreSQL: a report
right after an action shows it; the read models reach the log's head on their own; a burst of
actions keeps at most two followers and leaves read models equal to a rebuild; a follower
killed -9 leaves them behind, never wrong; `inline` catches up before the action exits.
Waits poll with a generous deadline: they check that something happens, not how fast.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import UUID

import pytest

from practice_es.application import PracticeLedger
from practice_es.infrastructure.settings import Settings
from practice_es.projections import follow
from practice_es.projections.registry import all_projections
from practice_es.projections.runner import ProjectionRunner
from tests.cli.helpers import Practice, Run, ensure_ledger
from tests.integration.checks import check_resume_equals_rebuild

PRACTICE = str(Path(sys.executable).with_name("practice"))
DEADLINE_S = 60.0  # for something that should happen within a second or two


@pytest.fixture(scope="module")
def pycache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Bytecode kept between processes (this environment sets PYTHONDONTWRITEBYTECODE)."""
    return tmp_path_factory.mktemp("pycache")


class Shell:
    """`practice` as a user's shell runs it, with its own private lock directory."""

    def __init__(self, db_url: str, tmp_path: Path, pycache: Path) -> None:
        self.db_url = db_url
        ensure_ledger(db_url)  # as `practice init` does: actions create none (SPEC §9)
        self.runtime = tmp_path / "run"
        self.runtime.mkdir(mode=0o700)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("PRACTICE_") and k != "PYTHONDONTWRITEBYTECODE"}
        self.env.update({"PRACTICE_DB": db_url, "PRACTICE_TZ": "UTC",
                         "PRACTICE_ACTOR": "front-desk", "PRACTICE_CATCH_UP": "background",
                         "XDG_RUNTIME_DIR": str(self.runtime),
                         "PYTHONPYCACHEPREFIX": str(pycache)})

    def start(self, *args: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen([PRACTICE, *args], env={**self.env, **env}, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def run(self, *args: str, **env: str) -> Run:
        process = self.start(*args, **env)
        out, err = process.communicate(timeout=DEADLINE_S)
        return Run(process.returncode, out, err)

    def new(self, *args: str, **env: str) -> str:
        run = self.run(*args, **env)
        assert run.exit_code == 0, run.output
        return str(UUID(run.stdout.strip()))

    def follower(self) -> subprocess.Popen[bytes]:
        """A follower started by hand, as an action starts one."""
        return subprocess.Popen([sys.executable, "-m", "practice_es.projections.follow"],
                                env=self.env, start_new_session=True)

    def followers(self) -> dict[int, bytes]:
        """The followers of this shell alive now, with their command lines (a zombie has
        none)."""
        found = {}
        for proc in Path("/proc").iterdir():
            try:
                command = (proc / "cmdline").read_bytes().split(b"\0")
                if b"practice_es.projections.follow" not in command:
                    continue
                environ = (proc / "environ").read_bytes().split(b"\0")
            except OSError:  # gone meanwhile, or not ours
                continue
            if f"XDG_RUNTIME_DIR={self.runtime}".encode() in environ:
                found[int(proc.name)] = b" ".join(command)
        return found

    def running(self) -> bool:
        """Whether a follower holds the "running" lock now."""
        fd = follow.take(follow.lock_dir() / f"{follow.ledger_key(self.db_url)}.running",
                         wait=False)
        if fd is None:
            return True
        follow.release(fd)
        return False


@pytest.fixture
def shell(db_url: str, tmp_path: Path, pycache: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[Shell]:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    found = Shell(db_url, tmp_path, pycache)
    yield found
    wait_until(lambda: not found.followers())  # none left behind (nor racing the cleanup)


def wait_until(done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not done():
        assert time.monotonic() < deadline, "did not happen within the deadline"
        time.sleep(0.02)


@contextmanager
def opened_runner(db_url: str) -> Iterator[ProjectionRunner]:
    ledger = PracticeLedger(Settings(db_url=db_url, actor="reader"))
    runner = ProjectionRunner(ledger, all_projections())
    try:
        yield runner
    finally:
        runner.close()
        ledger.close()


def behind(db_url: str) -> int:
    """How far the read models are behind the log's head (no catch-up)."""
    with opened_runner(db_url) as runner:
        return max(s.behind for s in runner.status())


def test_a_report_right_after_an_action_shows_it(shell: Shell) -> None:
    client = shell.new("client", "intake", "--name", "Ann Lee")
    shell.new("client", "update", client, "--name", "Ann Lee-Hart")

    listed = shell.run("client", "list", "--search", "hart", "--format", "json")

    assert listed.exit_code == 0, listed.output
    assert client in listed.stdout and "Ann Lee-Hart" in listed.stdout


def test_the_read_models_reach_the_head_on_their_own_after_an_action(shell: Shell) -> None:
    client = shell.new("client", "intake", "--name", "Ann Lee", "--on", "2026-03-02")
    shell.new("visit", "complete", client, "--on", "2026-03-06T09:30")

    wait_until(lambda: behind(shell.db_url) == 0)
    wait_until(lambda: not shell.followers())
    check_resume_equals_rebuild(shell.db_url)


def test_a_burst_of_actions_keeps_at_most_two_followers_and_equals_a_rebuild(
        shell: Shell) -> None:
    assert shell.run("init").exit_code == 0  # the store's tables, before actions race
    seen: list[dict[int, bytes]] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.append(shell.followers())
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for wave in range(3):  # a script's actions, four at a time
            started = [shell.start("client", "intake", "--name", f"Client {wave}-{n}")
                       for n in range(4)]
            for process in started:
                _, err = process.communicate(timeout=DEADLINE_S)
                assert process.returncode == 0, err
        wait_until(lambda: not shell.followers())
    finally:
        done.set()
        watcher.join()

    assert 1 <= max(len(alive) for alive in seen) <= 2
    commands = {command for alive in seen for command in alive.values()}
    assert not any(shell.db_url.encode() in command for command in commands)  # not in `ps`
    assert behind(shell.db_url) == 0
    check_resume_equals_rebuild(shell.db_url)


def _record_without_catching_up(db_url: str, clients: int) -> None:
    ledger = PracticeLedger(Settings(db_url=db_url, actor="front-desk"))
    try:
        for n in range(clients):
            client = ledger.record_intake(name=f"Client {n}")
            ledger.complete_visit(client)
    finally:
        ledger.close()


def _kill(process: subprocess.Popen[bytes], after: float) -> None:
    time.sleep(after)
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_a_follower_killed_mid_catch_up_leaves_read_models_behind_never_wrong(
        shell: Shell) -> None:
    rng = random.Random(14)
    _record_without_catching_up(shell.db_url, 40)
    with opened_runner(shell.db_url) as runner:
        runner.ensure()
        with runner.transaction():  # the follower cannot write a page while we hold this
            stuck = shell.follower()
            wait_until(lambda: shell.running() or stuck.poll() is not None)
            _kill(stuck, rng.uniform(0.0, 1.0))
    assert behind(shell.db_url) > 0  # behind: nothing of the killed catch-up was kept

    for _ in range(2):  # killed wherever it happens to be: importing, reading, writing
        _record_without_catching_up(shell.db_url, 20)
        _kill(shell.follower(), rng.uniform(0.0, 1.5))
        assert not shell.running()  # its locks died with it

    shell.new("client", "intake", "--name", "After The Kills")  # its follower catches up
    wait_until(lambda: behind(shell.db_url) == 0)
    check_resume_equals_rebuild(shell.db_url)


def test_inline_catches_up_before_the_action_exits_and_starts_no_follower(
        shell: Shell) -> None:
    shell.new("client", "intake", "--name", "Ann Lee", PRACTICE_CATCH_UP="inline")

    assert behind(shell.db_url) == 0
    assert not (shell.runtime / "practice-es").exists()  # no lock was ever taken


def test_a_follower_s_failure_is_kept_for_projections_status(shell: Shell) -> None:
    client = shell.new("client", "intake", "--name", "Ann Lee")
    wait_until(lambda: not shell.followers())
    failing = subprocess.run([sys.executable, "-m", "practice_es.projections.follow"],
                             env={**shell.env, "PRACTICE_CIPHER_KEY": "not a key"},
                             check=False, capture_output=True)
    assert failing.returncode == 0 and failing.stderr == b""  # detached: nothing to say

    status = shell.run("projections", "status")

    assert status.exit_code == 0
    assert "warning: the last background catch-up failed" in status.stderr
    assert "PRACTICE_CIPHER_KEY" in status.stderr  # what failed, in one line
    shell.new("client", "update", client, "--phone", "555")  # the next one succeeds
    wait_until(lambda: not shell.followers())
    assert "failed" not in shell.run("projections", "status").stderr


def test_an_action_that_cannot_start_a_follower_catches_up_itself(
        sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))

    def no_fork(*args: object, **kwargs: object) -> None:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(subprocess, "Popen", no_fork)
    Practice(sqlite_url, env={"PRACTICE_CATCH_UP": "background"}).new(
        "client", "intake", "--name", "Ann Lee")

    assert behind(sqlite_url) == 0


def test_an_unknown_catch_up_mode_is_refused_naming_the_setting(sqlite_url: str) -> None:
    run = Practice(sqlite_url, env={"PRACTICE_CATCH_UP": "later"}).fails(
        2, "client", "intake", "--name", "Ann Lee")

    assert "invalid PRACTICE_CATCH_UP: 'later' is not one of background, inline" in run.stderr


def test_practice_help_documents_the_setting(sqlite_url: str) -> None:
    shown = Practice(sqlite_url).ok("--help")

    assert "PRACTICE_CATCH_UP" in shown and "background" in shown and "inline" in shown
