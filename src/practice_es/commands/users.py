"""`practice user …`: the people who sign in to the front desk, and their roles (SPEC §10)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from practice_es.commands.context import PracticeContext, pass_practice
from practice_es.commands.output import say

if TYPE_CHECKING:
    from practice_es.infrastructure.users import UserBook

ROLE_CHOICES = ("owner", "practitioner", "front-desk", "auditor")


@contextmanager
def user_book(practice: PracticeContext) -> Iterator[UserBook]:
    try:
        from practice_es.infrastructure.users import UserBook
    except ImportError as error:
        raise click.UsageError(f"the front desk is not installed ({error.name} is missing): "
                               "pip install 'practice-es[web]'") from None
    book = UserBook(practice.ledger().location)
    try:
        yield book
    finally:
        book.close()


def read_password(from_stdin: bool) -> str:
    """The first line of stdin, or asked twice without echo on a terminal."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@click.group()
def user() -> None:
    """Users of the front desk (`practice serve`): add, list, disable, set a password."""


@user.command()
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLE_CHOICES))
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin's first line.")
@pass_practice
def add(practice: PracticeContext, name: str, role: str, password_stdin: bool) -> None:
    """Add a user who signs in as NAME with a role."""
    with user_book(practice) as book:
        from practice_es.infrastructure.users import check_name

        check_name(name)
        book.add(name, role, read_password(password_stdin))
    click.echo(name)
    say(f"added {name} ({role})")


@user.command("list")
@pass_practice
def list_users(practice: PracticeContext) -> None:
    """The users, their roles and whether they are disabled."""
    with user_book(practice) as book:
        for found in book.all():
            click.echo(f"{found.name}\t{found.role}\t{'disabled' if found.disabled else 'active'}")


@user.command()
@click.argument("name")
@pass_practice
def disable(practice: PracticeContext, name: str) -> None:
    """Stop NAME signing in (their open sessions end at once)."""
    with user_book(practice) as book:
        book.disable(name)
    click.echo(name)


@user.command()
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin's first line.")
@pass_practice
def password(practice: PracticeContext, name: str, password_stdin: bool) -> None:
    """Set NAME's password (their open sessions end)."""
    with user_book(practice) as book:
        book.get(name)
        book.set_password(name, read_password(password_stdin))
    click.echo(name)
