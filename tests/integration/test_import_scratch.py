"""An import's scratch data (the notes joined to visits) is health data: it stays beside the
ledger, owner-only, sealed under a key only the importing process holds, and a file a killed
import left is removed by the next run (issue 14, item 2)."""

from __future__ import annotations

import fcntl
import os
import stat
import subprocess
import sys
from pathlib import Path

from practice_es.migration.details import SCRATCH_PREFIX, Detail, DetailIndex, remove_leftovers
from tests.integration.migration_support import LEGACY

NOTE = "Focus on lumbar paraspinals"

# Imports the OpenEMR fixture and dies (SIGKILL) once the notes are indexed.
KILLED_IMPORT = r"""
import os, signal, sys
from pathlib import Path
from practice_es.migration import importer
from practice_es.commands.main import cli

importer.Importer._record_intakes = lambda self: os.kill(os.getpid(), signal.SIGKILL)
cli(["--db", sys.argv[1], "migrate", "import", sys.argv[2], "--format", "openemr",
     "--rejects", sys.argv[3]])
"""


def _scratch_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"{SCRATCH_PREFIX}*"))


def test_the_scratch_file_is_beside_the_ledger_owner_only_and_sealed(tmp_path: Path) -> None:
    index = DetailIndex(tmp_path)
    index.add("visit-1", 2, Detail(f"{NOTE}; herpes", {"pain": 8.0}))
    index.unused()  # flushed to the file
    try:
        [path] = _scratch_files(tmp_path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        data = path.read_bytes()
        assert b"herpes" not in data and b"lumbar" not in data and b"pain" not in data
        assert index.take("visit-1") == [Detail(f"{NOTE}; herpes", {"pain": 8.0})]
    finally:
        index.close()
    assert _scratch_files(tmp_path) == []


def test_a_leftover_is_removed_but_a_running_imports_file_is_kept(tmp_path: Path) -> None:
    leftover = tmp_path / f"{SCRATCH_PREFIX}dead.db"
    leftover.write_bytes(b"sealed")
    running = DetailIndex(tmp_path)
    try:
        remove_leftovers(tmp_path)
        assert _scratch_files(tmp_path) == [Path(running.path or "")]
    finally:
        running.close()


def test_a_killed_import_leaves_nothing_readable_and_the_next_run_removes_it(
        tmp_path: Path) -> None:
    ledger_folder, private_tmp = tmp_path / "ledger", tmp_path / "tmp"
    ledger_folder.mkdir()
    private_tmp.mkdir()
    url = f"sqlite:///{ledger_folder / 'practice.db'}"
    env = {**os.environ, "TMPDIR": str(private_tmp), "PRACTICE_TZ": "UTC"}
    args = [url, str(LEGACY / "openemr"), str(tmp_path / "rejects.csv")]

    killed = subprocess.run([sys.executable, "-c", KILLED_IMPORT, *args], env=env,
                            check=False, capture_output=True)

    assert killed.returncode == -9
    assert list(private_tmp.iterdir()) == []  # nothing outside the ledger's folder
    [leftover] = _scratch_files(ledger_folder)
    assert NOTE.encode() not in leftover.read_bytes()
    with leftover.open("rb") as handle:  # nobody holds it: a leftover
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)

    again = subprocess.run([sys.executable, "-m", "practice_es", "--db", url, "migrate",
                            "import", args[1], "--format", "openemr", "--rejects", args[2]],
                           env=env, check=False, capture_output=True, text=True)

    assert again.returncode == 0, again.stderr
    assert _scratch_files(ledger_folder) == []
