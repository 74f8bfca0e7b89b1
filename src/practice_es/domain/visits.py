"""A client's past visits: which visits are closed, and when each completed one happened.

The record grows with the client's history, yet the rules read it rarely: V1 asks whether a
visit that is not scheduled is one that was closed (else it is unknown), a walk-in's id must be
new, and a correction that moves a completed visit's date works out the latest visit again.
So a snapshot keeps the record as one text, and a client loaded from it parses that text only
when a correction needs it whole: loading a client with 1,000 visits decodes no more than a
new client's state (ADR 16). A visit's presence is a search of the text, not a parse.

The text: `,HEX` for a visit cancelled or missed, `,HEX=ISO` for one completed on that
date-time (HEX: the visit id's 32 hex digits). A later entry of the same visit wins.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema


class PastVisits:
    """Closed visits in the order they closed, each with the date-time it was completed, or
    None when it was cancelled or missed. Equal to another when they hold the same visits."""

    __slots__ = ("_recent", "_text")

    def __init__(self, text: str = "") -> None:
        self._text = text  # as a snapshot stored it; parsed only by `whole`
        self._recent: dict[UUID, datetime | None] = {}  # closed since (all, once parsed)

    def __contains__(self, visit_id: object) -> bool:
        """Whether the visit is closed (cancelled, missed or completed)."""
        if not isinstance(visit_id, UUID):
            return False
        return visit_id in self._recent or f",{visit_id.hex}" in self._text

    def close(self, visit_id: UUID) -> None:
        """A visit cancelled or missed; one already closed keeps its completion date."""
        if visit_id not in self:
            self._recent[visit_id] = None

    def complete(self, visit_id: UUID, on: datetime) -> None:
        self._recent[visit_id] = on

    def whole(self) -> dict[UUID, datetime | None]:
        """Every closed visit and its completion date (parses the snapshot's text once)."""
        if self._text:
            parsed = dict(_parse(self._text))
            parsed.update(self._recent)
            self._text, self._recent = "", parsed
        return self._recent

    def ids(self) -> set[UUID]:
        return set(self.whole())

    def dates(self) -> dict[UUID, datetime]:
        """The completed visits and when each happened."""
        return {ident: on for ident, on in self.whole().items() if on is not None}

    def text(self) -> str:
        """What a snapshot stores: the text it was loaded from, and what closed since."""
        return self._text + "".join(
            f",{ident.hex}" if on is None else f",{ident.hex}={on.isoformat()}"
            for ident, on in self._recent.items())

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
        raise ValueError("past visits are read from a snapshot's text")


def _parse(text: str) -> Iterator[tuple[UUID, datetime | None]]:
    for entry in text[1:].split(","):
        ident, _, on = entry.partition("=")
        yield UUID(hex=ident), datetime.fromisoformat(on) if on else None
