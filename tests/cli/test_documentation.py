"""Every command a user can type is documented: it has help text of its own, and README.md's
command list names it; and every command SPEC §3 names exists."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from practice_es.commands.main import cli

README = Path(__file__).resolve().parents[2] / "README.md"
SPEC_COMMANDS = {
    "client": {"intake", "assess", "clear", "update", "health", "show", "list",
               "lapse-sweep", "recall"},
    "program": {"recommend", "accept", "decline", "complete", "discontinue", "reevaluate"},
    "visit": {"schedule", "reschedule", "complete", "cancel", "no-show"},
    "referral": {"receive", "make", "outcome", "report"},
}


def commands(group: click.Group = cli, path: tuple[str, ...] = (),
             parent: click.Context | None = None) -> Iterator[tuple[str, click.Command]]:
    """Every command under `group`, as the user types it (`practice client intake`)."""
    context = click.Context(group, parent=parent, info_name=path[-1] if path else "practice")
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None, f"practice {' '.join((*path, name))} cannot be loaded"
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name), context)
        else:
            yield "practice " + " ".join((*path, name)), command


EVERY_COMMAND = dict(commands())


@pytest.mark.parametrize("typed", sorted(EVERY_COMMAND))
def test_a_command_has_help_text_of_its_own(typed: str) -> None:
    help_text = (EVERY_COMMAND[typed].help or "").strip()
    assert len(help_text) > 10, f"`{typed}` has no help text: give its function a docstring"


@pytest.mark.parametrize("typed", sorted(EVERY_COMMAND))
def test_readme_names_every_command(typed: str) -> None:
    assert f"`{typed}`" in README.read_text(encoding="utf-8"), (
        f"README.md does not name `{typed}`: add a line for it to the table under "
        "'### Every command'")


def test_readme_names_no_command_that_does_not_exist() -> None:
    listed = {line.split("`")[1] for line in README.read_text(encoding="utf-8").splitlines()
              if line.startswith("| `practice ")}
    assert listed <= set(EVERY_COMMAND), f"README.md lists commands that do not exist: " \
                                         f"{sorted(listed - set(EVERY_COMMAND))}"


def test_every_command_spec_section_3_names_exists() -> None:
    typed = {f"practice {group} {name}" for group, names in SPEC_COMMANDS.items()
             for name in names}
    assert typed <= set(EVERY_COMMAND), sorted(typed - set(EVERY_COMMAND))
    assert "practice init" in EVERY_COMMAND
