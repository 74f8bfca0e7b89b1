"""The read models' catch-up in a process of its own, detached from the action (ADR 14).

    PRACTICE_DB=URL python -m practice_es.projections.follow

An action records its events, starts a follower (`hand_off`) and exits; the follower catches
every read model up to the log's head. The URL comes through the environment, never argv
(a PostgreSQL URL may hold a password, and argv is world-readable in `ps`).

Followers of one ledger are bounded by two lock files (`flock`): at most one catching up
("running") and one waiting for it ("waiting"), however many actions a script runs. Whoever
finds "waiting" taken has nothing to start: the follower holding it has not read the log's
head yet (it reads it only once it runs), so it will apply the events just committed. The
action takes "waiting" itself and hands the lock to the follower it starts, so a burst of
actions starts no process at all while one waits.

Only the standard library is imported until the locks are settled: the action's process pays
for a spawn, never for SQLAlchemy.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import stat
import time
from pathlib import Path

from practice_es.infrastructure.settings import DEFAULT_DB

LOCK_FD = "PRACTICE_FOLLOW_LOCK_FD"  # the "waiting" lock a follower inherits from its action
MODULE = "practice_es.projections.follow"  # not __name__, which is __main__ in a follower


def lock_dir() -> Path:
    """A directory only this user can use: lock files elsewhere could be held by anyone."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        folder = Path(runtime) / "practice-es"
    else:
        import tempfile

        folder = Path(tempfile.gettempdir()) / f"practice-es-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    found = os.lstat(folder)  # not a symbolic link to somewhere else
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid() \
            or found.st_mode & 0o077:
        raise PermissionError(f"{folder} is not a private directory of this user")
    return folder


def ledger_key(url: str) -> str:
    """The ledger a URL names, as a file name. A relative SQLite path names a different file
    in each working directory, so it is made absolute first."""
    prefix = "sqlite:///"
    if url.startswith(prefix):
        url = prefix + os.path.abspath(url[len(prefix):])
    return hashlib.sha256(url.encode()).hexdigest()[:24]


def _lock_path(url: str, role: str) -> Path:
    return lock_dir() / f"{ledger_key(url)}.{role}"


def take(path: Path, wait: bool) -> int | None:
    """An open descriptor holding the lock on `path`, or None if another holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


def release(fd: int) -> None:
    # Unlocked explicitly: a copy of the descriptor (the action's, until it exits) would
    # otherwise keep the lock held.
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def hand_off(url: str) -> bool:
    """From an action's process, once its events are committed: leave the catch-up to a
    follower. False if none could be started (the caller then catches up itself)."""
    try:
        waiting = take(_lock_path(url, "waiting"), wait=False)
    except OSError:
        return False
    if waiting is None:
        return True  # a follower is waiting, and will read the head after our commit
    try:
        _spawn(url, waiting)
    except Exception:  # whatever stopped the spawn (no fork, no memory): catch up here
        release(waiting)
        return False
    os.close(waiting)  # the follower's copy holds the lock now
    return True


def _spawn(url: str, waiting: int) -> None:
    from subprocess import DEVNULL

    from practice_es.infrastructure.processes import start_python

    env = {**os.environ, "PRACTICE_DB": url, LOCK_FD: str(waiting)}
    start_python(MODULE, env=env, detached=True, stderr=DEVNULL, pass_fds=(waiting,))


def _waiting(url: str) -> int | None:
    inherited = os.environ.pop(LOCK_FD, None)
    if inherited is not None:
        return int(inherited)
    return take(_lock_path(url, "waiting"), wait=False)


def follow(url: str) -> None:
    """Take our turn, then catch every read model up to the log's head. The "running" lock
    is kept until this process exits (see `main`): call it in a process of its own."""
    waiting = _waiting(url)
    if waiting is None:
        return
    take(_lock_path(url, "running"), wait=True)
    release(waiting)  # from here a new action must start another follower
    try:
        _catch_up(url)
    except Exception as error:
        _failed(url, error)
    else:
        _failure_path(url).unlink(missing_ok=True)


def _catch_up(url: str) -> None:
    from practice_es.application import PracticeLedger
    from practice_es.infrastructure.settings import Settings
    from practice_es.projections.registry import all_projections
    from practice_es.projections.runner import ProjectionRunner

    ledger = PracticeLedger(Settings.from_env(db_url=url))
    try:
        runner = ProjectionRunner(ledger, all_projections())
        try:
            runner.catch_up()
        finally:
            runner.close()
    finally:
        ledger.close()


def _failure_path(url: str) -> Path:
    return _lock_path(url, "failed")


def _failed(url: str, error: Exception) -> None:
    """Nobody sees a detached process's stderr: the failure is kept for `projections status`
    (the read models stay behind, never wrong, and the next report or action catches up).
    The driver's own words, never SQLAlchemy's message, which quotes statement and values."""
    cause = getattr(error, "orig", None) or error
    words = (str(cause).strip().splitlines() or [""])[0][:200]
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    _failure_path(url).write_text(f"{stamp} {type(error).__name__}: {words}\n")


def last_failure(url: str) -> str | None:
    """The last follower's failure on this ledger, if the last one failed."""
    try:
        return _failure_path(url).read_text().strip() or None
    except OSError:
        return None


def main() -> None:
    follow(os.environ.get("PRACTICE_DB") or DEFAULT_DB)
    # The "running" lock goes with the process, at once (no interpreter teardown): a follower
    # that is done never lingers beside the next two, so there are at most two at any time.
    # Everything it opened is closed already, and nothing is printed.
    os._exit(0)


if __name__ == "__main__":
    main()
