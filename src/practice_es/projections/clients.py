"""The client directory: who the practice's clients are, their status and last visit.

Keeps name, date of birth, e-mail and phone because `client list --search` finds clients by
them and an intake is checked against them (D1; ADR 0005): sealed when the ledger is encrypted
at rest, and `[erased]` once the client is erased. A correction (`EntryCorrected`) of one of
them is applied as the client aggregate applies it: unless a later entry has set it since.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import Column, Connection, Date, Integer, String, Table

from practice_es.domain.client import Client
from practice_es.domain.duplicates import KnownClient, same_person
from practice_es.domain.erasure import erased_state
from practice_es.domain.events import DomainEvent
from practice_es.projections.base import (
    Projection,
    Rows,
    Write,
    dispatch,
    read_models,
    text_id,
)
from practice_es.projections.personal import PersonalText

client_directory = Table(
    "rm_client_directory",
    read_models,
    Column("client_id", String(36), primary_key=True),
    Column("name", PersonalText, nullable=False),
    Column("date_of_birth", PersonalText),  # ISO 8601
    Column("email", PersonalText),
    Column("phone", PersonalText),
    Column("legacy_id", String, index=True),
    Column("status", String(16), nullable=False, index=True),
    Column("intake_on", Date, nullable=False),
    Column("last_visit_on", Date),
    Column("completed_visits", Integer, nullable=False),
    Column("referral_source", String(16)),
    Column("referrer", String),
    # The version of the client's entry that set each contact field (a correction of an
    # older entry than that one does not change it).
    Column("contact_set_at", String, nullable=False),
    # Not identifying alone, so kept in clear and through erasure: age bands (SPEC §12).
    Column("birth_year", Integer),
)
# The corrected fields the directory keeps (a correction's field name -> its column).
CONTACT = ("name", "date_of_birth", "email", "phone")


class ClientDirectory(Projection):
    name = "clients"
    version = 4  # 2: personal columns sealed at rest; ClientErased; 3: birth_year;
    # 4: corrections of name, birth, e-mail and phone; the date of birth
    tables = (client_directory,)
    weight = 0.6
    topics = tuple(
        getattr(Client, event).TOPIC
        for event in ("IntakeRecorded", "ContactUpdated", "VisitCompleted", "Lapsed",
                      "Reactivated", "ClientErased", "EntryCorrected")
    )
    reads_personal_of = frozenset(getattr(Client, event).TOPIC
                                  for event in ("IntakeRecorded", "ContactUpdated",
                                                "EntryCorrected"))

    def prepare(self, conn: Connection, events: Sequence[tuple[int, DomainEvent]]) -> Write:
        rows = Rows(client_directory, "client_id")
        rows.preload_touched(
            conn, (text_id(e.originator_id) for _, e in events),
            (text_id(e.originator_id) for _, e in events
             if isinstance(e, Client.IntakeRecorded)))
        for _, event in events:
            dispatch(self, event, rows)
        return rows.flush

    def _on_IntakeRecorded(self, rows: Rows, event: Client.IntakeRecorded) -> None:
        rows.add(text_id(event.originator_id), {
            "name": event.name, "email": event.email, "phone": event.phone,
            "date_of_birth": _iso(event.date_of_birth), "contact_set_at": "{}",
            "legacy_id": event.legacy_id, "status": "prospect",
            "intake_on": event.occurred_on.date(), "last_visit_on": None,
            "completed_visits": 0, "referral_source": event.referral_source,
            "referrer": event.referrer,
            "birth_year": event.date_of_birth.year if event.date_of_birth else None,
        })

    def _set(self, rows: Rows, event: DomainEvent, **values: Any) -> None:
        row = rows.get(text_id(event.originator_id))
        if row is not None:
            row.update(values)

    def _on_ContactUpdated(self, rows: Rows, event: Client.ContactUpdated) -> None:
        row = rows.get(text_id(event.originator_id))
        if row is None:
            return
        set_at = orjson.loads(row["contact_set_at"])
        for field in ("name", "email", "phone"):
            value = getattr(event, field)
            if value is not None:
                row[field] = value
                set_at[field] = event.originator_version
        row["contact_set_at"] = _dumps(set_at)

    def _on_EntryCorrected(self, rows: Rows, event: Client.EntryCorrected) -> None:
        """As `Client.apply_correction`: a field changes unless a later entry set it since."""
        changed = [f for f in CONTACT if f in event.changes]
        row = rows.get(text_id(event.originator_id)) if changed else None
        if row is None:
            return
        set_at = orjson.loads(row["contact_set_at"])
        for field in changed:
            if event.corrected_version >= set_at.get(field, 1):
                row[field] = event.changes[field]
                set_at[field] = event.corrected_version
        if "date_of_birth" in changed and set_at.get("date_of_birth") == event.corrected_version:
            born = row["date_of_birth"]
            row["birth_year"] = date.fromisoformat(born).year if born else None
        row["contact_set_at"] = _dumps(set_at)

    def _on_VisitCompleted(self, rows: Rows, event: Client.VisitCompleted) -> None:
        row = rows.get(text_id(event.originator_id))
        if row is None:
            return
        day = event.occurred_on.date()
        row["completed_visits"] += 1
        if row["last_visit_on"] is None or row["last_visit_on"] < day:
            row["last_visit_on"] = day
        if row["status"] == "prospect":
            row["status"] = "active"

    def _on_Lapsed(self, rows: Rows, event: DomainEvent) -> None:
        self._set(rows, event, status="lapsed")

    def _on_Reactivated(self, rows: Rows, event: DomainEvent) -> None:
        self._set(rows, event, status="active")

    def _on_ClientErased(self, rows: Rows, event: Client.ClientErased) -> None:
        """What a rebuild would read once the key is gone: what was given reads as erased,
        and the year of birth is the one the erasure kept."""
        row = rows.get(text_id(event.originator_id))
        if row is not None:
            row.update(erased_state(Client.State, {field: row[field] for field in CONTACT}),
                       status="erased", birth_year=event.birth_year)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _dumps(set_at: dict[str, int]) -> str:
    return orjson.dumps(set_at, option=orjson.OPT_SORT_KEYS).decode()


def find_clients(conn: Connection, status: str | None = None,
                 search: str | None = None) -> list[dict[str, Any]]:
    """The directory, filtered by status and by a search over name, e-mail, phone, legacy id.
    The search runs here, not in SQL: the personal columns may be sealed (ADR 5)."""
    from sqlalchemy import select

    query = select(client_directory)
    if status:
        query = query.where(client_directory.c.status == status)
    rows = [dict(row._mapping) for row in conn.execute(query)]
    if search:
        wanted = search.strip().lower()
        rows = [row for row in rows
                if any(wanted in (row[k] or "").lower()
                       for k in ("name", "email", "phone", "legacy_id"))]
    return sorted(rows, key=lambda row: (row["name"], row["client_id"]))


def clients_like(conn: Connection, name: str, date_of_birth: date | None,
                 email: str | None) -> list[KnownClient]:
    """The clients not erased who may be the same person (D1 decides): same name and date
    of birth, or same e-mail. Read in Python: the personal columns may be sealed (ADR 5)."""
    from sqlalchemy import select

    c = client_directory.c
    query = select(c.client_id, c.name, c.date_of_birth, c.email).where(c.status != "erased")
    found = (KnownClient(UUID(row.client_id), row.name,
                         date.fromisoformat(row.date_of_birth) if row.date_of_birth else None,
                         row.email) for row in conn.execute(query.order_by(c.client_id)))
    return [known for known in found if same_person(known, name, date_of_birth, email)]


def lapse_candidates(conn: Connection, as_of: Any, after_days: int) -> list[str]:
    """Clients who may have lapsed by `as_of` (the aggregate makes the final decision, C4)."""
    from sqlalchemy import func, select

    from practice_es.domain.days import days_before

    c = client_directory.c
    cutoff = days_before(as_of, after_days)
    since = func.coalesce(c.last_visit_on, c.intake_on)
    query = select(c.client_id).where(c.status.in_(("prospect", "active")), since < cutoff)
    return [row.client_id for row in conn.execute(query.order_by(c.client_id))]
