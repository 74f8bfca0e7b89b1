"""Personal text in read models: sealed when the ledger is encrypted at rest (ADR 5).

A column of type `PersonalText` holds a person's name, contact or health text. Its engine
carries the ledger's cell cipher (`attach_cells`); with one, values are sealed on the way in
and opened on the way out, so every reader gets plain text and the database file holds none.
Such columns cannot be searched or ordered in SQL: readers filter them in Python.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Dialect, Engine, String
from sqlalchemy.types import TypeDecorator

from practice_es.infrastructure.crypto import CellCipher

_ATTRIBUTE = "practice_cells"


def attach_cells(engine: Engine, cells: CellCipher | None) -> None:
    """Give the engine's read-model columns the ledger's cell cipher (None: plain text)."""
    setattr(engine.dialect, _ATTRIBUTE, cells)


def _cells(dialect: Dialect) -> CellCipher | None:
    return getattr(dialect, _ATTRIBUTE, None)


def is_sealed(conn: Connection) -> bool:
    return sealing(conn.dialect)


def sealing(dialect: Dialect) -> bool:
    """Whether the engine of this dialect seals personal text."""
    return _cells(dialect) is not None


class PersonalText(TypeDecorator[str]):
    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        cells = _cells(dialect)
        return value if value is None or cells is None else cells.seal_text(str(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        cells = _cells(dialect)
        return value if value is None or cells is None else cells.open_text(value)
