"""Every projection the ledger keeps, by name."""

from __future__ import annotations

from practice_es.projections.base import Projection
from practice_es.projections.clients import ClientDirectory


def all_projections() -> list[Projection]:
    return [ClientDirectory()]
