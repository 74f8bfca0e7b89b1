"""A small disk of its own for a test: a tmpfs mounted (as root) for the test's length, and
filling it. A test skips only if a tmpfs cannot be mounted here."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def mounted_tmpfs(folder: Path, size: str) -> Iterator[Path]:
    folder.mkdir(exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                              str(folder)], capture_output=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def take_all_but(filler: Path, free_bytes: int) -> Path:
    """Fill the disk with `filler`, then give back `free_bytes`; the filler, to remove."""
    try:
        with filler.open("wb") as file:
            while True:
                file.write(b"\0" * 4096)
                file.flush()
    except OSError:
        pass
    with filler.open("r+b") as file:
        file.truncate(max(0, filler.stat().st_size - free_bytes))
    return filler
