"""Rows and documents as text: JSON, CSV a spreadsheet opens safely, and rich tables.

Below every reader and writer of output (the CLI, reports, the import summary).
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import click
import orjson

FORMATS = ("table", "json", "csv")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def plain(value: Any) -> Any:
    """A value as it appears in JSON and CSV output."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def dumps(data: Any) -> str:
    return orjson.dumps(data, default=plain, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
                        ).decode()


def csv_safe(value: Any) -> Any:
    """Escape text a spreadsheet would run as a formula (`=cmd|…`): prefix it with '."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def emit_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str,
              title: str | None = None) -> None:
    if fmt == "json":
        click.echo(dumps([{c: plain(r.get(c)) for c in columns} for r in rows]))
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        # csv quotes a field holding "\n" but not a bare "\r", which a spreadsheet reads as a
        # new row (whose first cell could then be a formula): such a row is quoted whole.
        quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writerow(columns)
        for row in rows:
            cells = [csv_safe(plain(row.get(c))) for c in columns]
            carriage = any(isinstance(cell, str) and "\r" in cell for cell in cells)
            (quoted if carriage else writer).writerow(cells)
        click.echo(buffer.getvalue(), nl=False)
    else:
        print_table(rows, columns, title)


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[str],
                title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, header_style="bold")
    for column in columns:
        table.add_column(column.replace("_", " "))
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(plain(row.get(c))) for c in columns))
    Console(file=sys.stdout, width=None if sys.stdout.isatty() else 160).print(table)
