"""The history as rich tables: one row per event, back-dated and corrected entries flagged,
then the client as then known."""

from __future__ import annotations

import json
import sys
from datetime import tzinfo
from typing import Any

from practice_es.audit.history import Entry, History, in_zone, notes

DETAIL_WIDTH = 60


def _when(moment: Any, zone: tzinfo | None = None) -> str:
    return str(in_zone(moment, zone).strftime("%Y-%m-%d %H:%M"))


def _details(entry: Entry) -> str:
    parts = [f"{k}={v if isinstance(v, str) else json.dumps(v)}"
             for k, v in entry.data().items() if v not in (None, [], {}, "")]
    text = " ".join(parts)
    return text if len(text) <= DETAIL_WIDTH else text[:DETAIL_WIDTH - 1] + "…"


def _state_rows(state: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for key, value in state.items():
        if key == "programs":
            value = "; ".join(f"#{p['number']} {p['phase']} {p['status']} ({p['visits']} visits)"
                              for p in value)
        elif key == "contact":
            value = ", ".join(v for v in value.values() if v)
        elif isinstance(value, list):
            value = ", ".join(str(v) if not isinstance(v, dict) else v.get("at", "")
                              for v in value)
        rows.append((key.replace("_", " "), "" if value in (None, "") else str(value)))
    return rows


def print_history(history: History, zone: tzinfo | None = None) -> None:
    """The history's times in `zone` (the practice's), when given."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 200)
    as_of = f" as of {history.as_of.isoformat()}" if history.as_of else ""
    table = Table(title=f"History of client {history.client_id}{as_of}", header_style="bold")
    for column in ("#", "recorded", "occurred", "actor", "aggregate", "v", "event", "details",
                   "notes"):
        table.add_column(column)
    flagged = notes(history)
    for entry in history.entries:
        event, marks = entry.event, flagged.get(entry.position, [])
        style = "yellow" if any(m.startswith("back-dated") for m in marks) else None
        cells = (str(entry.position), _when(event.timestamp, zone),
                 _when(event.occurred_on, zone),
                 event.actor, f"{entry.aggregate} {str(event.originator_id)[:8]}",
                 str(event.originator_version), entry.name, _details(entry), ", ".join(marks))
        # Text, not markup: what a user typed must never be read as rich's [style] tags.
        table.add_row(*(Text(cell) for cell in cells), style=style)
    console.print(table)
    if history.state is None:
        console.print("The client was not yet recorded at that moment.")
        return
    known = Table(title="The client as then known", show_header=False)
    known.add_column("field", style="bold")
    known.add_column("value")
    for key, value in _state_rows(history.state):
        known.add_row(key, Text(value))
    console.print(known)
