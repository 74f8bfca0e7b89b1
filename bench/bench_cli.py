"""One CLI action from process start to exit, beside `python -c pass` and a bare import."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import Figure, median, timed

PRACTICE = [sys.executable, "-m", "practice_es"]


def _seconds(args: list[str], env: dict[str, str]) -> float:
    seconds, _ = timed(lambda: subprocess.run(args, check=True, env=env,
                                              stdout=subprocess.DEVNULL))
    return seconds


def run(repeats: int = 15) -> list[Figure]:
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "PRACTICE_DB": f"sqlite:///{Path(folder) / 'cli.db'}"}
        client = subprocess.run([*PRACTICE, "client", "intake", "--name", "Bench Client"],
                                check=True, env=env, capture_output=True, text=True
                                ).stdout.strip()
        action = [*PRACTICE, "client", "update", client, "--phone", "555"]
        samples = {
            "python -c pass": [_seconds([sys.executable, "-c", "pass"], env)
                               for _ in range(repeats)],
            "import practice_es.commands.main": [
                _seconds([sys.executable, "-c", "import practice_es.commands.main"], env)
                for _ in range(repeats)],
            "client update": [_seconds(action, env) for _ in range(repeats)],
        }
    bare, imported, act = (median(s) for s in samples.values())
    return [
        Figure("cli: bare import of the package", imported, "s median",
               "python -c pass", bare),
        Figure("cli: one action (client update)", act, "s median",
               "python -c pass", bare, target="< 0.3 s",
               extra={"vs_bare_import": act / imported}),
    ]
