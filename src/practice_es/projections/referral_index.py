"""Which inbound referrals name a given referrer: lets `audit history` find the referrals a
client made without scanning the log."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import Column, Connection, String, Table, select

from practice_es.domain.events import DomainEvent
from practice_es.domain.keys import normalise_key
from practice_es.domain.referral import Referral
from practice_es.projections.base import Projection, Write, inserting, read_models, text_id

referrers = Table(
    "rm_referrers",
    read_models,
    Column("referral_id", String(36), primary_key=True),
    Column("referrer", String, nullable=False, index=True),
)


def referrer_key(text: str) -> str:
    """A client id however it was typed (upper case, no dashes) is one key; others normalised."""
    try:
        return str(UUID(text.strip()))
    except ValueError:
        return normalise_key(text)


class ReferrerIndex(Projection):
    name = "referrers"
    version = 1
    tables = (referrers,)
    weight = 0.05
    topics = (Referral.ReferralReceived.TOPIC,)
    reads_personal_of = frozenset()

    def prepare(self, conn: Connection, events: Sequence[tuple[int, DomainEvent]]) -> Write:
        return inserting(referrers, [{"referral_id": text_id(event.originator_id),
                 "referrer": referrer_key(event.referrer)}
                for _, event in events if isinstance(event, Referral.ReferralReceived)])


def referrals_made_by(conn: Connection, client_id: UUID) -> list[UUID]:
    """The inbound referrals whose referrer is this client."""
    query = select(referrers.c.referral_id).where(referrers.c.referrer == str(client_id))
    return [UUID(row.referral_id) for row in conn.execute(query.order_by(referrers.c.referral_id))]
