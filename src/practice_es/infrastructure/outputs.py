"""Files a command writes for the user (a rejects CSV, a chart): never an input of the same
command, never through a symbolic link, owner-only (they may hold health data), and whole or
not at all: written to a temporary file beside the target, then renamed over it."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from practice_es.domain.errors import InvalidInput


def check_output(option: str, target: Path, inputs: Iterable[Path] = ()) -> Path:
    """The target, if a command may write it; else InvalidInput naming the option."""
    try:
        found = target.lstat()
    except FileNotFoundError:
        found = None
    if found is not None and stat.S_ISLNK(found.st_mode):
        raise InvalidInput(option, f"{target} is a symbolic link: not followed, not replaced")
    if found is not None and not stat.S_ISREG(found.st_mode):
        raise InvalidInput(option, f"{target} is not a regular file")
    if not target.parent.is_dir():
        raise InvalidInput(option, f"the folder {target.parent} does not exist")
    if _is_an_input(target, inputs):
        raise InvalidInput(option, f"{target} is one of the files this command reads")
    return target


def _is_an_input(target: Path, inputs: Iterable[Path]) -> bool:
    resolved = target.resolve()
    for given in inputs:
        source = given.resolve()
        if resolved == source:
            return True
        if source.is_dir() and resolved.parent == source and resolved.exists():
            return True  # a file of an export folder (the importer may read it)
    return False


class Replacement:
    """A temporary owner-only file beside the target (mode 0600, whatever the umask), renamed
    over the target by `commit`: a failed write leaves the old file, or none."""

    def __init__(self, target: Path) -> None:
        self.target = target
        handle, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}",
                                        dir=target.parent)
        os.close(handle)
        self.path = Path(name)

    def commit(self) -> None:
        with open(self.path, "rb+") as file:
            os.fsync(file.fileno())
        os.replace(self.path, self.target)  # replaces a link itself, never what it points to

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()


@contextlib.contextmanager
def replaced(target: Path) -> Iterator[Path]:
    """A path to write the whole output to; it replaces `target` if the block succeeds."""
    replacement = Replacement(target)
    try:
        yield replacement.path
        replacement.commit()
    except BaseException:
        replacement.discard()
        raise
