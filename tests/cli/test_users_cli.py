"""`practice user …` as the practice's owner uses it (SPEC §10)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from practice_es.commands.main import cli
from practice_es.infrastructure import users
from practice_es.infrastructure.store import parse_store_url
from tests.cli.helpers import BASE_ENV


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "HASH_SETTINGS",
                        {"time_cost": 1, "memory_cost": 8, "parallelism": 1})


def practice(db_url: str, *args: str, stdin: str = "") -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=stdin, prog_name="practice",
                                env={**BASE_ENV, "PRACTICE_DB": db_url})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_add_list_disable_and_set_a_password(db_url: str) -> None:
    assert practice(db_url, "init")[0] == 0
    assert practice(db_url, "user", "add", "maria", "--role", "front-desk",
                    "--password-stdin", stdin="a long passphrase\n")[:2] == (0, "maria\n")
    practice(db_url, "user", "add", "dr-lee", "--role", "practitioner", "--password-stdin",
             stdin="another passphrase\n")
    code, out, _ = practice(db_url, "user", "list")
    assert code == 0
    assert out.splitlines() == ["dr-lee\tpractitioner\tactive", "maria\tfront-desk\tactive"]
    book = users.UserBook(parse_store_url(db_url))
    try:
        assert book.sign_in("maria", "a long passphrase").user is not None
        assert practice(db_url, "user", "password", "maria", "--password-stdin",
                        stdin="a new passphrase!\n")[0] == 0
        assert book.sign_in("maria", "a long passphrase").user is None
        assert book.sign_in("maria", "a new passphrase!").user is not None
        assert practice(db_url, "user", "disable", "maria")[0] == 0
        assert book.sign_in("maria", "a new passphrase!").user is None
    finally:
        book.close()
    assert "maria\tfront-desk\tdisabled" in practice(db_url, "user", "list")[1]


def test_the_password_is_kept_as_an_argon2_hash_only(sqlite_url: str) -> None:
    practice(sqlite_url, "init")
    practice(sqlite_url, "user", "add", "maria", "--role", "owner", "--password-stdin",
             stdin="a long passphrase\n")
    path = parse_store_url(sqlite_url).path
    assert path is not None
    stored = path.read_bytes()
    assert b"a long passphrase" not in stored and b"$argon2id$" in stored


@pytest.mark.parametrize(("args", "stdin", "words"), [
    (("add", "maria", "--role", "nurse"), "a long passphrase\n", "nurse"),
    (("add", "Maria Smith", "--role", "owner"), "a long passphrase\n", "lower-case"),
    (("add", "maria", "--role", "owner"), "short\n", "at least 10"),
    (("disable", "nobody"), "", "no user 'nobody'"),
    (("password", "nobody"), "a long passphrase\n", "no user 'nobody'"),
])
def test_bad_input_is_exit_2_naming_the_field(sqlite_url: str, args: tuple[str, ...],
                                              stdin: str, words: str) -> None:
    practice(sqlite_url, "init")
    flags = ["--password-stdin"] if args[0] != "disable" else []
    code, out, err = practice(sqlite_url, "user", *args, *flags, stdin=stdin)
    assert code == 2, (out, err)
    assert words in err and out == ""


def test_a_second_user_of_the_same_name_is_refused(sqlite_url: str) -> None:
    practice(sqlite_url, "init")
    practice(sqlite_url, "user", "add", "maria", "--role", "owner", "--password-stdin",
             stdin="a long passphrase\n")
    code, _, err = practice(sqlite_url, "user", "add", "maria", "--role", "auditor",
                            "--password-stdin", stdin="a long passphrase\n")
    assert code == 2 and "already exists" in err


def test_no_ledger_no_user_and_no_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'typo.db'}"
    code, out, err = practice(url, "user", "add", "maria", "--role", "owner",
                              "--password-stdin", stdin="a long passphrase\n")
    assert code == 2 and "no ledger" in err and out == ""
    assert not (tmp_path / "typo.db").exists()
    assert practice(url, "serve")[0] == 2
