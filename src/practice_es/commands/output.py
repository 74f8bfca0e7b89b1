"""Printing: ids on stdout for scripts, messages on stderr, JSON and CSV for analysts."""

from __future__ import annotations

from typing import Any

import click

from practice_es.infrastructure.formats import (
    FORMATS,
    csv_safe,
    dumps,
    emit_rows,
    plain,
    print_table,
)

__all__ = ["FORMATS", "csv_safe", "dumps", "emit_result", "emit_rows", "plain", "print_table",
           "say"]


def emit_result(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(dumps({k: plain(v) for k, v in result.items()}))
        return
    first = next(iter(result.values()))
    if isinstance(first, list):
        for item in first:
            click.echo(plain(item))
    else:
        click.echo(plain(first))


def say(message: str) -> None:
    click.echo(message, err=True)
