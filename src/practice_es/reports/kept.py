"""What a report kept client by client needs: which clients an event touched, and queries
narrowed to some clients (a kept report re-reads only those, SPEC §10's report pages)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, TypeVar

from sqlalchemy import Column, Connection, Select, select, union

from practice_es.projections.programs import programs
from practice_es.projections.referrals import referrals

Q = TypeVar("Q", bound=Select[Any])


def among(query: Q, column: Column[Any], ids: list[str] | None) -> Q:
    """The query narrowed to rows of these clients (None: every client)."""
    return query if ids is None else query.where(column.in_(ids))


def clients_touched(conn: Connection, ids: Collection[str]) -> list[str]:
    """The clients whose figures events of these aggregates can change: a client's own id, a
    program's client, and a referral's client (referred out) or the client it became."""
    known = sorted(ids)
    if not known:
        return []
    p, r = programs.c, referrals.c
    found = conn.execute(union(
        select(p.client_id).where(p.program_id.in_(known)),
        select(r.client_id).where(r.referral_id.in_(known), r.client_id.is_not(None)),
        select(r.converted_client_id).where(r.referral_id.in_(known),
                                            r.converted_client_id.is_not(None)),
    )).scalars()
    return sorted(set(known) | set(found))
