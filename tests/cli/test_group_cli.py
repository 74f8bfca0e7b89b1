"""`practice group …` and `--practice`: many practices on one PostgreSQL, each its own ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.helpers import Practice


def test_a_practice_added_is_listed_and_selected_by_name(group_url: str) -> None:
    group = Practice(group_url)
    assert group.ok("group", "add", "north-clinic") == "north-clinic"
    assert group.ok("group", "add", "south-2") == "south-2"

    listed = json.loads(group.ok("group", "list", "--format", "json"))
    assert [p["practice"] for p in listed] == ["north-clinic", "south-2"]

    ann = group.new("--practice", "north-clinic", "client", "intake", "--name", "Ann Lee")
    north = json.loads(group.ok("--practice", "north-clinic", "client", "list",
                                "--format", "json"))
    south = json.loads(group.ok("--practice", "south-2", "client", "list", "--format", "json"))
    assert [c["client_id"] for c in north] == [ann]
    assert south == []


def test_the_environment_selects_a_practice_too(group_url: str) -> None:
    Practice(group_url).ok("group", "add", "east")
    east = Practice(group_url, env={"PRACTICE_PRACTICE": "east"})
    ann = east.new("client", "intake", "--name", "Ann Lee")
    assert json.loads(east.ok("client", "list", "--format", "json"))[0]["client_id"] == ann


def test_each_practice_has_its_own_hash_chain(group_url: str) -> None:
    group = Practice(group_url)
    group.ok("group", "add", "a")
    group.ok("group", "add", "b")
    group.new("--practice", "a", "client", "intake", "--name", "Ann Lee")
    verified_a = group.run("--practice", "a", "audit", "verify")
    verified_b = group.run("--practice", "b", "audit", "verify")
    assert verified_a.exit_code == verified_b.exit_code == 0
    assert verified_a.stdout != verified_b.stdout  # one event against none


@pytest.mark.parametrize("name", ["North", "a_b", "-north", "a b", "clinique-é", "", "x" * 41])
def test_a_name_that_is_not_a_slug_is_exit_2(group_url: str, name: str) -> None:
    run = Practice(group_url).run("group", "add", "--", name)
    assert run.exit_code == 2
    assert "slug" in run.stderr
    assert json.loads(Practice(group_url).ok("group", "list", "--format", "json")) == []


def test_a_name_of_40_characters_is_a_slug(group_url: str) -> None:
    name = "a" * 20 + "-" + "9" * 19
    assert Practice(group_url).ok("group", "add", name) == name
    assert Practice(group_url).new("--practice", name, "client", "intake", "--name", "Ann")


def test_adding_a_practice_twice_is_exit_2(group_url: str) -> None:
    group = Practice(group_url)
    group.ok("group", "add", "west")
    run = group.run("group", "add", "west")
    assert run.exit_code == 2
    assert "already" in run.stderr


def test_an_unknown_practice_is_exit_2_and_names_how_to_add_it(group_url: str) -> None:
    run = Practice(group_url).run("--practice", "nowhere", "client", "list")
    assert run.exit_code == 2
    assert "group add nowhere" in run.stderr


def test_on_sqlite_a_practice_is_a_file(tmp_path: Path) -> None:
    ledger = tmp_path / "practice.db"
    sqlite = Practice(f"sqlite:///{ledger}", init=False)
    for args in (("--practice", "north", "client", "list"), ("group", "add", "north"),
                 ("group", "list")):
        run = sqlite.run(*args)
        assert run.exit_code == 2, args
        assert "on SQLite a practice is a file" in run.stderr
    assert not ledger.exists()
