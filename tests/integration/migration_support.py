"""Helpers for the migration tests: importing a fixture export, and reading the ledger back."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any
from uuid import UUID

from practice_es.migration.importer import ImportRequest, import_export
from practice_es.migration.mapping import Mapping, load_preset
from practice_es.migration.summary import ImportSummary
from tests.conftest import opened

LEGACY = Path(__file__).resolve().parents[1] / "fixtures" / "legacy"
Event = tuple[UUID, int, str, str]  # originator, version, topic, state without record time


def run_import(db_url: str, layout: str | Path, tmp_path: Path, mapping: Mapping | None = None,
               **options: Any) -> ImportSummary:
    """Import a fixture layout (or a folder) with its preset (or the given mapping)."""
    folder = LEGACY / layout if isinstance(layout, str) else layout
    chosen = mapping or load_preset(str(layout))
    request = ImportRequest(paths=(folder,), mapping=chosen,
                            rejects=tmp_path / f"rejects-{chosen.name}.csv", **options)
    with opened(db_url) as ledger:
        return import_export(ledger, request)


def stored_events(db_url: str) -> list[Event]:
    """Every stored event, decoded (personal fields are sealed with a fresh nonce each time,
    so stored bytes differ between two runs: the decoded state is what must be the same)."""
    found: list[Event] = []
    with opened(db_url) as ledger:
        start = 1
        while page := ledger.recorder.select_notifications(start=start, limit=5000):
            for stored in page:
                event = ledger.mapper.to_domain_event(stored)
                state = event.model_dump(exclude={"timestamp"})  # type: ignore[attr-defined]
                found.append((stored.originator_id, stored.originator_version, stored.topic,
                              repr(sorted(state.items()))))
            start = page[-1].id + 1
    return found


def stored_states(db_url: str) -> list[tuple[UUID, int, str, str, str]]:
    """Every stored state as the mapper wrote it: its keys in their stored order with the
    sealed block's owner and fields, then its values (opened), the record time left out."""
    found: list[tuple[UUID, int, str, str, str]] = []
    with opened(db_url) as ledger:
        sealer = ledger.mapper.sealer  # type: ignore[attr-defined]
        start = 1
        while page := ledger.recorder.select_notifications(start=start, limit=5000):
            for stored in page:
                state = ledger.mapper.decode_state(stored)  # type: ignore[attr-defined]
                block = state.get("_sealed")
                shape = repr((list(state), block and (block["o"], block["f"])))
                sealer.open(stored.topic, stored.originator_id, stored.originator_version,
                            state)
                del state["timestamp"]
                found.append((stored.originator_id, stored.originator_version, stored.topic,
                              shape, repr(sorted(state.items()))))
            start = page[-1].id + 1
    return found


def decoded(db_url: str) -> list[Any]:
    with opened(db_url) as ledger:
        notes = ledger.recorder.select_notifications(start=1, limit=1_000_000)
        return [ledger.mapper.to_domain_event(n) for n in notes]


def topics(db_url: str) -> Counter[str]:
    return Counter(topic.rsplit(".", 1)[-1] for _, _, topic, _ in stored_events(db_url))


def csv_rows(layout: str, name: str) -> list[dict[str, str]]:
    """A fixture file's rows, read with the csv module (independently of the importer)."""
    path = LEGACY / layout / name
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig") if raw.startswith(b"\xef\xbb\xbf") else raw.decode("utf-8")
    return list(csv.DictReader(text.splitlines()))


def rejects(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))
