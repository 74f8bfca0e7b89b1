"""Scans made before recording: the order of slashed dates, and per client the first record
(for a layout with no client-since column) and the last appointment with an outcome (for a
layout whose bookings have no status: an open booking before it is a past one)."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from datetime import datetime, tzinfo
from typing import Any, Protocol
from uuid import UUID

from practice_es.domain.errors import InvalidInput
from practice_es.migration.clients import ClientIndex
from practice_es.migration.dates import SLASHED, check_order, slashed_order
from practice_es.migration.extract import AppointmentFields, HistoryFields, ProgramFields
from practice_es.migration.facts import midnight
from practice_es.migration.mapping import Mapping, Part
from practice_es.migration.reading import ExportFile
from practice_es.migration.rows import Appointment, HistoryRow, ProgramRow, TRow

OUTCOMES = ("completed", "cancelled", "no-show")


class Scanner(Protocol):
    """What the scans read the export through (the importer)."""

    mapping: Mapping
    clients: ClientIndex

    def file_of(self, part: Part | None) -> ExportFile | None: ...

    def rows(self, file: ExportFile, model: type[TRow], fields: Any, label: str,
             counting: bool = True) -> Iterator[tuple[int, TRow]]: ...


DATE_COLUMNS = ("date_of_birth", "died_on", "since", "start", "booked_on", "date", "stop")


def date_order(files: Sequence[ExportFile], mapping: Mapping, given: str | None) -> str | None:
    """`MM/DD/YYYY` or `DD/MM/YYYY` for slashed dates; None when the export has none."""
    if given:
        order = check_order(given)
        if given != "auto":
            return order
    elif mapping.date_format != "auto":
        return check_order(mapping.date_format)
    seen: list[str] = []
    values = _slashed_values(files, seen)
    try:
        order = slashed_order(values)
    finally:
        values.close()
    if order is None and seen:
        names = ", ".join(f.name for f in files)
        raise InvalidInput(
            "date-format", f"the dates of {names} could be read as MM/DD/YYYY or DD/MM/YYYY "
            f"(no day above 12, e.g. {seen[0]}): give --date-format MM/DD/YYYY or "
            "--date-format DD/MM/YYYY")
    return order


def _slashed_values(files: Sequence[ExportFile], seen: list[str]) -> Generator[str]:
    """Every slashed date of the export's date columns, until the caller has seen enough."""
    for file in files:
        columns = [file.column(c) for c in _date_columns(file.part)]
        if not columns:
            continue
        for _, row in file.rows():
            for index in columns:
                if index < len(row) and SLASHED.match(row[index]):
                    if not seen:
                        seen.append(row[index])
                    yield row[index]


def _date_columns(part: Part) -> list[str]:
    named = (getattr(part, name, None) for name in DATE_COLUMNS)
    found = [c for c in named if isinstance(c, str)]
    status = getattr(part, "status", None)
    if status is not None and status.cancelled_at:
        found.append(status.cancelled_at)
    return found


def first_and_last(importer: Scanner,
                   zone: tzinfo) -> tuple[dict[UUID, datetime], dict[UUID, datetime]]:
    """Per client: the first dated record (if the layout has no client-since column) and the
    start of the last appointment with an outcome (if its bookings may carry none)."""
    mapping = importer.mapping
    first: dict[UUID, datetime] = {}
    last: dict[UUID, datetime] = {}
    want_first = mapping.clients.since is None
    appointments = mapping.appointments
    want_last = appointments is not None and appointments.status.otherwise == "open"
    if not (want_first or want_last):
        return first, last

    def seen(client_key: str, on: datetime, table: dict[UUID, datetime], later: bool) -> None:
        entry = importer.clients.find(client_key)
        if entry is None or (entry.died_on is not None and on.date() > entry.died_on):
            return
        known = table.get(entry.client_id)
        if known is None or (on > known if later else on < known):
            table[entry.client_id] = on

    file = importer.file_of(appointments)
    if file is not None and appointments is not None:
        fields = AppointmentFields(file, appointments)
        for _, row in importer.rows(file, Appointment, fields, "scanning", counting=False):
            if want_first:
                seen(row.client_key, min(row.start, row.booked_on or row.start), first, False)
            if want_last and row.status in OUTCOMES:
                seen(row.client_key, row.start, last, True)
    if want_first:
        _first_in_other_parts(importer, zone, lambda key, on: seen(key, on, first, False))
    return first, last


def _first_in_other_parts(importer: Scanner, zone: tzinfo,
                          seen: Callable[[str, datetime], None]) -> None:
    mapping = importer.mapping
    history, programs = importer.file_of(mapping.history), importer.file_of(mapping.programs)
    if history is not None and mapping.history is not None:
        fields = HistoryFields(history, mapping.history)
        for _, row in importer.rows(history, HistoryRow, fields, "scanning", counting=False):
            seen(row.client_key, row.on)
    if programs is not None and mapping.programs is not None:
        plans = ProgramFields(programs, mapping.programs)
        for _, plan in importer.rows(programs, ProgramRow, plans, "scanning", counting=False):
            seen(plan.client_key, midnight(plan.start, zone))
