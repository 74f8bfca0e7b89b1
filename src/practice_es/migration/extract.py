"""Picking a row's fields by the mapping: column positions worked out once per file.

The result is a plain dict for the row models of `rows.py`; statuses and pattern-matched
measures are read here, where the mapping's rules are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from practice_es.migration.mapping import (
    AppointmentsPart,
    ClientsPart,
    DetailsPart,
    HistoryPart,
    MeasureSource,
    ProgramsPart,
    StatusMapping,
    StatusValue,
)
from practice_es.migration.reading import ExportFile

TRUE = frozenset({"true", "t", "yes", "y", "1"})
_SEPARATORS = re.compile(r"[-_\s]+")


class BadShape(ValueError):
    """A row with more or fewer fields than its header."""


def normalise_label(text: str) -> str:
    """Status labels compare ignoring case, spaces, hyphens and underscores ("No-Show")."""
    compact = _SEPARATORS.sub(" ", text.casefold()).strip()
    return compact or text.strip()


class Picker:
    """The fields of one file's rows, by the header's column positions."""

    def __init__(self, file: ExportFile) -> None:
        self.file = file
        self.width = len(file.header)

    def at(self, column: str | None) -> int | None:
        return None if column is None else self.file.column(column)

    def each(self, columns: Sequence[str]) -> list[int]:
        return [self.file.column(c) for c in columns]

    def check(self, row: list[str]) -> None:
        if len(row) != self.width:
            raise BadShape(f"row: has {len(row)} fields where the header has {self.width}")

    @staticmethod
    def text(row: list[str], index: int | None) -> str:
        return "" if index is None else row[index].strip()

    @staticmethod
    def joined(row: list[str], indexes: list[int], separator: str = " ") -> str:
        if len(indexes) == 1:
            return row[indexes[0]].strip()
        return separator.join(v for v in (row[i].strip() for i in indexes) if v)


class MeasureReader:
    """One measure from a row: a number in a column, or the first group of a pattern."""

    def __init__(self, picker: Picker, source: MeasureSource) -> None:
        self.column = picker.file.column(source.column)
        self.pattern = re.compile(source.pattern, re.IGNORECASE) if source.pattern else None
        self.code = picker.at(source.code_column)
        self.codes = frozenset(source.codes)

    def __call__(self, row: list[str]) -> str | None:
        if self.code is not None and row[self.code].strip() not in self.codes:
            return None
        text = row[self.column].strip()
        if not text or self.pattern is None:
            return text or None
        found = self.pattern.search(text)
        return found.group(1) if found else None


def measure_readers(picker: Picker, sources: dict[str, MeasureSource]) -> dict[str, MeasureReader]:
    return {name: MeasureReader(picker, source) for name, source in sources.items()}


def read_all(readers: dict[str, MeasureReader], row: list[str]) -> dict[str, str]:
    return {name: value for name, read in readers.items() if (value := read(row)) is not None}


def split_list(text: str, separator: str) -> list[str]:
    return [item.strip() for item in text.split(separator) if item.strip()]


class ClientFields(Picker):
    def __init__(self, file: ExportFile, part: ClientsPart) -> None:
        super().__init__(file)
        self.part = part
        self.id = file.column(part.id)
        self.key = self.at(part.key)
        self.name = self.each(part.name)
        self.singles = {field: self.at(getattr(part, column))
                        for field, column in (("date_of_birth", "date_of_birth"),
                                              ("died_on", "died_on"), ("email", "email"),
                                              ("phone", "phone"), ("since", "since"),
                                              ("source_label", "referral_source"),
                                              ("referred_by", "referred_by"))}
        self.lists = {field: self.at(getattr(part, field))
                      for field in ("conditions", "medications", "contraindications")}

    def own_id(self, row: list[str]) -> str:
        return row[self.id].strip() if len(row) > self.id else ""

    def __call__(self, row: list[str]) -> dict[str, Any]:
        self.check(row)
        legacy_id = row[self.id].strip()
        fields: dict[str, Any] = {
            "legacy_id": legacy_id,
            "key": self.text(row, self.key) or legacy_id,
            "name": self.joined(row, self.name),
        }
        fields.update({f: row[i] for f, i in self.singles.items() if i is not None})
        separator = self.part.list_separator
        fields.update({f: split_list(row[i], separator)
                       for f, i in self.lists.items() if i is not None})
        return fields


class StatusReader:
    """An appointment's status (and its reason) by the mapping's values or rules."""

    def __init__(self, picker: Picker, mapping: StatusMapping) -> None:
        self.mapping = mapping
        self.column = picker.at(mapping.column)
        self.values = {normalise_label(label): (value if isinstance(value, StatusValue)
                                                else StatusValue(status=value))
                       for label, value in mapping.values.items()}
        self.rules = [(picker.file.column(rule.column), rule) for rule in mapping.rules]
        self.reason = picker.at(mapping.reason)
        self._known: dict[str, StatusValue | None] = {}  # labels repeat: read each once

    def __call__(self, row: list[str]) -> tuple[str, str | None]:
        status, reason = self._status(row)
        given = Picker.text(row, self.reason)
        if given:
            reason = self.mapping.reason_codes.get(given, given)
        return status, reason

    def _status(self, row: list[str]) -> tuple[str, str | None]:
        label = Picker.text(row, self.column)
        if label:
            found = self._known.get(label)
            if found is None:
                found = self._known[label] = self.values.get(normalise_label(label))
            if found is None:
                known = ", ".join(sorted(self.mapping.values))
                raise ValueError(f"status: '{label}' is not a known status ({known})")
            return found.status, found.reason
        for index, rule in self.rules:
            if _matches(row[index].strip(), rule.when):
                return rule.status, rule.reason
        if self.mapping.otherwise == "reject":
            raise ValueError("status: empty (the row says nothing of what happened)")
        return self.mapping.otherwise, None


def _matches(value: str, when: str | list[str]) -> bool:
    if when == "set":
        return bool(value)
    if when == "true":
        return value.casefold() in TRUE
    return normalise_label(value) in {normalise_label(w) for w in when}


class AppointmentFields(Picker):
    def __init__(self, file: ExportFile, part: AppointmentsPart) -> None:
        super().__init__(file)
        self.id = file.column(part.id)
        self.client = file.column(part.client)
        self.start = file.column(part.start)
        self.start_time = self.at(part.start_time)
        self.booked_on = self.at(part.booked_on)
        self.cancelled_at = self.at(part.status.cancelled_at)
        self.kind = self.each(part.kind)
        self.notes = self.each(part.notes)
        # Read when the file has the column: older exports of a layout often lack it.
        self.practitioner = self.at(part.practitioner if part.practitioner in file.header
                                    else None)
        self.status = StatusReader(self, part.status)
        self.measures = measure_readers(self, part.measures)

    def own_id(self, row: list[str]) -> str:
        return row[self.id].strip() if len(row) > self.id else ""

    def __call__(self, row: list[str]) -> dict[str, Any]:
        self.check(row)
        status, reason = self.status(row)
        return {  # an empty optional field is None, as the row model wants it
            "legacy_id": row[self.id].strip(), "client_key": row[self.client].strip(),
            "start_time": self.text(row, self.start_time), "start": row[self.start].strip(),
            "booked_on": self.text(row, self.booked_on) or None, "status": status,
            "reason": reason or None,
            "cancelled_at": self.text(row, self.cancelled_at) or None,
            "kind": self.joined(row, self.kind, " · ") or None,
            "notes": self.joined(row, self.notes, "; ") or None,
            "practitioner": self.text(row, self.practitioner) or None,
            "measures": read_all(self.measures, row),
        }


class DetailFields(Picker):
    """A row that adds to a visit; its key names the visit (see `DetailsPart.join`)."""

    def __init__(self, file: ExportFile, part: DetailsPart) -> None:
        super().__init__(file)
        self.part = part
        self.appointment = self.at(part.appointment)
        self.client = self.at(part.client)
        self.date = self.at(part.date)
        self.notes = self.each(part.notes)
        self.measures = measure_readers(self, part.measures)

    def own_id(self, row: list[str]) -> str:
        return self.text(row, self.appointment) if self.appointment is not None else ""

    def __call__(self, row: list[str]) -> dict[str, Any]:
        self.check(row)
        if self.part.join == "appointment":
            key = self.text(row, self.appointment)
        else:
            key = self.text(row, self.client)
        return {"key": key, "notes": self.joined(row, self.notes, "; "),
                "measures": read_all(self.measures, row),
                "day": self.text(row, self.date) if self.part.join == "client-day" else ""}


class HistoryFields(Picker):
    def __init__(self, file: ExportFile, part: HistoryPart) -> None:
        super().__init__(file)
        self.client = file.column(part.client)
        self.date = file.column(part.date)
        self.lists = {field: self.at(getattr(part, field))
                      for field in ("conditions", "medications", "contraindications")}

    def own_id(self, row: list[str]) -> str:
        return row[self.client].strip() if len(row) > self.client else ""

    def __call__(self, row: list[str]) -> dict[str, Any]:
        self.check(row)
        fields: dict[str, Any] = {"client_key": row[self.client], "on": row[self.date]}
        # One row, one entry: a condition's text is kept whole (Synthea's have no separator).
        fields.update({f: [row[i].strip()] if row[i].strip() else []
                       for f, i in self.lists.items() if i is not None})
        return fields


class ProgramFields(Picker):
    def __init__(self, file: ExportFile, part: ProgramsPart) -> None:
        super().__init__(file)
        self.id = file.column(part.id)
        self.client = file.column(part.client)
        self.start = file.column(part.start)
        self.stop = self.at(part.stop)
        self.description = self.each(part.description)
        self.reason = self.each(part.reason)

    def own_id(self, row: list[str]) -> str:
        return row[self.id].strip() if len(row) > self.id else ""

    def __call__(self, row: list[str]) -> dict[str, Any]:
        self.check(row)
        return {"legacy_id": row[self.id], "client_key": row[self.client],
                "start": row[self.start], "stop": self.text(row, self.stop),
                "description": self.joined(row, self.description),
                "reason": self.joined(row, self.reason)}
