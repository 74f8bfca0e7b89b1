"""Referrals in (sources) and out (providers), and care reports sent: the referral balance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Boolean, Column, Connection, DateTime, String, Table

from practice_es.domain.events import DomainEvent
from practice_es.domain.referral import Referral
from practice_es.projections.base import (
    Position,
    Projection,
    Rows,
    Write,
    dispatch,
    insert_all,
    local_time,
    read_models,
    text_id,
    topics_of,
)

referrals = Table(
    "rm_referrals",
    read_models,
    Column("referral_id", String(36), primary_key=True),
    Column("direction", String(3), nullable=False),  # in, out
    Column("source_kind", String(16)),  # in: client, doctor, advertising, …
    Column("referrer", String, index=True),  # in: the normalised referrer key
    Column("received_on", DateTime),
    Column("converted_client_id", String(36), index=True),
    Column("converted_on", DateTime),
    Column("provider", String, index=True),  # out: the normalised provider key
    Column("client_id", String(36), index=True),  # out: the client referred
    Column("made_on", DateTime),
    Column("cleared", Boolean),
)

care_reports = Table(
    "rm_care_reports",
    read_models,
    Column("position", Position, primary_key=True, autoincrement=False),
    Column("referral_id", String(36), nullable=False),
    Column("provider", String, index=True),
    Column("client_id", String(36)),
    Column("sent_on", DateTime, nullable=False),
)

_EMPTY: dict[str, Any] = {
    "direction": None, "source_kind": None, "referrer": None, "received_on": None,
    "converted_client_id": None, "converted_on": None, "provider": None, "client_id": None,
    "made_on": None, "cleared": None,
}


class ReferralBook(Projection):
    name = "referrals"
    version = 3  # 2: a care report's position is SQLite's row id; 3: reports back (in)
    tables = (referrals, care_reports)
    weight = 0.4
    topics = topics_of(Referral)
    reads_personal_of = frozenset()

    def prepare(self, conn: Connection, events: Sequence[tuple[int, DomainEvent]]) -> Write:
        rows = Rows(referrals, "referral_id")
        rows.preload_touched(conn, (text_id(e.originator_id) for _, e in events),
                             (text_id(e.originator_id) for _, e in events
                              if _creates(e)))
        reports: list[dict[str, Any]] = []
        for position, event in events:
            if isinstance(event, Referral.CareReportSent):
                reports.append(self._report(rows, position, event))
            else:
                dispatch(self, event, rows)

        def write(conn: Connection) -> None:
            rows.flush(conn)
            insert_all(conn, care_reports, reports)

        return write

    def _on_ReferralReceived(self, rows: Rows, event: Referral.ReferralReceived) -> None:
        rows.add(text_id(event.originator_id), {
            **_EMPTY, "direction": "in", "source_kind": event.source_kind,
            "referrer": event.referrer, "received_on": local_time(event.occurred_on),
        })

    def _on_ReferralConverted(self, rows: Rows, event: Referral.ReferralConverted) -> None:
        row = rows.get(text_id(event.originator_id))
        if row is not None:
            row.update(converted_client_id=text_id(event.client_id),
                       converted_on=local_time(event.occurred_on))

    def _on_ReferralMade(self, rows: Rows, event: Referral.ReferralMade) -> None:
        rows.add(text_id(event.originator_id), {
            **_EMPTY, "direction": "out", "provider": event.provider,
            "client_id": text_id(event.client_id), "made_on": local_time(event.occurred_on),
        })

    def _on_ReferralOutcomeRecorded(self, rows: Rows,
                                    event: Referral.ReferralOutcomeRecorded) -> None:
        row = rows.get(text_id(event.originator_id))
        if row is not None:
            row["cleared"] = event.cleared

    @staticmethod
    def _report(rows: Rows, position: int, event: Referral.CareReportSent) -> dict[str, Any]:
        row = rows.peek(text_id(event.originator_id)) or _EMPTY
        inbound = row["direction"] == "in"  # a report back to the provider who referred
        return {"position": position, "referral_id": text_id(event.originator_id),
                "provider": row["referrer"] if inbound else row["provider"],
                "client_id": row["converted_client_id"] if inbound else row["client_id"],
                "sent_on": local_time(event.occurred_on)}


def _creates(event: DomainEvent) -> bool:
    return isinstance(event, Referral.ReferralReceived | Referral.ReferralMade)
