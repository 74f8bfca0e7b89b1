"""Lapses, recalls and reactivations: one row per event, so any period can count them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, DateTime, String, Table

from practice_es.domain.client import Client
from practice_es.domain.events import DomainEvent
from practice_es.projections.base import (
    Position,
    Projection,
    Write,
    inserting,
    local_time,
    optional_text_id,
    read_models,
    text_id,
)

client_marks = Table(
    "rm_client_marks",
    read_models,
    Column("position", Position, primary_key=True, autoincrement=False),
    Column("client_id", String(36), nullable=False, index=True),
    Column("kind", String(12), nullable=False, index=True),  # lapsed recall reactivated
    Column("happened_on", DateTime, nullable=False),
    Column("detail", String),  # recall: the channel; reactivated: the recall it names
)

_KINDS = {"Lapsed": "lapsed", "RecallSent": "recall", "Reactivated": "reactivated"}


class LapseLog(Projection):
    name = "lapses"
    version = 2  # 2: the position is SQLite's row id
    tables = (client_marks,)
    weight = 0.15
    topics = tuple(getattr(Client, e).TOPIC for e in _KINDS)
    reads_personal_of = frozenset()

    def prepare(self, conn: Connection, events: Sequence[tuple[int, DomainEvent]]) -> Write:
        return inserting(client_marks, [
            self._row(position, event) for position, event in events
            if type(event).__name__ in _KINDS
        ])

    @staticmethod
    def _row(position: int, event: DomainEvent) -> dict[str, Any]:
        detail: str | None = None
        if isinstance(event, Client.RecallSent):
            detail = event.channel
        elif isinstance(event, Client.Reactivated):
            detail = optional_text_id(event.recall_id)
        return {"position": position, "client_id": text_id(event.originator_id),
                "kind": _KINDS[type(event).__name__], "happened_on": local_time(event.occurred_on),
                "detail": detail}
