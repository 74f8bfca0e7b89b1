"""Rows and documents as text: JSON, CSV a spreadsheet opens safely, and rich tables.

Below every reader and writer of output (the CLI, reports, the import summary).
"""

from __future__ import annotations

import csv
import io
import re
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
    """A rich table that fits the terminal: ids shown short (8 hex digits, which every
    command accepts) and never cut; text cut with an ellipsis when the row is too wide."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, header_style="bold")
    cells = [[_cell(column, row.get(column)) for column in columns] for row in rows]
    wanted = [max([len(column), *(len(row[i]) for row in cells)])
              for i, column in enumerate(columns)]
    out = console()
    widths = _fit(columns, wanted, out.width - 3 * len(columns) - 1)
    for column, width in zip(columns, widths, strict=True):
        table.add_column(column.replace("_", " "), no_wrap=True, overflow="ellipsis",
                         width=width)
    for row in cells:
        # Text, not markup: a name such as "[erased]" is shown, not read as a style tag.
        table.add_row(*(Text(cell) for cell in row))
    out.print(table)


def _fit(columns: Sequence[str], wanted: list[int], room: int) -> list[int | None]:
    """Column widths that fit `room` characters: ids whole (8 hex digits), the text columns
    sharing what is left, the narrowest first, each getting no more than it needs. None
    (rich's own sizing) when everything fits as it is."""
    if sum(wanted) <= room:
        return [None] * len(columns)
    ids = [i for i, column in enumerate(columns) if column.endswith(("_id", "_ids"))]
    widths: list[int | None] = [None] * len(columns)
    left = room
    for i in ids:
        widths[i] = max(8, min(wanted[i], 8 if columns[i].endswith("_id") else 17))
        left -= widths[i] or 0
    texts = sorted((i for i in range(len(columns)) if i not in ids), key=lambda i: wanted[i])
    for done, i in enumerate(texts):
        share = max(left // (len(texts) - done), 1)
        widths[i] = min(wanted[i], share)
        left -= widths[i] or 0
    return widths


def console() -> Any:
    """A rich console as wide as the terminal (or $COLUMNS); 160 columns into a pipe."""
    import os

    from rich.console import Console

    wide = sys.stdout.isatty() or "COLUMNS" in os.environ
    return Console(file=sys.stdout, width=None if wide else 160)


_UUID = re.compile(r"\b([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


def _cell(column: str, value: Any) -> str:
    """A cell's text; in an id column each id as its short id (projections.references)."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(str(plain(item)) for item in value)
    text = str(plain(value))
    if column.endswith(("_id", "_ids")):
        return _UUID.sub(r"\1", text)
    return text
