"""The process's own machinery: starting a child interpreter, and holding the collector back.

Every child process of ours is started by `start_python`: a new interpreter, never a fork, so
it opens its own connections and never shares the parent's. Only the standard library is
imported here (an action imports it to start its follower).
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from subprocess import DEVNULL
from typing import IO

Stream = int | IO[bytes] | None  # as `subprocess.Popen` takes stdin, stdout and stderr


def start_python(module: str, *, stdin: Stream = DEVNULL, stdout: Stream = DEVNULL,
                 stderr: Stream = None, env: dict[str, str] | None = None,
                 detached: bool = False, pass_fds: Sequence[int] = ()
                 ) -> subprocess.Popen[bytes]:
    """`python -m module` in a new interpreter that imports from this process's import path
    (PYTHONPATH), so it runs the same code, installed or not. Its arguments show in any
    user's process listing: the cipher key and a database password go on its stdin or in
    `env` (else this process's environment). `detached`: in a session of its own, so it
    outlives this process and its terminal."""
    path = os.pathsep.join(entry for entry in sys.path if entry not in ("", "."))
    env = {**(os.environ if env is None else env), "PYTHONPATH": path}
    return subprocess.Popen([sys.executable, "-m", module], stdin=stdin, stdout=stdout,
                            stderr=stderr, env=env, start_new_session=detached,
                            close_fds=True, pass_fds=tuple(pass_fds))


@contextmanager
def rare_collections(young: int | None) -> Iterator[None]:
    """For work that makes millions of short-lived objects while it holds many long-lived
    ones (a catch-up, an import): the collector's default thresholds would sweep the same
    objects again and again. The heap so far is frozen out of its sight, and it collects by
    itself only after `young` new objects (never, if None: the work collects the young
    generations itself with `gc.collect(1)` where it knows cycles were made). Reference
    counting still frees everything else at once. Restored after."""
    thresholds, enabled = gc.get_threshold(), gc.isenabled()
    gc.freeze()
    if young is None:
        gc.disable()
    else:
        gc.set_threshold(max(thresholds[0], young), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        if enabled:
            gc.enable()
        gc.unfreeze()
