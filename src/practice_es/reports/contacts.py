"""How to reach each client a list names: name, phone and e-mail from the client directory
(as last corrected or updated), for every client not erased."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, select

from practice_es.projections.clients import client_directory


class Contacts:
    """The practice's clients not erased, by id. Erased clients are on no list: there is
    nobody to call, and their details read as `[erased]` anyway."""

    def __init__(self, people: dict[str, dict[str, Any]]) -> None:
        self.people = people

    def __contains__(self, client_id: object) -> bool:
        return client_id in self.people

    def of(self, client_id: str) -> dict[str, Any]:
        """The client's id, name, phone and e-mail, as a list row starts."""
        return {"client_id": client_id, **self.people[client_id]}

    def name(self, client_id: str) -> str:
        return str(self.people[client_id]["name"])


def contacts(conn: Connection, ids: list[str] | None = None) -> Contacts:
    """Every client not erased (or those of `ids`)."""
    c = client_directory.c
    query = select(c.client_id, c.name, c.phone, c.email).where(c.status != "erased")
    if ids is not None:
        query = query.where(c.client_id.in_(ids))
    return Contacts({row.client_id: {"name": row.name, "phone": row.phone, "email": row.email}
                     for row in conn.execute(query)})


def referrer_label(conn: Connection, kind: str | None, referrer: str | None) -> str | None:
    """Who referred, as a person reads it: a client who referred by their name (`[erased]`
    once erased), anyone else by the key recorded."""
    if kind != "client" or not referrer:
        return referrer
    from uuid import UUID

    try:
        ident = str(UUID(referrer.strip()))
    except ValueError:
        return referrer
    c = client_directory.c
    row = conn.execute(select(c.name).where(c.client_id == ident)).first()
    return str(row.name) if row is not None else referrer


_ID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


def named_clients(conn: Connection, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries whose summary names a client by id (an intake "source client <id>", a
    referral from a client) name them as people do: by name (`[erased]` once erased)."""
    ids = {found for entry in entries for found in _ID.findall(entry["summary"] or "")}
    if not ids:
        return entries
    c = client_directory.c
    names = {row.client_id: row.name for row in conn.execute(
        select(c.client_id, c.name).where(c.client_id.in_(sorted(ids))))}
    if not names:
        return entries
    return [{**entry, "summary": _ID.sub(lambda m: names.get(m.group(0), m.group(0)),
                                         entry["summary"])} if entry["summary"] else entry
            for entry in entries]
