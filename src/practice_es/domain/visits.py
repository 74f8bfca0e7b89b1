"""A client's past visits: which visits are closed, and when each completed one happened.

The record grows with the client's history, yet the rules read it rarely: V1 asks whether a
visit that is not scheduled is one that was closed (else it is unknown), a walk-in's id must be
new, and a correction that moves a completed visit's date works out the latest visit again.
So a snapshot keeps the record as one text, and a client loaded from it parses that text only
when a correction needs it whole: loading a client with 1,000 visits decodes no more than a
new client's state (ADR 16). A visit's presence is a search of the text, not a parse.

The text: `,HEX` for a visit cancelled or missed, `,HEX=ISO` for one completed on that
date-time (HEX: the visit id's 32 hex digits). A later entry of the same visit wins,
except that an entry without a date never replaces a completion date.

Most of it is archived: the store keeps the closings up to some version of the client in an
archive of their own, written once, and a snapshot only the text closed since, after `@` and
that version (`@1000,HEX=ISO…`). The archive is read when a rule asks about a visit that is
not in the recent text, or for the whole record (`archive_reader`, which the store sets on a
client it loads from a snapshot): an action on a busy client reads and writes a snapshot the
size of a new client's (ADR 26).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

# Reads the text of a client's archive written at a version (the store's, or a replay's).
ArchiveReader = Callable[[int], str]


class PastVisits:
    """Closed visits in the order they closed, each with the date-time it was completed, or
    None when it was cancelled or missed. Equal to another when they hold the same visits."""

    __slots__ = ("_archive", "_recent", "_text", "archive_reader", "archived")

    def __init__(self, text: str = "", archived: int | None = None) -> None:
        self._text = text  # what closed after the archive, as a snapshot stored it
        self._recent: dict[UUID, datetime | None] = {}  # closed since (all, once parsed)
        self.archived = archived  # the client's version the archive was written at, if any
        self.archive_reader: ArchiveReader | None = None
        self._archive: str | None = None  # its text, once read

    def __contains__(self, visit_id: object) -> bool:
        """Whether the visit is closed (cancelled, missed or completed)."""
        if not isinstance(visit_id, UUID):
            return False
        if visit_id in self._recent:
            return True
        entry = f",{visit_id.hex}"
        return entry in self._text or (self.archived is not None and entry in self._read())

    def close(self, visit_id: UUID) -> None:
        """A visit cancelled or missed; one already completed keeps its completion date (an
        entry without a date never replaces one with a date: no text to search here)."""
        self._recent.setdefault(visit_id, None)

    def complete(self, visit_id: UUID, on: datetime) -> None:
        self._recent[visit_id] = on

    def whole(self) -> dict[UUID, datetime | None]:
        """Every closed visit and its completion date (parses the texts once)."""
        if self._text or self.archived is not None:
            parsed: dict[UUID, datetime | None] = {}
            _merge(parsed, _parse(self.all_text(recent=False)))
            _merge(parsed, self._recent.items())
            self._text, self._recent, self.archived, self._archive = "", parsed, None, None
        return self._recent

    def ids(self) -> set[UUID]:
        return set(self.whole())

    def dates(self) -> dict[UUID, datetime]:
        """The completed visits and when each happened."""
        return {ident: on for ident, on in self.whole().items() if on is not None}

    def text(self) -> str:
        """What a snapshot stores: the archive's version, the text it was loaded from, and
        what closed since."""
        head = "" if self.archived is None else f"@{self.archived}"
        return head + self._text + _entries(self._recent)

    def all_text(self, recent: bool = True) -> str:
        """Every closing as one text, the archive's first (read if need be)."""
        archive = "" if self.archived is None else self._read()
        return archive + self._text + (_entries(self._recent) if recent else "")

    def unarchived(self) -> int:
        """How many closings are not in the archive (entries of a visit closed again count
        again: the text keeps them)."""
        return self._text.count(",") + len(self._recent)

    def archive(self, version: int) -> str:
        """Every closing moves into an archive written at `version`: its text, for the store
        to keep (the record itself is unchanged)."""
        text = self.all_text()
        self._text, self._recent, self.archived, self._archive = "", {}, version, text
        return text

    def _read(self) -> str:
        if self._archive is None:
            if self.archive_reader is None or self.archived is None:
                raise LookupError(f"the past visits archived at version {self.archived} "
                                  "cannot be read: the client was not loaded from a store")
            self._archive = self.archive_reader(self.archived)
        return self._archive

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PastVisits) and self.whole() == other.whole()

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"PastVisits({len(self.whole())} visits)"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any,
                                     handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        """In a state model: read from a snapshot's text, written as that text in JSON."""
        return core_schema.no_info_plain_validator_function(
            cls._validate, serialization=core_schema.plain_serializer_function_ser_schema(
                cls.text, when_used="json"))

    @classmethod
    def _validate(cls, value: object) -> PastVisits:
        if isinstance(value, PastVisits):
            return value
        if isinstance(value, str) and (not value or value.startswith(",")):
            return cls(value)
        if isinstance(value, str) and value.startswith("@"):
            version, comma, text = value[1:].partition(",")
            if version.isdigit():
                return cls(comma + text, int(version))
        raise ValueError("past visits are read from a snapshot's text")


def _merge(closed: dict[UUID, datetime | None],
           entries: Iterable[tuple[UUID, datetime | None]]) -> None:
    """Later entries win, except that one without a date never replaces a date."""
    for ident, on in entries:
        if on is not None or ident not in closed:
            closed[ident] = on


def _entries(closed: dict[UUID, datetime | None]) -> str:
    return "".join(f",{ident.hex}" if on is None else f",{ident.hex}={on.isoformat()}"
                   for ident, on in closed.items())


def _parse(text: str) -> Iterator[tuple[UUID, datetime | None]]:
    if not text:
        return
    for entry in text[1:].split(","):
        ident, _, on = entry.partition("=")
        yield UUID(hex=ident), datetime.fromisoformat(on) if on else None
