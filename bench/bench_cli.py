"""One CLI action from process start to exit, beside `python -c pass` and a bare import.

    python -m bench.bench_cli [--repeats 15] [--db URL --client ID]

The action is `practice client update CLIENT --phone …` (load the client, record one event,
catch the read models up), run through the installed `practice` script as a user runs it:
on a new ledger, or on the ledger and client given (the suite passes its imported ledger).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import Figure, child_env, median, print_table, timed

PRACTICE = str(Path(sys.executable).with_name("practice"))
TARGET_S = 0.3


def _seconds(args: list[str], env: dict[str, str]) -> float:
    seconds, _ = timed(lambda: subprocess.run(args, check=True, env=env,
                                              stdout=subprocess.DEVNULL))
    return seconds


def _samples(env: dict[str, str], client: str, repeats: int) -> dict[str, list[float]]:
    commands = {
        "pass": [sys.executable, "-c", "pass"],
        "import": [sys.executable, "-c", "import practice_es.commands.main"],
        "action": [PRACTICE, "client", "update", client, "--phone", "555"],
    }
    for args in commands.values():
        _seconds(args, env)  # compiles the bytecode once, as an installed package has it
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeats):  # interleaved: a burst of load elsewhere hits all three alike
        for name, args in commands.items():
            samples[name].append(_seconds(args, env))
    return samples


def run(repeats: int = 15, db_url: str | None = None, client: str | None = None,
        label: str = "a new ledger") -> list[Figure]:
    with tempfile.TemporaryDirectory() as folder:
        env = child_env({"PRACTICE_DB": db_url or f"sqlite:///{Path(folder) / 'cli.db'}",
                         "PRACTICE_ACTOR": "bench"})
        if client is None:
            client = subprocess.run([PRACTICE, "client", "intake", "--name", "Bench Client"],
                                    check=True, env=env, capture_output=True, text=True
                                    ).stdout.strip()
        samples = _samples(env, client, repeats)
    bare, imported, act = (median(samples[k]) for k in ("pass", "import", "action"))
    return [
        Figure("cli: bare import of practice_es.commands.main", imported, "s median",
               "python -c pass", bare),
        Figure(f"cli: one action (client update), {label}", act, "s median",
               "python -c pass", bare, target=f"< {TARGET_S} s", met=act < TARGET_S,
               extra={"vs_bare_import": act / imported, "samples": sorted(samples["action"])}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--db", help="a ledger's URL (default: a new one)")
    parser.add_argument("--client", help="a client of that ledger")
    args = parser.parse_args()
    print_table(run(args.repeats, args.db, args.client))


if __name__ == "__main__":
    main()
